"""Self service from the record page (enable, disable, invite, preview) and for many records
at once from the list."""

from __future__ import annotations

import typing as t

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.helpers import get_redirect_target, is_safe_url
from flask_security import current_user
from werkzeug.wrappers import Response

from admin_views.base import int_ids, plural
from admin_views.record_page import RecordPage
from app import transactions
from app.services import invitations, portal_accounts
from app.services import records as record_service
from app.services.errors import ValidationError
from models import Contact, db


def _safe_referrer() -> str | None:
    referrer = request.referrer
    return referrer if referrer and is_safe_url(referrer) else None


class RecordSelfService(RecordPage):
    """The record view's self-service routes and its bulk "Enable self service" action."""

    @expose("/<int:record_id>/self-service/enable/", methods=("POST",))
    def enable_self_service(self, record_id: int) -> Response:
        record = self.record_or_404(record_id)
        try:
            with transactions.attempt():
                result = portal_accounts.enable_self_service(record, current_user)
        except ValidationError as exc:
            flash(exc.message, "error")
        else:
            how = "by text message" if result.link_channel.value == "sms" else "by email"
            flash(
                ("New link and password sent" if result.reissued else "Self service enabled")
                + f": the portal link went {how}, the password by email"
                + (
                    ". The old link, password and sessions no longer work."
                    if result.reissued
                    else "."
                ),
                "success",
            )
        return redirect(url_for(".details_view", id=record_id) + "#portal")

    @expose("/<int:record_id>/self-service/disable/", methods=("POST",))
    def disable_self_service(self, record_id: int) -> Response:
        record = self.record_or_404(record_id)
        if portal_accounts.disable_self_service(record, current_user):
            flash(
                "Self service disabled: the link, the passwords and every open portal "
                "session stopped working.",
                "success",
            )
        return redirect(url_for(".details_view", id=record_id) + "#portal")

    @expose("/<int:record_id>/self-service/invite/", methods=("POST",))
    def invite(self, record_id: int) -> Response:
        record = self.record_or_404(record_id)
        contact = None
        contact_id = request.form.get("contact_id", type=int)
        if contact_id:
            contact = db.session.get(Contact, contact_id)
            if contact is None or contact.record_id != record.id:
                abort(404)
        try:
            with transactions.attempt():
                account = invitations.invite(record, current_user, contact)
        except ValidationError as exc:
            flash(exc.message, "error")
        else:
            flash(f"Invitation sent to {account.email}.", "success")
        return redirect(url_for(".details_view", id=record_id) + "#portal")

    @expose("/<int:record_id>/self-service/view/")
    def view_self_service(self, record_id: int) -> Response:
        record = self.record_or_404(record_id)
        portal_accounts.record_preview_opened(record, current_user)
        return redirect(url_for("portal_preview.home", record_id=record.id))

    @action("enable_self_service", "Enable self service…")
    def action_enable(self, ids: list[str]) -> t.Any:
        preview = record_service.self_service_preview(int_ids(ids))
        return self.render(
            "admin/record/bulk_enable.html",
            records=preview.records,
            without_email=preview.without_email,
            already=preview.already,
            return_url=_safe_referrer() or url_for(".index_view"),
        )

    @expose("/bulk-enable/", methods=("POST",))
    def bulk_enable(self) -> Response:
        return_url = get_redirect_target() or url_for(".index_view")
        done, refused = record_service.enable_self_service_for(
            int_ids(request.form.getlist("record_id")), current_user
        )
        flash(
            f"Self service enabled for {plural(done, 'record')}; "
            "each was sent its own link and password.",
            "success",
        )
        for line in refused[:10]:
            flash(line, "error")
        return redirect(return_url)
