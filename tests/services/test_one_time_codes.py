"""One-time codes with no portal account behind them: what a visitor's journey uses."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.services import one_time_codes, templates
from app.services.one_time_codes import Limit, TooManyCodes
from app.services.portal_settings import get_settings
from models import Channel, LoginCode, OutboxMessage, db, utcnow

PURPOSE = "flow-quote"
ADDRESS = "visitor@example.com"


def _issue(address=ADDRESS, purpose=PURPOSE, channel=Channel.EMAIL, now=None):
    row = one_time_codes.issue(
        purpose,
        channel,
        address,
        template="portal.login_code" if channel == Channel.EMAIL else "portal.login_code.sms",
        context=templates.base_context(None),
        now=now,
    )
    db.session.commit()
    return row


def _sent_code():
    message = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    return message, re.search(r"\b(\d{6})\b", message.body_text).group(1)


def _check(code, address=ADDRESS, purpose=PURPOSE, now=None):
    ok = one_time_codes.check(purpose, Channel.EMAIL, address, code, now)
    db.session.commit()
    return ok


def test_a_code_needs_no_account_and_works_once(ctx):
    row = _issue()
    message, code = _sent_code()
    assert message.recipient == ADDRESS and message.record_id is None
    assert row.identifier == f"{PURPOSE}:{ADDRESS}" and code not in row.code_hash
    assert _check(f"{code[:3]} {code[3:]}")  # spaces as people type them
    assert db.session.get(LoginCode, row.id).used_at is not None
    assert not _check(code)  # single use


def test_a_wrong_code_counts_a_try_and_the_tries_run_out(ctx):
    get_settings().code_max_attempts = 2
    db.session.commit()
    row = _issue()
    _, code = _sent_code()
    wrong = "000000" if code != "000000" else "111111"
    assert not _check(wrong)
    assert db.session.get(LoginCode, row.id).attempts == 1
    assert not _check(wrong)
    assert not _check(code)  # no tries left: the right code is refused unread
    assert db.session.get(LoginCode, row.id).attempts == 2


def test_an_expired_code_is_refused_and_its_tries_are_untouched(ctx):
    now = utcnow()
    row = _issue(now=now)
    _, code = _sent_code()
    later = now + timedelta(minutes=get_settings().code_valid_minutes, seconds=1)
    assert not _check(code, now=later)
    assert db.session.get(LoginCode, row.id).attempts == 0
    assert _check(code, now=now + timedelta(seconds=30))


def test_a_newer_code_replaces_the_older_and_purposes_stay_apart(ctx):
    get_settings().code_max_attempts = 5
    _issue()
    _, first = _sent_code()
    _issue()
    _, second = _sent_code()
    _issue(purpose=one_time_codes.SIGN_IN)
    _, sign_in = _sent_code()
    assert first == second or not _check(first)
    assert not _check(sign_in)  # a sign-in code opens no journey
    assert _check(second)
    assert one_time_codes.check(one_time_codes.SIGN_IN, Channel.EMAIL, ADDRESS, sign_in)
    keys = set(db.session.scalars(select(LoginCode.identifier)))
    assert keys == {ADDRESS, f"{PURPOSE}:{ADDRESS}"}  # sign-in codes keep the bare address


def test_no_code_means_a_try_on_no_row(ctx):
    assert not _check("123456", address="nobody@example.com")
    assert db.session.scalar(select(LoginCode)) is None


def test_a_purpose_is_a_short_name(ctx):
    for purpose in ("", "a:b", "x" * 41):
        with pytest.raises(ValueError):
            one_time_codes.code_key(purpose, ADDRESS)


def test_addresses_are_normalised_or_refused():
    assert one_time_codes.normalise_address(Channel.EMAIL, " Visitor@Example.COM ") == ADDRESS
    assert one_time_codes.normalise_address(Channel.SMS, "(202) 555-0143") == "+12025550143"
    assert one_time_codes.normalise_address(Channel.EMAIL, "not an address") is None


def test_limits_refuse_past_their_share_and_a_refusal_spends_nothing(ctx):
    per_address = Limit("test-codes-address", "2 per hour", f"address:{ADDRESS}")
    per_ip = Limit("test-codes-ip", "3 per hour", "ip:192.0.2.1")
    one_time_codes.spend(per_address, per_ip)
    one_time_codes.spend(per_address, per_ip)
    with pytest.raises(TooManyCodes) as caught:
        one_time_codes.spend(per_address, per_ip)
    assert 0 < caught.value.retry_after <= 3600
    other = Limit("test-codes-address", "2 per hour", "address:other@example.com")
    one_time_codes.spend(other, per_ip)  # the refusal did not count against the IP
    with pytest.raises(TooManyCodes):
        one_time_codes.spend(other, per_ip)
