"""The workflow page counts in words that agree with the number: "1 run stopped"."""

import re

from sqlalchemy import select

from app.services import workflows
from models import WorkflowRun, db
from tests import factories
from tests.views.test_admin_workflows import _quoted_workflow


def _cards(html):
    return [
        " ".join(re.sub(r"<[^>]+>", " ", card).split())
        for card in re.findall(
            r'<span class="h3 mb-0">.*?</span><span class="text-muted">.*?</span>', html
        )
    ]


def test_the_summary_says_one_run_not_one_runs(app, admin_client):
    flow_id, coverage_id = _quoted_workflow(app)
    with app.app_context():
        record = factories.record(first_name="Una")
        factories.product(record, coverage_type_id=coverage_id)
        workflows.evaluate([record.id])
        db.session.commit()
        run = db.session.scalar(select(WorkflowRun))
        workflows.cancel_run(run, "stopped by staff")
        db.session.commit()

    html = admin_client.get(f"/admin/workflow/details/?id={flow_id}").get_data(as_text=True)
    assert _cards(html) == [
        "0 records in it now",
        "0 runs completed",
        "1 run stopped",
        "1 record matches now",
    ]
