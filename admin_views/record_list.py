"""Big staff lists rendered in one pass.

Flask-Admin renders a list row by row through Jinja macros: a delete form with its own CSRF
token per row, two or three ``url_for`` calls per row, every cell through ``get_list_value``.
On the record list that was nine tenths of the page's cost. ``FastListView`` keeps Flask-Admin's
list (filters, search, sort, pagination, page sizes, bulk actions, export) and writes only the
table's rows itself:

- each row's links are one base URL (built once per page) plus the row's id;
- the per-row delete button submits the page's one delete form (HTML's ``form=`` attribute);
- each cell is a small function of the row, made once per page (``list_cells``), with
  Flask-Admin's column and type formatters as the fallback;
- the page loads only the columns it shows (``list_load_only``);
- the count is ``count(*)``, which SQLite answers from an index's page headers, where
  Flask-Admin's ``count('*')`` (a bound value) makes it read every row;
- the per-row delete form Flask-Admin builds for each page is built only if a row uses it,
  and the bulk actions' form has labels of its own (its fields are hidden): neither makes
  WTForms load its translations on every page;
- the page's own addresses (pager, sort, page sizes: some twenty-five) are the list's address,
  built once, plus their query string, rather than one ``url_for`` each;
- on PostgreSQL an unfiltered list above ``estimate_count_above`` rows shows the planner's
  estimate of the total instead of counting every row;
- with ``list_page_cache``, a page rendered is kept per sign-in until a record or the office
  changes (admin_views.list_cache).
"""

from __future__ import annotations

import typing as t
from urllib.parse import quote, urlencode

from flask import request, url_for
from flask_admin.model.template import DeleteRowAction, EditRowAction, ViewRowAction
from markupsafe import Markup, escape
from sqlalchemy import BigInteger, case, cast, column, func, select, table, text
from sqlalchemy.orm import Query, load_only
from werkzeug.datastructures import iter_multi_items
from wtforms import HiddenField

from admin_views import list_cache
from admin_views.base import StaffModelView
from models import db

#: A cell: the row in, the cell's HTML (already escaped) out.
Cell = t.Callable[[t.Any], str]

_ICONS = {ViewRowAction: "fa fa-eye", EditRowAction: "fa fa-pencil"}
_PG_CLASS = table("pg_class", column("oid"), column("reltuples"))


class ListPage:
    """What every row of one page shares, worked out once: base URLs, the return address."""

    def __init__(self, view: StaffModelView, return_url: str, rows: t.Sequence[t.Any] = ()) -> None:
        self.view = view
        self.return_url = return_url
        #: The page's rows, for cells that read something of all of them in one query.
        self.rows = rows
        back = quote(return_url, safe="")
        self.details_url = url_for(".details_view") + "?id="
        self.details_back_url = f"{url_for('.details_view')}?url={back}&id="
        self.edit_back_url = f"{url_for('.edit_view')}?url={back}&id="


class FastListView(StaffModelView):
    """A model view whose list page renders its rows in one pass (see the module's text)."""

    list_template = "admin/model/fast_list.html"

    #: Model attributes the list page loads (besides the primary key); None loads whole rows.
    #: Name every attribute the shown columns read, or each row costs one more query (the
    #: query-count tests catch that).
    list_load_only: tuple[str, ...] | None = None

    #: Whether each row has Flask-Admin's "view" button. A list whose name column already
    #: links to the row's page can leave it out: the same link twice per row, for nothing.
    list_view_button = True

    #: On PostgreSQL, an unfiltered list whose table the planner thinks holds more rows than
    #: this shows that estimate ("about 100,000") rather than counting every row per page.
    #: Only for a view that lists its whole table (None, the default: always count).
    estimate_count_above: int | None = None

    #: Whether the searched columns have trigram indexes on PostgreSQL (the records': migration
    #: 0018). A search then sorts its matches by an expression no index serves, so the planner
    #: reads the trigram indexes and sorts what matched: ordered by the bare column, it walks
    #: the sort's index filtering row by row until a page matches (80,000 rows, a quarter of
    #: a second, for "smith" in a list sorted by name).
    search_uses_trigrams = False
    #: ...while the search matches fewer rows than this (the page's count says): a term that
    #: matches most of the table fills a page fastest by walking the sort's index.
    trigram_sort_below = 10_000

    #: Whether a rendered page of the list is kept per sign-in until a record or the office
    #: changes (admin_views.list_cache). Only for a list of what those versions follow: not
    #: the activity log or the outbox, whose rows renew no version.
    list_page_cache = False

    def _handle_view(self, name: str, **kwargs: t.Any) -> t.Any:
        refused = super()._handle_view(name, **kwargs)
        if refused is not None or name != "index_view" or not self.list_page_cache:
            return refused
        return list_cache.serve_or_watch()

    def list_cells(self, page: ListPage) -> dict[str, Cell]:
        """Cells written for speed, by column name; other columns use Flask-Admin's
        formatters (``column_formatters``, then ``column_type_formatters``)."""
        return {}

    # -- loading ----------------------------------------------------------------------------

    def _listing(self) -> bool:
        return request.endpoint == f"{self.endpoint}.index_view"

    def get_query(self) -> t.Any:
        query = super().get_query()
        if self.list_load_only is not None and self._listing():
            query = query.options(self._load_only())
        return query

    def _load_only(self) -> t.Any:
        # Built once per view: an option is immutable, and building it is a query's worth of
        # work on every page.
        option = self.__dict__.get("_list_load_option")
        if option is None:
            attrs = self.model.__mapper__.attrs
            names = self.list_load_only or ()
            option = load_only(*(attrs[name].class_attribute for name in names))
            self.__dict__["_list_load_option"] = option
        return option

    def _order_by(
        self,
        query: t.Any,
        joins: t.Any,
        sort_joins: t.Any,
        sort_field: t.Any,
        sort_desc: bool,
    ) -> t.Any:
        if sort_field is None or not self._searching_by_trigrams():
            return super()._order_by(query, joins, sort_joins, sort_field, sort_desc)
        query, joins, alias = self._apply_path_joins(query, joins, sort_joins, inner_join=False)
        column = sort_field if alias is None else getattr(alias, sort_field.key)
        opaque = func.coalesce(column, column)  # the same order, but no index's
        return query.order_by(opaque.desc() if sort_desc else opaque), joins

    def _searching_by_trigrams(self) -> bool:
        return (
            self.search_uses_trigrams
            and self._listing()
            and bool(request.args.get("search", "").strip())
            and db.session.get_bind().dialect.name == "postgresql"
            and request.environ.get(_MATCHED_KEY, self.trigram_sort_below) < self.trigram_sort_below
        )

    def get_count_query(self) -> t.Any:
        exact = _Counted([func.count()], db.session()).select_from(self.model)
        if not (self._estimable() and self._listing() and not _narrowed(request.args)):
            return exact
        return _CountOrEstimate(db.session, exact, self.model.__table__.name, self._above())

    def delete_form(self) -> t.Any:
        # The list's rows share one delete form of the page's own (fast_list.html): the form
        # Flask-Admin builds for its rows is built only on the fallback path, which reads it.
        if self._listing():
            return _Lazy(super().delete_form)
        return super().delete_form()

    def get_action_form(self) -> t.Any:
        form = super().get_action_form()
        # Hidden, so never shown; a field without a label asks WTForms to translate its name.
        form.action = HiddenField(label="")
        form.url = HiddenField(label="")
        return form

    def _above(self) -> int:
        return int(self.estimate_count_above or 0)

    def _estimable(self) -> bool:
        return (
            self.estimate_count_above is not None
            and db.session.get_bind().dialect.name == "postgresql"
        )

    def _get_list_url(self, view_args: t.Any) -> str:
        """Flask-Admin's address of the list with ``view_args`` (same arguments, same
        order, same encoding as its ``url_for``), from the list's address built once."""
        known = request.environ.setdefault(_LIST_URLS_KEY, {})
        base = known.get(self.endpoint)
        if base is None:
            base = known[self.endpoint] = self.get_url(".index_view")
        args = {
            "page": view_args.page or None,
            "sort": view_args.sort,
            "desc": 1 if view_args.sort_desc else None,
            "search": view_args.search,
        }
        args.update(view_args.extra_args)
        args["page_size"] = self.get_safe_page_size(view_args.page_size)
        args.update(self._get_filters(view_args.filters))
        query = urlencode(
            [(key, value) for key, value in iter_multi_items(args) if value is not None],
            safe=_QUERY_SAFE,
        )
        return f"{base}?{query}" if query else base

    # -- rendering --------------------------------------------------------------------------

    def render(self, template: str, **kwargs: t.Any) -> t.Any:
        if template == self.list_template and "data" in kwargs:
            rows = self.render_rows(
                kwargs["data"], kwargs["return_url"], kwargs["list_columns"], context=kwargs
            )
            if rows is not None:
                kwargs["rows_html"] = rows
            kwargs["count_estimated"] = request.environ.get(_ESTIMATED_KEY, False)
        return super().render(template, **kwargs)

    def render_rows(
        self,
        data: t.Sequence[t.Any],
        return_url: str,
        list_columns: t.Sequence[t.Any],
        context: t.Mapping[str, t.Any] | None = None,
    ) -> Markup | None:
        """The table's rows, or None when a row action is one this renderer does not know
        (the page then falls back to Flask-Admin's own rows). ``context`` is what the page's
        template gets; column formatters read it as they would the template's context."""
        page = ListPage(self, return_url, data)
        buttons = self._row_buttons(page)
        if buttons is None:
            return None
        fast = self.list_cells(page)
        cells = [
            (f'<td class="col-{name}">', fast.get(name) or self._formatted_cell(name, context))
            for name, _label in list_columns
        ]
        pk = self.get_pk_value
        checkbox = (
            '<td><input type="checkbox" name="rowid" class="action-checkbox" value="{}"'
            f' title="{escape(_select_title())}"></td>'
            if self.get_actions_list()[0]
            else ""
        )
        out = []
        for row in data:
            key = escape(pk(row))
            out.append("<tr>")
            if checkbox:
                out.append(checkbox.format(key))
            if buttons:
                out.append('<td class="list-buttons-column">')
                out.append(buttons.replace("\0", key))
                out.append("</td>")
            for opening, cell in cells:
                out.append(opening)
                out.append(cell(row))
                out.append("</td>")
            out.append("</tr>\n")
        # Every value above went through escape(); the rest is this function's own markup.
        return Markup("".join(out))  # noqa: S704

    def _row_buttons(self, page: ListPage) -> str | None:
        """One row's buttons with "\\0" for its id, or None for an unknown row action."""
        if not self.column_display_actions:
            return ""
        parts = []
        for row_action in self.get_list_row_actions():
            title = escape(str(row_action.title or ""))
            kind = type(row_action)
            if kind is DeleteRowAction:
                # "Delete Record?": the button's own (translated) title as its question, fifty
                # times shorter than Flask-Admin's sentence on every page.
                parts.append(
                    '<button form="pt-row-delete" name="id" value="\0" class="btn btn-link'
                    f' p-0" data-pt-confirm="{title}?" title="{title}">'
                    '<span class="fa fa-trash"></span></button>'
                )
                continue
            if kind not in _ICONS:
                return None
            if kind is ViewRowAction and not self.list_view_button:
                continue
            base = page.details_back_url if kind is ViewRowAction else page.edit_back_url
            parts.append(
                f'<a class="icon" href="{escape(base)}\0" title="{title}">'
                f'<span class="{_ICONS[kind]}"></span></a>'
            )
        return "".join(parts)

    def _formatted_cell(self, name: str, context: t.Mapping[str, t.Any] | None) -> Cell:
        """Flask-Admin's own way to show a column, minus its per-cell lookups."""
        formatter = self.column_formatters.get(name)
        if formatter is not None:
            return lambda row: escape(formatter(self, context, row, name))
        by_type = self.column_type_formatters
        path = name.split(".")

        def cell(row: t.Any) -> str:
            value = row
            for part in path:
                value = getattr(value, part, None)
                if value is None:
                    break
            shown = by_type.get(type(value))
            return escape(shown(self, value, name) if shown else value)

        return cell


class _Lazy:
    """An object built on first use (an attribute read), then stood in for."""

    def __init__(self, build: t.Callable[[], t.Any]) -> None:
        self._build = build
        self._built: t.Any = None

    def __getattr__(self, name: str) -> t.Any:
        if self._built is None:
            self._built = self._build()
        return getattr(self._built, name)


def _select_title() -> str:
    from flask_admin.babel import gettext

    return str(gettext("Select record"))


def _narrowed(args: t.Any) -> bool:
    """Whether the address filters or searches the list."""
    return any(value and (key == "search" or key.startswith("flt")) for key, value in args.items())


_ESTIMATED_KEY = "portico.count_estimated"
_LIST_URLS_KEY = "portico.list_urls"
_MATCHED_KEY = "portico.list_matched"


class _Counted(Query):
    """The list's count query, which remembers its answer for the request (Flask-Admin counts
    before it sorts, and the sort of a search depends on how much it matched)."""

    def scalar(self) -> t.Any:
        value = super().scalar()
        request.environ[_MATCHED_KEY] = value
        return value


#: What Werkzeug leaves unquoted in a query string (the URL standard's safe characters).
_QUERY_SAFE = "!$'()*,/:;?@"


class _CountOrEstimate:
    """Flask-Admin's count query, answered in one statement: the planner's estimate of the
    table's rows when it is above ``above`` (a count of 100,000 rows costs more than the rest
    of the page), the exact count otherwise (and always when the table was never analysed:
    its estimate is then -1)."""

    def __init__(self, session: t.Any, exact: t.Any, table_name: str, above: int) -> None:
        self.session = session
        self.exact = exact
        self.table_name = table_name
        self.above = above

    def scalar(self) -> int:
        estimate = (
            select(cast(_PG_CLASS.c.reltuples, BigInteger))
            .where(_PG_CLASS.c.oid == text("CAST(:table_name AS regclass)"))
            .scalar_subquery()
        )
        big = estimate > self.above
        statement = select(case((big, estimate), else_=self.exact.scalar_subquery()), big).params(
            table_name=self.table_name
        )
        count, estimated = self.session.execute(statement).one()
        request.environ[_ESTIMATED_KEY] = bool(estimated)
        return int(count)
