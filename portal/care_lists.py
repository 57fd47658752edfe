"""Prescriptions and providers: lists the client keeps, as pages and as JSON under
``/portal/api/<list>``, validated by the same forms. Each list is a portal module the office
can switch off: its pages and JSON routes are gone then (404)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.services import care_lists
from app.services.errors import NotFound
from app.services.validation import format_phone
from portal import bp, openapi
from portal.api import error, form_errors, read_body
from portal.forms import CARE_FORMS
from portal.guards import client_required, module_enabled
from portal.navigation import client_screen
from portal.openapi import WRITE_ERRORS, Reply, ref
from portal.schemas import form_schema
from portal.session import client_actor

LIST_KEY = f"<any({', '.join(care_lists.LISTS)}):list_key>"


def _module(list_key: str, **_ignored: Any) -> str:
    return list_key  # each list is a portal module of its own name


def _lists() -> list[str]:
    return list(care_lists.LISTS)


def describe(care: care_lists.CareList, entry: Any) -> str:
    """The entry's details after its name (not its notes), phones as people read them."""
    parts = []
    for name, _label in care.columns[1:-1]:
        value = getattr(entry, name)
        if value:
            parts.append(format_phone(value) if name == "phone" else str(value))
    return ", ".join(parts)


def _page(care: care_lists.CareList, form: Any) -> Any:
    return render_template(
        "portal/care_list.html",
        care=care,
        form=form,
        entries=care_lists.entries(care, g.portal_record),
        describe=describe,
    )


def _entry_or_404(care: care_lists.CareList, entry_id: int) -> Any:
    """The signed-in client's entry; another client's is as missing as one that never was."""
    try:
        return care_lists.get_entry(care, g.portal_record, entry_id)
    except NotFound:
        abort(404)


for _list_key, _care in care_lists.LISTS.items():

    @module_enabled(_list_key)
    def _view(care: care_lists.CareList = _care) -> Any:
        return _page(care, CARE_FORMS[care.key](formdata=None))

    _view.__name__ = f"care_list_{_list_key}"
    client_screen(f"/{_list_key}")(_view)


@bp.post(f"/{LIST_KEY}")
@client_required
@module_enabled(_module)
def add_care_entry(list_key: str) -> Any:
    care = care_lists.LISTS[list_key]
    form = CARE_FORMS[list_key]()
    if not form.validate_on_submit():
        return _page(care, form), 200
    care_lists.add(care, g.portal_record, form.data, client_actor())
    flash(_("Added %(entry)s.", entry=form.data[care.columns[0][0]]), "success")
    return redirect(url_for(f"portal.care_list_{list_key}"))


@bp.route(f"/{LIST_KEY}/<int:entry_id>", methods=["GET", "POST"])
@client_required
@module_enabled(_module)
def edit_care_entry(list_key: str, entry_id: int) -> Any:
    care = care_lists.LISTS[list_key]
    entry = _entry_or_404(care, entry_id)
    form = CARE_FORMS[list_key](obj=entry)
    if form.validate_on_submit():
        if care_lists.update(care, g.portal_record, entry, form.data, client_actor()):
            flash(_("Saved %(entry)s.", entry=entry), "success")
        return redirect(url_for(f"portal.care_list_{list_key}"))
    return render_template("portal/care_entry.html", care=care, form=form, entry=entry)


@bp.route(f"/{LIST_KEY}/<int:entry_id>/delete", methods=["GET", "POST"])
@client_required
@module_enabled(_module)
def delete_care_entry(list_key: str, entry_id: int) -> Any:
    """GET asks first (a page, so it works without scripts); POST from that page removes."""
    care = care_lists.LISTS[list_key]
    entry = _entry_or_404(care, entry_id)
    if request.method == "GET":
        return render_template("portal/care_remove.html", care=care, entry=entry, describe=describe)
    name = str(entry)  # the CSRF token was checked before the view ran
    care_lists.remove(care, g.portal_record, entry, client_actor())
    flash(_("Removed %(entry)s.", entry=name), "success")
    return redirect(url_for(f"portal.care_list_{list_key}"))


# -- JSON ---------------------------------------------------------------------------------------


def _body(list_key: str) -> dict[str, Any]:
    """An entry as the form reads it; "id" is what GET answered: sending an entry back as it
    came is fine (it is ignored)."""
    care = care_lists.LISTS[list_key]
    return form_schema(
        CARE_FORMS[list_key], title=care.title, read_only={"id": {"type": "integer"}}
    )


for _care in care_lists.LISTS.values():
    _columns: dict[str, Any] = {name: {"type": ["string", "null"]} for name, _ in _care.columns}
    openapi.component(
        f"{_care.key}_entry",
        {
            "type": "object",
            "required": [*_columns, "id"],
            "properties": {**_columns, "id": {"type": "integer"}},
        },
    )


def _entry_json(care: care_lists.CareList, entry: Any) -> dict[str, Any]:
    return {"id": entry.id, **{name: getattr(entry, name) for name, _ in care.columns}}


def _item(list_key: str) -> str:
    return care_lists.LISTS[list_key].item


@bp.get(f"/api/{LIST_KEY}")
@openapi.operation(
    "get",
    lambda list_key: f"The client's {care_lists.LISTS[list_key].title.lower()}",
    replies={
        200: Reply(
            "The list",
            lambda list_key: {
                "type": "object",
                "required": [list_key],
                "properties": {list_key: {"type": "array", "items": ref(f"{list_key}_entry")}},
            },
        )
    },
)
@openapi.each(list_key=_lists)
@client_required
@module_enabled(_module)
def api_care_list(list_key: str) -> Any:
    care = care_lists.LISTS[list_key]
    return jsonify(
        {list_key: [_entry_json(care, e) for e in care_lists.entries(care, g.portal_record)]}
    )


@bp.post(f"/api/{LIST_KEY}")
@openapi.operation(
    "post",
    lambda list_key: f"Add a {_item(list_key)}",
    body=_body,
    body_name="{list_key}",
    replies={
        201: Reply(
            "Added",
            lambda list_key: f"{list_key}_entry",
            headers={
                "Location": {
                    "description": "The new entry",
                    "required": True,
                    "schema": {"type": "string"},
                }
            },
        )
    },
    errors=WRITE_ERRORS,
)
@openapi.each(list_key=_lists)
@client_required
@module_enabled(_module)
def api_care_add(list_key: str) -> Any:
    care = care_lists.LISTS[list_key]
    body, refused = read_body(openapi.request_schema())
    if body is None:
        return refused
    form = CARE_FORMS[list_key].from_json(body, meta={"csrf": False})
    if not form.validate():
        return form_errors(form)
    entry = care_lists.add(care, g.portal_record, form.data, client_actor())
    response = jsonify(_entry_json(care, entry))
    response.status_code = 201
    response.headers["Location"] = url_for(
        "portal.api_care_entry", list_key=list_key, entry_id=entry.id
    )
    return response


@bp.route(f"/api/{LIST_KEY}/<int:entry_id>", methods=["GET", "PATCH", "DELETE"])
@openapi.operation(
    "get",
    lambda list_key: f"One {_item(list_key)}",
    replies={200: Reply("The entry", lambda list_key: f"{list_key}_entry")},
)
@openapi.operation(
    "patch",
    lambda list_key: f"Change a {_item(list_key)}",
    body=_body,
    body_name="{list_key}",
    replies={200: Reply("Saved", lambda list_key: f"{list_key}_entry")},
    errors=WRITE_ERRORS,
)
@openapi.operation(
    "delete",
    lambda list_key: f"Remove a {_item(list_key)}",
    replies={204: Reply("Removed")},
    errors=(400, 401, 404),
)
@openapi.each(list_key=_lists)
@client_required
@module_enabled(_module)
def api_care_entry(list_key: str, entry_id: int) -> Any:
    care = care_lists.LISTS[list_key]
    try:
        entry = care_lists.get_entry(care, g.portal_record, entry_id)
    except NotFound as exc:
        return error(404, str(exc))
    if request.method == "GET":
        return jsonify(_entry_json(care, entry))
    if request.method == "DELETE":
        care_lists.remove(care, g.portal_record, entry, client_actor())
        return "", 204
    body, refused = read_body(openapi.request_schema())
    if body is None:
        return refused
    data = {**_entry_json(care, entry), **body}
    data.pop("id", None)
    form = CARE_FORMS[list_key].from_json(data, meta={"csrf": False})
    if not form.validate():
        return form_errors(form)
    care_lists.update(care, g.portal_record, entry, form.data, client_actor())
    return jsonify(_entry_json(care, entry))
