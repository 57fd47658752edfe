"""CSV exports of the staff panel: what clients typed cannot run as a spreadsheet formula."""

import csv
import io
from decimal import Decimal

import pytest

from admin_views.base import spreadsheet_safe
from app.services import activity
from models import db
from tests import factories

ATTACKS = {
    '=HYPERLINK("http://evil.example","Click")': '\'=HYPERLINK("http://evil.example","Click")',
    "@SUM(1+1)*cmd|' /C calc'!A0": "'@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1": "'+1+1",
    "-1+1": "'-1+1",
    "\t=1+1": "'\t=1+1",
    "\r=1+1": "'\r=1+1",
}


@pytest.mark.parametrize(("typed", "exported"), ATTACKS.items())
def test_formula_starts_are_neutralised(typed, exported):
    assert spreadsheet_safe(typed) == exported


@pytest.mark.parametrize(
    "value", [12, -12, 1.5, Decimal("-125.40"), "-12.50", "+16145550101", "Smith", "", None, True]
)
def test_numbers_and_plain_text_stay_as_they_are(value):
    assert spreadsheet_safe(value) == value


def _rows(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_every_export_of_the_panel_is_neutralised(app, admin_client):
    with app.app_context():
        record = factories.record(
            first_name='=HYPERLINK("http://evil.example","Click")',
            last_name="@SUM(A1:A9)",
            company_name="+1+1",
            city="-1+1",
            state="\t=cmd",
        )
        factories.product(record, plan_name="=1+1", policy_number="-2+3", premium=Decimal("125.5"))
        factories.task(title="@SUM(1)", record_obj=record)
        activity.append(
            event_key="staff.tags.changed",
            actor_kind="staff",
            actor_label="=evil()",
            summary="\r=evil()",
            record_id=record.id,
            record_label=record.display_name,
        )
        db.session.commit()

    exports = {
        "record": _rows(admin_client.get("/admin/record/export/csv/")),
        "product": _rows(admin_client.get("/admin/product/export/csv/")),
        "task": _rows(admin_client.get("/admin/task/export/csv/")),
        "activity": _rows(admin_client.get("/admin/activity/export/csv/")),
    }
    for name, rows in exports.items():
        cells = [cell for row in rows[1:] for cell in row]
        assert cells, name
        for cell in cells:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), (name, cell)
            assert not (cell.startswith("-") and not cell[1:].replace(".", "").isdigit()), (
                name,
                cell,
            )
    record_cells = exports["record"][1]
    assert '\'=HYPERLINK("http://evil.example","Click")' in record_cells
    assert "'+1+1" in record_cells and "'-1+1" in record_cells and "'\t=cmd" in record_cells
    assert "125.50" in exports["product"][1]
    assert "'-2+3" in exports["product"][1]


def test_the_record_export_keeps_every_column_the_list_page_does_not_load(
    app, agent_client, count_queries
):
    """The list page loads only the columns it shows; the export, from the same view and the
    same filters, search and sort, still has every exported column, at a fixed cost."""
    with app.app_context():
        for n in range(3):
            factories.record(first_name="Exa", last_name=f"Port{n}", city=f"Town {n}")
        factories.record(first_name="Other", last_name="Person", city="Portland")
    url = "/admin/record/export/csv/?search=Port&sort=0&desc=1&flt0_kind_is=client"
    rows = _rows(agent_client.get(url))
    header = rows[0]
    names = [row[header.index("Name")] for row in rows[1:]]
    assert names == ["Exa Port2", "Exa Port1", "Exa Port0"]
    assert [row[header.index("City")] for row in rows[1:]] == ["Town 2", "Town 1", "Town 0"]
    with count_queries() as few:
        agent_client.get(url)
    with app.app_context():
        for n in range(3, 30):
            factories.record(first_name="Exa", last_name=f"Port{n}", city=f"Town {n}")
    with count_queries() as many:
        assert len(_rows(agent_client.get(url))) == 31
    assert few.count == many.count
