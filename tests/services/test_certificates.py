"""Certificate masters (staff side): limits, what a master may cover, the share rule with a
fixed clock across a policy's end date, sharing and its end (by staff, by the daily job, at
a client request), and issuing a sealed certificate."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import select, update

from app import pdf
from app.redis import get_redis
from app.services import documents
from app.services.actors import Actor
from app.services.certificates import client_certificates, issuing, limits, masters
from app.services.errors import NotFound, ValidationError
from app.storage import storage
from jobs import maintenance
from models import (
    ActivityEntry,
    Certificate,
    CertificateCounter,
    CertificateHolder,
    CertificateMaster,
    OutboxMessage,
    PortalAccount,
    ProductStatus,
    RecordKind,
    db,
)
from tests import cert_factories, factories

END = date(2027, 3, 31)
#: Noon in the office (New York) on the policy's last day, and on the day after.
LAST_DAY = datetime(2027, 3, 31, 16, 0, tzinfo=UTC)
DAY_AFTER = datetime(2027, 4, 1, 16, 0, tzinfo=UTC)
#: 23:30 in New York on the last day: already the next day in UTC.
LAST_DAY_LATE = datetime(2027, 4, 1, 3, 30, tzinfo=UTC)


def _events(key: str) -> list[ActivityEntry]:
    return list(db.session.scalars(select(ActivityEntry).where(ActivityEntry.event_key == key)))


def _staff(record) -> Actor:
    return Actor.staff(record.assigned_agent)


def test_the_factory_builds_a_client_with_a_shared_master(ctx):
    record = cert_factories.client_with_certificates()
    account = cert_factories.account_of(record)
    [master] = cert_factories.masters_of(record)
    assert account is not None and master.shared
    assert [p.policy_number[:2] for p in master.policies] == ["GL", "CA"]
    assert [str(limit) for limit in master.policies[1].limits] == [
        "Combined single limit 1,000,000"
    ]


# -- limits -------------------------------------------------------------------------------------


def test_limits_replace_the_policys_lines_in_order(ctx):
    record = cert_factories.client_with_certificates()
    [master] = cert_factories.masters_of(record)
    policy = master.policies[0]
    saved = limits.save_limits(
        policy, [("  Each   occurrence ", "$1,000,000"), ("", ""), ("Med exp", 5000)]
    )
    db.session.commit()
    assert [(line.label, line.amount, line.position) for line in saved] == [
        ("Each occurrence", Decimal("1000000.00"), 0),
        ("Med exp", Decimal("5000.00"), 1),
    ]
    assert [line.label for line in policy.limits] == ["Each occurrence", "Med exp"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("Each occurrence", "-1")], "zero or more"),
        ([("Each occurrence", "lots")], "must be a number"),
        ([("", "100")], "label"),
        ([("x" * 121, "100")], "120"),
        ([("Line\nbreak", "100")], "one line"),
        ([(f"Line {n}", n) for n in range(31)], "30"),
        ([("Huge", "1" * 16)], "too large"),
    ],
)
def test_bad_limits_are_refused_and_keep_the_old_ones(ctx, rows, message):
    record = cert_factories.client_with_certificates()
    policy = cert_factories.masters_of(record)[0].policies[0]
    with pytest.raises(ValidationError, match=message) as refused:
        limits.save_limits(policy, rows)
    assert refused.value.field == "limits"
    db.session.rollback()
    assert len(policy.limits) == 3


# -- masters ------------------------------------------------------------------------------------


def test_a_master_covers_policies_of_its_client_record_and_six_carriers_at_most(ctx):
    record = cert_factories.client_with_certificates(shared=False)
    policies = [
        cert_factories.policy(record, carrier=f"Carrier {n}", number=f"P-{n}") for n in range(7)
    ]
    actor = _staff(record)
    master = masters.create(
        record, actor=actor, name=" GL  only ", policies=policies[:6], description="Cleaning"
    )
    assert master.name == "GL only" and not master.shared and len(master.policies) == 6
    with pytest.raises(ValidationError, match="at most 6 insurers") as refused:
        masters.create(record, actor=actor, name="Too many", policies=policies)
    assert refused.value.field == "policies"
    with pytest.raises(ValidationError, match="at least one"):
        masters.create(record, actor=actor, name="None", policies=[])
    other = cert_factories.client_with_certificates()
    foreign = cert_factories.masters_of(other)[0].policies[0]
    with pytest.raises(ValidationError, match="this record"):
        masters.edit(master, actor=actor, name="Mixed", policies=[policies[0], foreign])
    with pytest.raises(ValidationError, match="name") as refused:
        masters.create(record, actor=actor, name="  ", policies=policies[:1])
    assert refused.value.field == "name"
    lead = factories.record(kind=RecordKind.LEAD)
    lead_policy = factories.product(lead)
    with pytest.raises(ValidationError, match="clients"):
        masters.create(lead, actor=actor, name="Lead", policies=[lead_policy])


def test_staff_find_masters_by_id_and_by_record(ctx):
    record = cert_factories.client_with_certificates()
    [master] = cert_factories.masters_of(record)
    assert masters.get_for_staff(master.id) is master
    assert masters.get_for_staff(str(master.id)) is master
    assert masters.for_record(record) == [master]
    for bad in (10**9, "x"):
        with pytest.raises(NotFound):
            masters.get_for_staff(bad)


def test_the_share_rule_across_a_policys_end_date_with_a_fixed_clock(ctx):
    record = cert_factories.client_with_certificates(shared=False)
    gl = cert_factories.policy(
        record, carrier="Acme Mutual", number="GL-END", effective=date(2026, 4, 1), end=END
    )
    master = cert_factories.master(record, [gl], shared=False)
    actor = _staff(record)
    with time_machine.travel(LAST_DAY, tick=False):
        assert masters.shareable(master) == (True, "")
        with pytest.raises(ValidationError, match="understand") as refused:
            masters.share(master, actor=actor, understood=False)
        assert refused.value.field == "understood"
        masters.share(master, actor=actor, understood=True)
        db.session.commit()
        assert master.shared and master.shared_by_id == record.assigned_agent_id
        [shared] = _events("staff.certificate.shared")
        assert shared.record_id == record.id
        notice = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.event_key == "staff.certificate.shared")
        )
        assert notice.recipient == record.email
    with time_machine.travel(LAST_DAY_LATE, tick=False):
        assert masters.end_lapsed_shares() == 0  # still the 31st in the office
    with time_machine.travel(DAY_AFTER, tick=False):
        ok, why = masters.shareable(master)
        assert not ok and "2027-03-31" in why
        assert masters.end_lapsed_shares() == 1
        db.session.commit()
        assert masters.end_lapsed_shares() == 0
    assert not master.shared and master.unshared_reason == why
    [ended] = _events("certificate.share_ended")
    assert ended.actor_kind == "system" and ended.details["reason"] == why
    agent_mail = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.event_key == "certificate.share_ended")
    )
    assert agent_mail.recipient == record.assigned_agent.email
    with time_machine.travel(DAY_AFTER, tick=False):
        with pytest.raises(ValidationError, match="any more") as refused:
            masters.share(master, actor=actor, understood=True)
        assert refused.value.field == "shared"


@pytest.mark.parametrize(
    ("status", "effective", "end", "why"),
    [
        (ProductStatus.CANCELLED, None, None, "active"),
        (ProductStatus.QUOTED, None, None, "active"),
        (ProductStatus.ACTIVE, date(2099, 1, 1), None, "in force yet"),
        (ProductStatus.ACTIVE, None, date(2000, 1, 1), "any more"),
    ],
)
def test_a_master_without_a_policy_in_force_cannot_be_shared(ctx, status, effective, end, why):
    record = cert_factories.client_with_certificates(shared=False)
    policy = cert_factories.policy(
        record, carrier="Acme", number="X-1", status=status, effective=effective, end=end
    )
    master = cert_factories.master(record, [policy], shared=False)
    ok, reason = masters.shareable(master)
    assert not ok and why in reason
    with pytest.raises(ValidationError, match=why):
        masters.share(master, actor=_staff(record), understood=True)
    assert not master.shared


def test_a_status_change_ends_the_share_at_the_next_client_request(ctx):
    record = cert_factories.client_with_certificates()
    account = cert_factories.account_of(record)
    [master] = cert_factories.masters_of(record)
    assert client_certificates.visible_masters(account) == [master]
    for policy in master.policies:
        policy.status = ProductStatus.CANCELLED
    db.session.commit()
    assert client_certificates.visible_masters(account) == []
    assert not master.shared and "active" in master.unshared_reason
    assert len(_events("certificate.share_ended")) == 1


def test_staff_unshare_and_the_daily_job(ctx):
    record = cert_factories.client_with_certificates()
    [master] = cert_factories.masters_of(record)
    masters.unshare(master, actor=_staff(record))
    masters.unshare(master, actor=_staff(record))  # nothing more
    db.session.commit()
    assert not master.shared and "Sam Staff" in master.unshared_reason
    assert len(_events("staff.certificate.unshared")) == 1
    assert maintenance.daily("2027-01-01") == {"certificate_shares_ended": 0}


def test_editing_a_master_off_its_last_policy_in_force_ends_the_share(ctx):
    record = cert_factories.client_with_certificates()
    [master] = cert_factories.masters_of(record)
    lapsed = cert_factories.policy(
        record, carrier="Old Co", number="OLD-1", status=ProductStatus.CANCELLED
    )
    masters.edit(master, actor=_staff(record), name="Old", policies=[lapsed], description="")
    db.session.commit()
    assert not master.shared and len(_events("certificate.share_ended")) == 1


# -- issuing ------------------------------------------------------------------------------------


def _holder(master, account, name="Harbour Landlords LLC") -> CertificateHolder:
    holder = CertificateHolder(
        master=master,
        name=name,
        address="1 Quay Street\nSuite 4\nPortland ME",
        meets_requirements=True,
        added_by_account_id=account.id,
    )
    db.session.add(holder)
    db.session.flush()
    return holder


def test_issuing_numbers_prints_seals_and_keeps_a_document(ctx):
    record = cert_factories.client_with_certificates()
    account = cert_factories.account_of(record)
    [master] = cert_factories.masters_of(record)
    with time_machine.travel(LAST_DAY, tick=False):
        first = issuing.issue(master, _holder(master, account), account=account)
        second = issuing.issue(master, _holder(master, account, "José Núñez"), account=account)
    db.session.commit()
    assert (first.number, second.number) == ("2027-000001", "2027-000002")
    assert first.issued_by_account_id == account.id
    document = first.document
    assert document.record_id == record.id and not document.shared
    assert document.title == f"Certificate {first.number} \u2013 Harbour Landlords LLC"
    with storage().open(document.storage_key) as handle:
        data = handle.read()
    assert pdf.verify(data).ok
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    for expected in (
        "Harbour Landlords LLC",
        first.number,
        *[p.policy_number for p in master.policies],
    ):
        assert expected in text
    snap = first.snapshot
    assert snap["insurers"] == [["A", "Acme Mutual"], ["B", "Harbour Casualty"]]
    assert snap["coverages"][0]["limits"][0] == ["Each occurrence", "1000000.00"]
    assert snap["holder"]["lines"] == ["1 Quay Street", "Suite 4", "Portland ME"]
    assert snap["insured"]["name"] == "Bright Floors LLC"


def test_numbers_follow_each_other_and_grow_past_a_million(ctx):
    record = cert_factories.client_with_certificates()
    account = cert_factories.account_of(record)
    [master] = cert_factories.masters_of(record)
    year = documents.office_today().year
    first = issuing.issue(master, _holder(master, account), account=account)
    second = issuing.issue(master, _holder(master, account, "Second"), account=account)
    assert (first.number, second.number) == (f"{year}-000001", f"{year}-000002")
    db.session.execute(update(CertificateCounter).values(last=999_999))
    big = issuing.issue(master, _holder(master, account, "Third"), account=account)
    after = issuing.issue(master, _holder(master, account, "Fourth"), account=account)
    assert (big.number, after.number) == (f"{year}-1000000", f"{year}-1000001")


def test_certificates_issued_at_the_same_moment_each_get_their_own_number(app, ctx):
    """Several clients say Yes at once: each waits for the year's counter in turn, none
    fails and no number repeats."""
    import threading

    record = cert_factories.client_with_certificates()
    account = cert_factories.account_of(record)
    [master] = cert_factories.masters_of(record)
    holder_ids = [_holder(master, account, f"Holder {n}").id for n in range(4)]
    db.session.commit()
    master_id, account_id = master.id, account.id
    start, failures, numbers = threading.Barrier(4, timeout=60), [], []

    def issue_one(holder_id: int) -> None:
        with app.app_context():
            try:
                found = db.session.get(CertificateMaster, master_id)
                by = db.session.get(PortalAccount, account_id)
                holder = db.session.get(CertificateHolder, holder_id)
                start.wait()
                numbers.append(issuing.issue(found, holder, account=by).number)
                db.session.commit()
            except Exception as error:  # reported below with the others' outcomes
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issue_one, args=(n,)) for n in holder_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    assert len(set(numbers)) == 4


def test_a_master_certificates_were_issued_from_is_kept(ctx):
    record = cert_factories.client_with_certificates()
    account = cert_factories.account_of(record)
    [master] = cert_factories.masters_of(record)
    certificate = issuing.issue(master, _holder(master, account), account=account)
    db.session.commit()
    with pytest.raises(ValidationError, match="disable Client Center"):
        masters.delete(master)
    db.session.rollback()
    assert cert_factories.masters_of(record) == [master]
    assert db.session.get(Certificate, certificate.id) is not None
    unused = cert_factories.master(record, list(master.policies), name="Never used")
    _holder(unused, account, "Asked, never issued")
    masters.delete(unused)
    db.session.commit()
    assert cert_factories.masters_of(record) == [master]


def test_deleting_the_record_takes_its_masters_certificates_and_files(ctx):
    record = cert_factories.client_with_certificates()
    account = cert_factories.account_of(record)
    [master] = cert_factories.masters_of(record)
    certificate = issuing.issue(master, _holder(master, account), account=account)
    db.session.commit()
    key = certificate.document.storage_key
    documents.forget_files_of(record)  # as the record's delete does
    db.session.delete(record)
    db.session.commit()
    assert db.session.scalar(select(Certificate)) is None
    assert cert_factories.masters_of(record) == []
    with pytest.raises(NotFound):
        storage().open(key)


def test_the_sweeper_queues_the_daily_job_once_an_office_day(app, ctx):
    from jobs import sweeper
    from tests.conftest import run_jobs

    record = cert_factories.client_with_certificates()
    [master] = cert_factories.masters_of(record)
    for policy in master.policies:
        policy.status = ProductStatus.CANCELLED
    db.session.commit()
    get_redis().delete(sweeper.DAILY_KEY.format(day=documents.office_today().isoformat()))
    assert sweeper.sweep().get("daily_queued") == 1
    assert "daily_queued" not in sweeper.sweep()
    record_id = record.id
    run_jobs(app)
    db.session.remove()
    master = db.session.scalar(
        select(CertificateMaster).where(CertificateMaster.record_id == record_id)
    )
    assert not master.shared
    assert len(_events("certificate.share_ended")) == 1
