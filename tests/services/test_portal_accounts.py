"""Portal access: every state change, every sign-in path, and the limits around them."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.services import contact_changes as contact_change_service
from app.services import (
    invitations,
    one_time_codes,
    password_resets,
    portal_credentials,
    portal_sign_in,
)
from app.services import portal_accounts as accounts
from app.services.errors import ValidationError
from app.services.portal_settings import get_settings
from app.services.portal_sign_in import SignInFailed
from models import (
    AccountStatus,
    ActivityEntry,
    Channel,
    Contact,
    ContactChange,
    ContactMethod,
    ContactRole,
    LoginCode,
    OutboxMessage,
    db,
    utcnow,
)
from tests import factories


@pytest.fixture
def staff(ctx):
    return factories.staff(email="sam.staff@example.com")


@pytest.fixture
def client_record(ctx):
    return factories.record(
        first_name="Cleo", last_name="Client", email="cleo@example.com", mobile="+12025550143"
    )


def messages():
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def credentials():
    """The link token and password from the newest enable messages (read before delivery)."""
    link = password = None
    for message in messages():
        found = re.search(r"/portal/a/([\w-]+)", message.body_text)
        if found:
            link = found.group(1)
        found = re.search(r"^\s{4}(\S+)$", message.body_text, re.M)
        if message.template_key == "portal.password" and found:
            password = found.group(1)
    return link, password


def events_logged():
    return [
        e.event_key for e in db.session.scalars(select(ActivityEntry).order_by(ActivityEntry.id))
    ]


def test_enable_sends_a_link_and_a_password_separately(staff, client_record):
    result = accounts.enable_self_service(client_record, staff)
    db.session.commit()
    account = result.account
    link_mail, password_mail = messages()
    assert (link_mail.template_key, password_mail.template_key) == (
        "portal.link",
        "portal.password",
    )
    assert link_mail.recipient == password_mail.recipient == "cleo@example.com"
    assert link_mail.sensitive and password_mail.sensitive
    token, password = credentials()
    assert password not in link_mail.body_text and token not in password_mail.body_text
    # Only hashes are kept.
    assert account.link_token_hash == portal_credentials.token_hash(token) and token not in str(
        account.__dict__
    )
    assert account.password_hash.startswith("$argon2") and password not in account.password_hash
    assert portal_sign_in.sign_in_with_link(token, password).id == account.id
    assert events_logged()[:1] == ["staff.self_service.enabled"]


def test_enable_needs_an_email_address(staff):
    record = factories.record(email=None)
    with pytest.raises(ValidationError, match="password is always sent by email"):
        accounts.enable_self_service(record, staff)


def test_the_link_goes_by_text_when_the_client_prefers_it(staff, client_record):
    client_record.preferred_contact = ContactMethod.SMS
    client_record.sms_opt_in = True
    result = accounts.enable_self_service(client_record, staff)
    assert result.link_channel == Channel.SMS
    link, password = messages()
    assert (link.channel, link.recipient) == (Channel.SMS, "+12025550143")
    assert (password.channel, password.recipient) == (Channel.EMAIL, "cleo@example.com")


def test_enabling_again_kills_the_old_link_password_and_sessions(staff, client_record):
    first = accounts.enable_self_service(client_record, staff).account
    db.session.commit()
    old_token, old_password = credentials()
    old_generation = first.generation
    accounts.enable_self_service(client_record, staff)
    db.session.commit()
    new_token, new_password = credentials()
    assert new_token != old_token and new_password != old_password
    assert portal_sign_in.account_for_link(old_token) is None
    with pytest.raises(SignInFailed):
        portal_sign_in.sign_in_with_link(old_token, old_password)
    with pytest.raises(SignInFailed):
        portal_sign_in.sign_in_with_link(new_token, old_password)
    assert accounts.account_for_session(first.id, old_generation) is None
    assert portal_sign_in.sign_in_with_link(new_token, new_password).id == first.id


def test_disable_ends_access_at_once(staff, client_record):
    account = accounts.enable_self_service(client_record, staff).account
    db.session.commit()
    token, password = credentials()
    generation = account.generation
    assert accounts.disable_self_service(client_record, staff) is True
    db.session.commit()
    assert account.status == AccountStatus.DISABLED
    assert accounts.account_for_session(account.id, generation) is None
    with pytest.raises(SignInFailed):
        portal_sign_in.sign_in_with_link(token, password)
    with pytest.raises(SignInFailed):
        portal_sign_in.sign_in_with_password("cleo@example.com", password)
    assert accounts.disable_self_service(client_record, staff) is False  # nothing left to end
    assert "staff.self_service.disabled" in events_logged()


def invitation_token():
    message = next(m for m in reversed(messages()) if m.template_key == "portal.invitation")
    return re.search(r"/portal/invite/([\w-]+)", message.body_text).group(1)


def test_invitation_for_a_contact_person(staff, client_record):
    contact = Contact(
        record_id=client_record.id,
        role=ContactRole.CONTACT_PERSON,
        first_name="Dana",
        last_name="Daughter",
        email="dana@example.com",
    )
    db.session.add(contact)
    db.session.flush()
    account = invitations.invite(client_record, staff, contact)
    db.session.commit()
    assert account.status == AccountStatus.INVITED and not account.is_primary
    token = invitation_token()
    with pytest.raises(ValidationError, match="not the same"):
        invitations.accept_invitation(token, "a long passphrase", "another passphrase")
    with pytest.raises(ValidationError, match="at least 10"):
        invitations.accept_invitation(token, "short", "short")
    accepted = invitations.accept_invitation(token, "a long passphrase", "a long passphrase")
    db.session.commit()
    assert accepted.status == AccountStatus.ENABLED
    assert (
        portal_sign_in.sign_in_with_password("DANA@example.com", "a long passphrase").id
        == account.id
    )
    with pytest.raises(ValidationError, match="expired or was already used"):
        invitations.accept_invitation(token, "a long passphrase", "a long passphrase")
    assert "portal.invitation.accepted" in events_logged()


def test_invitations_expire(staff, client_record):
    account = invitations.invite(client_record, staff)
    db.session.commit()
    token = invitation_token()
    later = utcnow() + timedelta(days=get_settings().invitation_valid_days, minutes=1)
    assert invitations.account_for_invitation(token, now=later) is None
    with pytest.raises(ValidationError, match="expired"):
        invitations.accept_invitation(token, "a long passphrase", "a long passphrase", now=later)
    assert account.status == AccountStatus.INVITED


def test_cannot_invite_someone_who_already_has_access(staff, client_record):
    accounts.enable_self_service(client_record, staff)
    with pytest.raises(ValidationError, match="can already sign in"):
        invitations.invite(client_record, staff)


def latest_code(channel=Channel.EMAIL):
    message = next(m for m in reversed(messages()) if m.channel == channel)
    return re.search(r"\b(\d{6})\b", message.body_text).group(1)


@pytest.fixture
def enabled(staff, client_record):
    account = accounts.enable_self_service(client_record, staff).account
    db.session.commit()
    return account


def test_sign_in_with_a_code_by_email(enabled):
    portal_sign_in.request_code(Channel.EMAIL, "Cleo@Example.com")
    db.session.commit()
    code = latest_code()
    assert [a.id for a in portal_sign_in.verify_code(Channel.EMAIL, "cleo@example.com", code)] == [
        enabled.id
    ]
    db.session.commit()
    with pytest.raises(SignInFailed):  # single use
        portal_sign_in.verify_code(Channel.EMAIL, "cleo@example.com", code)


def test_sign_in_with_a_code_by_text(enabled):
    portal_sign_in.request_code(Channel.SMS, "(202) 555-0143")
    db.session.commit()
    message = messages()[-1]
    assert (message.channel, message.recipient) == (Channel.SMS, "+12025550143")
    code = latest_code(Channel.SMS)
    assert portal_sign_in.verify_code(Channel.SMS, "202-555-0143", code)[0].id == enabled.id


def test_codes_expire(enabled):
    portal_sign_in.request_code(Channel.EMAIL, "cleo@example.com")
    code = latest_code()
    later = utcnow() + timedelta(minutes=get_settings().code_valid_minutes, seconds=1)
    with pytest.raises(SignInFailed):
        portal_sign_in.verify_code(Channel.EMAIL, "cleo@example.com", code, now=later)


def test_a_new_code_replaces_the_old_one(enabled):
    portal_sign_in.request_code(Channel.EMAIL, "cleo@example.com")
    first = latest_code()
    portal_sign_in.request_code(Channel.EMAIL, "cleo@example.com")
    second = latest_code()
    with pytest.raises(SignInFailed):
        portal_sign_in.verify_code(Channel.EMAIL, "cleo@example.com", first)
    assert portal_sign_in.verify_code(Channel.EMAIL, "cleo@example.com", second)


def test_a_code_has_a_limited_number_of_tries(enabled):
    portal_sign_in.request_code(Channel.EMAIL, "cleo@example.com")
    code = latest_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(get_settings().code_max_attempts):
        with pytest.raises(SignInFailed):
            portal_sign_in.verify_code(Channel.EMAIL, "cleo@example.com", wrong)
    with pytest.raises(SignInFailed):  # even the right code is now refused
        portal_sign_in.verify_code(Channel.EMAIL, "cleo@example.com", code)


def test_unknown_addresses_get_nothing_and_no_error(ctx):
    portal_sign_in.request_code(Channel.EMAIL, "nobody@example.com")
    portal_sign_in.request_code(Channel.SMS, "+12025550000")
    portal_sign_in.request_code(Channel.EMAIL, "not an address")
    assert messages() == []
    with pytest.raises(SignInFailed):
        portal_sign_in.verify_code(Channel.EMAIL, "nobody@example.com", "123456")
    with pytest.raises(SignInFailed):
        portal_sign_in.sign_in_with_password("nobody@example.com", "whatever")
    with pytest.raises(SignInFailed):
        portal_sign_in.sign_in_with_link("no-such-token", "whatever")


def test_repeated_failures_pause_sign_in(enabled):
    token, password = credentials()
    settings = get_settings()
    for _ in range(settings.lockout_failures):
        with pytest.raises(SignInFailed):
            portal_sign_in.sign_in_with_link(token, "wrong password")
    db.session.commit()
    assert enabled.locked_until is not None
    with pytest.raises(SignInFailed):  # the right password waits too
        portal_sign_in.sign_in_with_link(token, password)
    later = utcnow() + timedelta(minutes=settings.lockout_minutes, seconds=1)
    assert portal_sign_in.sign_in_with_link(token, password, now=later).id == enabled.id
    logged = events_logged()
    # The failure that starts the pause is logged as the pause; a try while paused is logged
    # as a failure too (it used to leave no trace).
    assert logged.count("portal.login.locked") == 1
    assert logged.count("portal.login.failed") == settings.lockout_failures - 1 + 1
    assert logged[-1] == "portal.login.password"


def test_the_failure_message_is_the_same_for_every_reason(enabled):
    token, _ = credentials()
    reasons = []
    for attempt in (
        lambda: portal_sign_in.sign_in_with_link(token, "wrong"),
        lambda: portal_sign_in.sign_in_with_link("unknown", "wrong"),
        lambda: portal_sign_in.sign_in_with_password("nobody@example.com", "wrong"),
        lambda: portal_sign_in.sign_in_with_password("cleo@example.com", "wrong"),
    ):
        with pytest.raises(SignInFailed) as caught:
            attempt()
        reasons.append(str(caught.value))
    assert len(set(reasons)) == 1


def test_one_mailbox_two_portals(staff):
    her = factories.record(first_name="Ann", email="couple@example.com")
    him = factories.record(first_name="Bob", email="couple@example.com")
    accounts.enable_self_service(her, staff)
    db.session.commit()
    _, her_password = credentials()
    accounts.enable_self_service(him, staff)
    db.session.commit()
    _, his_password = credentials()
    assert (
        portal_sign_in.sign_in_with_password("couple@example.com", her_password).record_id == her.id
    )
    assert (
        portal_sign_in.sign_in_with_password("couple@example.com", his_password).record_id == him.id
    )
    portal_sign_in.request_code(Channel.EMAIL, "couple@example.com")
    both = portal_sign_in.verify_code(Channel.EMAIL, "couple@example.com", latest_code())
    assert {a.record_id for a in both} == {her.id, him.id}


def reset_token():
    message = next(m for m in reversed(messages()) if m.template_key == "portal.password_reset")
    return re.search(r"/portal/reset/([\w.-]+)", message.body_text).group(1)


def test_password_reset_works_once_and_ends_old_sessions(enabled):
    generation = enabled.generation
    password_resets.request_password_reset("cleo@example.com")
    db.session.commit()
    token = reset_token()
    password_resets.reset_password(token, "my new long password", "my new long password")
    db.session.commit()
    assert accounts.account_for_session(enabled.id, generation) is None
    assert portal_sign_in.sign_in_with_password("cleo@example.com", "my new long password")
    with pytest.raises(ValidationError, match="expired or was already used"):
        password_resets.reset_password(token, "another long password", "another long password")
    assert "portal.password.changed" in events_logged()
    # The client is told their password changed (the rule's default).
    assert any(m.event_key == "portal.password.changed" for m in messages())


def test_reset_for_unknown_addresses_sends_nothing(ctx):
    password_resets.request_password_reset("nobody@example.com")
    assert messages() == []


def test_the_login_email_follows_the_record(enabled, client_record):
    client_record.email = "new.cleo@example.com"
    accounts.sync_login_email(client_record)
    assert enabled.email == "new.cleo@example.com"


# -- weak passwords -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "weak, advice",
    [
        ("password1234!", "This is similar to a commonly used password."),
        ("qwertyuiop12", "This is similar to a commonly used password."),
        ("Cleo Client 1", "too easy to guess"),  # her own name
    ],
)
def test_weak_passwords_are_refused_with_advice(enabled, weak, advice):
    password_resets.request_password_reset("cleo@example.com")
    token = reset_token()
    with pytest.raises(ValidationError) as caught:
        password_resets.reset_password(token, weak, weak)
    assert caught.value.field == "password"
    assert "This password is too easy to guess." in caught.value.message
    assert advice in caught.value.message
    assert password_resets.reset_password(token, "a long passphrase", "a long passphrase")


def test_invitations_refuse_weak_passwords_too(staff, client_record):
    invitations.invite(client_record, staff)
    db.session.commit()
    with pytest.raises(ValidationError, match="too easy to guess"):
        invitations.accept_invitation(invitation_token(), "password1234!", "password1234!")


# -- a paused password does not keep the client out ------------------------------------------


def pause_password(token):
    for _ in range(get_settings().lockout_failures):
        with pytest.raises(SignInFailed):
            portal_sign_in.sign_in_with_link(token, "a stranger's guess")
    db.session.commit()


def test_a_paused_password_leaves_codes_and_reset_working(enabled):
    """Anyone who knows the address can pause the password path, again and again; the codes
    reach the client's own mailbox and phone, so they keep working."""
    token, password = credentials()
    pause_password(token)
    assert enabled.locked_until is not None
    with pytest.raises(SignInFailed):
        portal_sign_in.sign_in_with_password("cleo@example.com", password)
    for channel, address in ((Channel.EMAIL, "cleo@example.com"), (Channel.SMS, "+12025550143")):
        portal_sign_in.request_code(channel, address)
        db.session.commit()
        assert [
            a.id for a in portal_sign_in.verify_code(channel, address, latest_code(channel))
        ] == [enabled.id]
        db.session.commit()
    password_resets.request_password_reset("cleo@example.com")
    assert password_resets.reset_password(reset_token(), "a long passphrase", "a long passphrase")


def test_every_password_failure_checks_one_hash(enabled, monkeypatch):
    """Unknown link, unknown address, wrong password, paused account: the same work each time
    (a paused account used to answer without checking, which its timing gave away)."""
    token, password = credentials()
    calls = []
    real = portal_sign_in.verify_password
    monkeypatch.setattr(portal_sign_in, "verify_password", lambda *a: calls.append(1) or real(*a))

    def hashes(attempt):
        calls.clear()
        with pytest.raises(SignInFailed):
            attempt()
        return len(calls)

    counted = {
        "unknown link": hashes(lambda: portal_sign_in.sign_in_with_link("nope", "whatever")),
        "unknown email": hashes(
            lambda: portal_sign_in.sign_in_with_password("nobody@example.com", "whatever")
        ),
        "wrong password": hashes(lambda: portal_sign_in.sign_in_with_link(token, "whatever")),
    }
    pause_password(token)
    counted["paused, link"] = hashes(lambda: portal_sign_in.sign_in_with_link(token, password))
    counted["paused, email"] = hashes(
        lambda: portal_sign_in.sign_in_with_password("cleo@example.com", password)
    )
    assert set(counted.values()) == {1}, counted


# -- code attempts are counted in the database -----------------------------------------------


def test_parallel_guesses_cannot_share_an_attempt(app, enabled):
    """Nine guesses on nine connections at once: each is counted before it is compared, so no
    more than the code's attempts are ever compared (before, nine were checked and three
    counted)."""
    import threading

    settings = get_settings()
    settings.code_max_attempts = 3
    db.session.commit()
    portal_sign_in.request_code(Channel.EMAIL, "cleo@example.com")
    db.session.commit()
    code = latest_code()
    compared = []
    real = one_time_codes.code_hash

    def counting(identifier, typed):
        compared.append(typed)
        return real(identifier, typed)

    start = threading.Barrier(9)
    outcomes = []

    def guess(n):
        with app.app_context():
            start.wait()
            try:
                portal_sign_in.verify_code(Channel.EMAIL, "cleo@example.com", f"{n:06d}")
                outcomes.append("in")
            except SignInFailed:
                outcomes.append("out")
            db.session.commit()
            db.session.remove()

    wrong = [n for n in range(1, 11) if f"{n:06d}" != code][:9]
    original = one_time_codes.code_hash
    one_time_codes.code_hash = counting
    try:
        threads = [threading.Thread(target=guess, args=(n,)) for n in wrong]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        one_time_codes.code_hash = original
    assert outcomes.count("out") == 9
    assert len(compared) == 3, compared
    db.session.expire_all()
    row = db.session.scalar(select(LoginCode))
    assert row.attempts == 3
    with pytest.raises(SignInFailed):  # used up: the right code no longer works
        portal_sign_in.verify_code(Channel.EMAIL, "cleo@example.com", code)


def test_a_right_code_sent_twice_at_once_opens_once(app, enabled):
    import threading

    portal_sign_in.request_code(Channel.EMAIL, "cleo@example.com")
    db.session.commit()
    code = latest_code()
    start = threading.Barrier(4)
    opened = []

    def use():
        with app.app_context():
            start.wait()
            try:
                portal_sign_in.verify_code(Channel.EMAIL, "cleo@example.com", code)
                opened.append(1)
            except SignInFailed:
                pass
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(opened) == 1


# -- starting a change of the sign-in email or mobile ----------------------------------------


def _start(account, signed_in_at, number="+12025550188"):
    return contact_change_service.start_contact_change(
        account,
        field_key="mobile",
        field_label="Mobile phone",
        section="contact",
        channel=Channel.SMS,
        new_value=number,
        new_display=number,
        signed_in_at=signed_in_at,
    )


def contact_changes():
    return db.session.scalars(select(ContactChange)).all()


def test_a_change_of_sign_in_number_needs_a_fresh_sign_in(enabled):
    now = utcnow()
    for stale in (None, now - contact_change_service.FRESH_SIGN_IN - timedelta(seconds=1)):
        with pytest.raises(contact_change_service.FreshSignInNeeded) as caught:
            _start(enabled, stale)
        assert caught.value.reason == "fresh_sign_in_required"
    assert contact_changes() == []
    assert not [m for m in messages() if m.recipient == "+12025550188"]
    assert _start(enabled, now - contact_change_service.FRESH_SIGN_IN + timedelta(seconds=5)).id


def test_codes_to_new_numbers_are_limited_and_a_refusal_spends_none(app, enabled):
    now = utcnow()
    for n in range(5):
        _start(enabled, now, f"+1202555019{n}")
    with pytest.raises(one_time_codes.TooManyCodes) as caught:
        _start(enabled, now, "+12025550199")
    assert 0 < caught.value.retry_after <= 3600
    assert len(contact_changes()) == 5
    app.config["PORTICO_CONTACT_CODE_LIMIT_ACCOUNT"] = "6 per hour"
    try:
        _start(enabled, now, "+12025550199")  # the refusal did not count
    finally:
        app.config.pop("PORTICO_CONTACT_CODE_LIMIT_ACCOUNT")


def test_a_wrong_password_to_confirm_its_you_counts_toward_the_pause(enabled):
    _, password = credentials()
    contact_change_service.confirm_identity_with_password(enabled, password)
    for _ in range(get_settings().lockout_failures):
        with pytest.raises(SignInFailed):
            contact_change_service.confirm_identity_with_password(enabled, "a guess")
    assert enabled.locked_until is not None
    with pytest.raises(SignInFailed):  # paused: the right one waits too
        contact_change_service.confirm_identity_with_password(enabled, password)


def test_unknown_addresses_are_logged_masked():
    assert portal_credentials.mask_address("stranger@example.com") == "s***@example.com"
    assert portal_credentials.mask_address("not an address") == ""
    assert portal_credentials.mask_address(None) == ""
