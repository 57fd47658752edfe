"""Demo campaigns: the two workflows agencies run most, with their message templates.

"Quote follow-up" (leads and clients with a quoted Medicare Advantage product) and "Annual
review" (clients tagged AEP Review Needed), ready to watch, copy and adapt in the staff panel.
Added once, by name and key: seeding again leaves alone what an office changed or removed.
The templates' text lives in ``app.services.campaign_templates``; they are added the way the
staff panel's "Sample campaign templates" page adds them.
"""

from __future__ import annotations

from datetime import time

from sqlalchemy import select

from app.services import campaign_templates, workflows
from models import (
    ActionKind,
    ActionTarget,
    CoverageType,
    DelayUnit,
    ProductStatus,
    Tag,
    Workflow,
    WorkflowAction,
    db,
)


def _step(amount: int, unit: DelayUnit, kind: ActionKind, **values: object) -> WorkflowAction:
    return WorkflowAction(delay_amount=amount, delay_unit=unit, kind=kind, **values)


def seed_campaigns() -> dict[str, int]:
    """Add the demo templates and workflows that are missing; returns how many were added."""
    added = {"templates": len(campaign_templates.add_samples()), "workflows": 0}

    names = set(db.session.scalars(select(Workflow.name)))
    advantage = db.session.scalar(
        select(CoverageType).where(CoverageType.name == "Medicare Advantage")
    )
    aep = db.session.scalar(select(Tag).where(Tag.name == "AEP Review Needed"))
    weekdays = {"window_days": "01234", "window_start": time(8), "window_end": time(20)}
    if "Quote follow-up: Medicare Advantage" not in names and advantage is not None:
        flow = Workflow(
            name="Quote follow-up: Medicare Advantage",
            active=True,
            for_leads=True,
            for_clients=True,
            product_status=ProductStatus.QUOTED,
            coverage_type_id=advantage.id,
            stop_when_unmatched=True,
            description="Copy it and change the coverage type for Medicare Supplement.",
            **weekdays,
        )
        flow.actions = [
            _step(1, DelayUnit.MINUTES, ActionKind.ENABLE_SELF_SERVICE, position=0),
            _step(
                2,
                DelayUnit.DAYS,
                ActionKind.SEND_EMAIL,
                position=1,
                template_key="campaign.quote_follow_up",
            ),
            _step(
                3,
                DelayUnit.DAYS,
                ActionKind.SEND_SMS,
                position=2,
                template_key="campaign.quote_follow_up.sms",
            ),
            _step(
                5,
                DelayUnit.DAYS,
                ActionKind.CREATE_CALL,
                position=3,
                target=ActionTarget.AGENT,
                task_title="Call {{ record.full_name }} about the quote",
            ),
        ]
        _add(flow)
        added["workflows"] += 1
    if "Annual review (AEP)" not in names and aep is not None:
        flow = Workflow(
            name="Annual review (AEP)",
            active=True,
            for_leads=False,
            for_clients=True,
            tag_id=aep.id,
            stop_when_unmatched=True,
            description="Bulk-tag clients AEP Review Needed on September 1; take the tag off "
            "a client who booked and the rest stops.",
            **weekdays,
        )
        flow.actions = [
            _step(
                1,
                DelayUnit.MINUTES,
                ActionKind.SEND_EMAIL,
                position=0,
                template_key="campaign.aep.announce",
            ),
            _step(
                30,
                DelayUnit.MINUTES,
                ActionKind.SEND_SMS,
                position=1,
                template_key="campaign.aep.sms",
            ),
            _step(30, DelayUnit.MINUTES, ActionKind.ENABLE_SELF_SERVICE, position=2),
            _step(
                7,
                DelayUnit.DAYS,
                ActionKind.SEND_EMAIL,
                position=3,
                template_key="campaign.aep.book",
            ),
            _step(
                10,
                DelayUnit.DAYS,
                ActionKind.CREATE_CALL,
                position=4,
                target=ActionTarget.AGENT,
                task_title="Book the annual review with {{ record.full_name }}",
            ),
            _step(
                21,
                DelayUnit.DAYS,
                ActionKind.SEND_EMAIL,
                position=5,
                template_key="campaign.aep.book",
            ),
            _step(
                24,
                DelayUnit.DAYS,
                ActionKind.CREATE_CALL,
                position=6,
                target=ActionTarget.AGENT,
                task_title="Second call: annual review with {{ record.full_name }}",
            ),
        ]
        _add(flow)
        added["workflows"] += 1
    return added


def _add(flow: Workflow) -> None:
    workflows.check_workflow(flow)
    for step in flow.actions:
        workflows.check_action(step)
    db.session.add(flow)
    db.session.flush()
