"""The workflow action "Send sign request": a campaign sends a saved layout (the annual
disclosure) to each record it reaches, through the registry of action kinds."""

import pytest
from sqlalchemy import select

from app.services import tags as tag_service
from app.services import workflows
from app.services.actors import Actor
from app.services.errors import ValidationError
from app.services.signing import saved_layouts
from app.services.workflows import actions
from app.services.workflows.sign_action import GONE
from jobs.workflows import run_due
from models import (
    ActionKind,
    ActionStatus,
    ActionTarget,
    DelayUnit,
    OutboxMessage,
    ScheduledAction,
    SignRequest,
    SignRequestStatus,
    Workflow,
    WorkflowAction,
    db,
)
from tests import factories, sign_factories


def saved_layout(name="Annual disclosure", *, with_co_applicant=False):
    """A layout saved from a request to the primary applicant (and the co-applicant)."""
    source = factories.record(first_name="Sam", last_name="Source", email="sam@example.com")
    signers = [None]
    if with_co_applicant:
        signers.append(sign_factories.co_applicant(source, email="sam.co@example.com"))
    request = sign_factories.sign_request(source, signers=signers, title=name)
    template = saved_layouts.save_from_request(request, name, actor=Actor.system("test"))
    db.session.commit()
    return template


def campaign(template, tag):
    workflow = Workflow(name="Annual disclosure campaign", active=True, tag_id=tag.id)
    workflow.actions = [
        WorkflowAction(
            position=0,
            delay_amount=0,
            delay_unit=DelayUnit.MINUTES,
            kind=ActionKind.SEND_SIGN_REQUEST,
            target=ActionTarget.RECORD,
            sign_template_id=template.id,
        )
    ]
    db.session.add(workflow)
    db.session.commit()
    return workflow


def reach(record, tag):
    tag_service.add_tag([record.id], tag)
    db.session.commit()
    return run_due()


def fired():
    return db.session.scalars(select(ScheduledAction).order_by(ScheduledAction.id)).all()[-1]


def test_a_campaign_sends_the_saved_layout_for_signature(ctx):
    template = saved_layout()
    tag = factories.tag("Disclosure 2027")
    campaign(template, tag)
    cleo = factories.record(first_name="Cleo", last_name="Client", email="cleo@example.com")
    assert reach(cleo, tag) == {"done": 1}
    [request] = db.session.scalars(select(SignRequest).where(SignRequest.record_id == cleo.id))
    assert request.status == SignRequestStatus.SENT and request.title == "Annual disclosure"
    assert [s.email for s in request.signers] == ["cleo@example.com"]
    assert len(request.fields) == len(template.fields)
    sent = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == "cleo@example.com")
    ).all()
    assert [m.template_key for m in sent] == ["sign.requested"]
    action = fired()
    assert action.status == ActionStatus.DONE
    assert action.outcome == "Sign request “Annual disclosure” sent to Cleo Client."
    assert actions.describe(action, cleo) == "Sends the sign request “Annual disclosure”"


def test_a_record_without_the_co_applicant_the_layout_needs_is_skipped(ctx):
    template = saved_layout("Joint disclosure", with_co_applicant=True)
    tag = factories.tag("Joint 2027")
    campaign(template, tag)
    solo = factories.record(first_name="Solo", last_name="Client", email="solo@example.com")
    assert reach(solo, tag) == {"skipped": 1}
    assert fired().outcome == (
        "Solo Client has no co-applicant, and the saved layout Joint disclosure needs one."
    )
    assert (
        db.session.scalars(select(SignRequest).where(SignRequest.record_id == solo.id)).all() == []
    )
    # With one, both sign.
    pair = factories.record(first_name="Pat", last_name="Pair", email="pat@example.com")
    sign_factories.co_applicant(pair, email="pat.co@example.com")
    db.session.commit()
    assert reach(pair, tag) == {"done": 1}
    [request] = db.session.scalars(select(SignRequest).where(SignRequest.record_id == pair.id))
    assert [s.email for s in request.signers] == ["pat@example.com", "pat.co@example.com"]


def test_a_deleted_layout_is_skipped_with_a_sentence(ctx):
    template = saved_layout()
    tag = factories.tag("Gone 2027")
    workflow = campaign(template, tag)
    record = factories.record(email="late@example.com")
    tag_service.add_tag([record.id], tag)
    db.session.commit()
    saved_layouts.delete(template)
    db.session.commit()
    assert workflow.actions[0].sign_template_id is None
    assert run_due() == {"skipped": 1}
    assert fired().outcome == GONE
    assert actions.describe(fired(), record) == "(a saved sign request since deleted)"


def test_the_action_needs_a_saved_layout(ctx):
    template = saved_layout()
    workflow = Workflow(name="No layout", for_leads=True, for_clients=True, on_record_created=True)
    workflow.actions = [
        WorkflowAction(
            delay_amount=0,
            delay_unit=DelayUnit.MINUTES,
            kind=ActionKind.SEND_SIGN_REQUEST,
            target=ActionTarget.RECORD,
        )
    ]
    db.session.add(workflow)
    with pytest.raises(ValidationError) as refused:
        workflows.save(workflow, is_created=True, actor=Actor.system("test"))
    assert refused.value.message == "Action 1: Send sign request: choose the saved sign request."
    workflow.actions[0].sign_template = template
    workflows.save(workflow, is_created=True, actor=Actor.system("test"))
    db.session.commit()
    assert workflow.actions[0].sign_template_id == template.id
