"""The workflow action "Send sign request": a saved layout (PDF, fields, signer parts) sent to
the record's people for signature, so a campaign can send the annual disclosure. Registered in
the registry of :mod:`.actions`, which imports this module."""

from __future__ import annotations

from datetime import datetime

from app.services.errors import ValidationError
from app.services.events import Actor
from app.services.signing import requests as sign_requests
from app.services.workflows.actions import ActionType, Outcome, kind
from models import (
    ActionKind,
    ActionStatus,
    Record,
    ScheduledAction,
    SignTemplate,
    Workflow,
    WorkflowAction,
    db,
)

GONE = "The saved sign request was deleted."


@kind
class SendSignRequest(ActionType):
    key = ActionKind.SEND_SIGN_REQUEST
    settings = {
        "sign_template": "the saved sign request to send (its PDF, fields and signers by part)."
    }

    def check(self, action: WorkflowAction) -> None:
        template = action.sign_template or (
            db.session.get(SignTemplate, action.sign_template_id)
            if action.sign_template_id
            else None
        )
        if template is None:
            raise ValidationError(f"{self.label}: choose the saved sign request.", field="actions")

    def describe(
        self, action: ScheduledAction, record: Record, template_names: dict[str, str] | None
    ) -> str:
        template = _template(action)
        if template is None:
            return "(a saved sign request since deleted)"
        return f"Sends the sign request “{template.name}”"

    def perform(
        self, action: ScheduledAction, workflow: Workflow, record: Record, now: datetime
    ) -> Outcome:
        template = _template(action)
        if template is None:
            return ActionStatus.SKIPPED, GONE
        try:
            with db.session.begin_nested():  # a refusal halfway leaves no draft behind
                request = sign_requests.send_from_template(
                    template, record, actor=Actor.system(f"Workflow: {workflow.name}")
                )
        except ValidationError as exc:
            return ActionStatus.SKIPPED, exc.message
        names = ", ".join(signer.name for signer in request.signers)
        return ActionStatus.DONE, f"Sign request “{request.title}” sent to {names}."


def _template(action: ScheduledAction) -> SignTemplate | None:
    template_id = (action.params or {}).get("sign_template_id")
    return db.session.get(SignTemplate, template_id) if template_id else None
