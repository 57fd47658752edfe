"""Reviews: a client rates the office's service from 1 to 5 with an optional comment, asked
(staff's *Request review*, one answer per request) or not.

:func:`request_review` asks a client (the event ``staff.review.requested`` emails them the
"Click to rate" link); :func:`pending_request_for` is the request a client's portal shows a
banner for; :func:`submit` keeps a review, answers the request, tells the office
(``portal.review.submitted``) and, for a rating at or below the portal setting
``review_task_threshold``, makes a follow-up task for the agent with the comment in it.
:func:`average` and :func:`trend` are the Reviews list's figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.services import events
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationError
from app.services.portal_credentials import primary_account
from app.services.portal_settings import get_settings, module_enabled
from models import (
    AccountStatus,
    PortalAccount,
    Record,
    RecordKind,
    Review,
    ReviewRequest,
    Task,
    TaskKind,
    User,
    db,
    utcnow,
)

#: The portal module (portal settings) that must be on for the page, the API and requests.
MODULE = "reviews"
LOWEST = 1
HIGHEST = 5
COMMENT_MAX = 2000
#: How long the agent has to follow up a low rating.
FOLLOW_UP_HOURS = 24


def can_request(record: Record) -> bool:
    """Whether staff may ask this record for a review: a client whose portal access is on."""
    account = primary_account(record)
    return (
        record.kind == RecordKind.CLIENT
        and account is not None
        and account.status == AccountStatus.ENABLED
    )


def open_request(record: Record) -> ReviewRequest | None:
    """The record's unanswered request, the newest if there were several."""
    return db.session.scalar(
        select(ReviewRequest)
        .where(ReviewRequest.record_id == record.id, ReviewRequest.answered_at.is_(None))
        .order_by(ReviewRequest.id.desc())
        .limit(1)
    )


def request_review(record: Record, by: User) -> ReviewRequest:
    """Ask the client for a review: the event ``staff.review.requested`` sends the "Click to
    rate" email (per its rule). While a request is open, asking again sends the email again
    for that same request, so the client has one question to answer."""
    if not can_request(record):
        raise ValidationError(
            "Only a client with portal access can be asked for a review: enable self service first."
        )
    if not module_enabled(MODULE):
        # The email's link would lead to a page that does not exist, and no banner would show.
        raise ValidationError(
            "Switch the Reviews module on in the portal settings first: "
            "the client's link would lead nowhere while it is off."
        )
    request = open_request(record)
    if request is None:
        request = ReviewRequest(record_id=record.id, requested_by_id=by.id)
        db.session.add(request)
        db.session.flush()
    events.emit(
        "staff.review.requested",
        actor=Actor.staff(by),
        record=record,
        details={"review_request": request.id},
    )
    return request


def pending_request_for(account: PortalAccount | None) -> ReviewRequest | None:
    """The request the account's portal asks them to answer (a banner on home), if any."""
    if account is None:
        return None
    return open_request(account.record)


def get_request(account: PortalAccount, request_id: int) -> ReviewRequest:
    """A request made to the account's record; another record's is :class:`NotFound`."""
    request = db.session.get(ReviewRequest, request_id)
    if request is None or request.record_id != account.record_id:
        raise NotFound(_("There is no such review request."))
    return request


def clean_rating(rating: object) -> int:
    if isinstance(rating, bool) or not isinstance(rating, int) or not LOWEST <= rating <= HIGHEST:
        raise ValidationError(
            _("Choose a rating from %(low)d to %(high)d stars.", low=LOWEST, high=HIGHEST),
            field="rating",
        )
    return rating


def clean_comment(comment: str | None) -> str | None:
    text = (comment or "").replace("\r\n", "\n").strip()
    if len(text) > COMMENT_MAX:
        raise ValidationError(
            _("Keep the comment under %(most)s characters.", most=f"{COMMENT_MAX:,}"),
            field="comment",
        )
    return text or None


def submit(
    account: PortalAccount,
    rating: int,
    comment: str | None = None,
    *,
    request_id: int | None = None,
) -> Review:
    """The client's review. ``request_id`` is the request they answer (refused when it is
    another record's: :class:`NotFound`; or already answered: :class:`ValidationError`);
    without one, the record's open request (if any) is answered. Emits
    ``portal.review.submitted``; a rating at or below the threshold makes a follow-up task
    for the assigned agent."""
    rating = clean_rating(rating)
    comment = clean_comment(comment)
    record = account.record
    if request_id is not None:
        request: ReviewRequest | None = get_request(account, request_id)
    else:
        request = open_request(record)
    already = _("You have already answered this review request. Thank you!")
    if request is not None and request.answered_at is not None:
        raise ValidationError(already)
    now = utcnow()
    review = Review(
        record_id=record.id,
        account_id=account.id,
        rating=rating,
        comment=comment,
        created_at=now,
        review_request_id=request.id if request else None,
    )
    try:
        with db.session.begin_nested():
            if request is not None:
                request.answered_at = now
            db.session.add(review)
    except IntegrityError:
        if request is None:
            raise
        # Another answer to it was kept after this one found it open (two tabs, a script).
        raise ValidationError(already) from None
    events.emit(
        "portal.review.submitted",
        actor=Actor.client(account),
        record=record,
        details={
            "subject": f"{rating} out of {HIGHEST}",
            "rating": rating,
            "comment": comment or "",
            "review": review.id,
        },
    )
    if rating <= get_settings().review_task_threshold:
        follow_up(review, account)
    return review


def follow_up(review: Review, account: PortalAccount) -> Task:
    """The agent's task after a low rating, the client's comment in its notes."""
    record = review.record
    task = Task(
        title=f"Follow up: {account.person_name} rated us {review.rating} out of {HIGHEST}"[:200],
        kind=TaskKind.CALL,
        record_id=record.id,
        assignee_id=record.assigned_agent_id,
        due_at=utcnow() + timedelta(hours=FOLLOW_UP_HOURS),
        notes=review.comment or "(The client left no comment.)",
    )
    db.session.add(task)
    db.session.flush()
    return task


# -- figures for the Reviews list -----------------------------------------------------------


@dataclass(frozen=True)
class Month:
    """One month of the trend: its first day, the average rating (None: no reviews)."""

    start: date
    average: float | None
    count: int


def average() -> tuple[float | None, int]:
    """The average rating of every review, and how many there are."""
    avg, count = db.session.execute(select(func.avg(Review.rating), func.count(Review.id))).one()
    return (round(float(avg), 2) if avg is not None else None), int(count)


def _month_start(day: date, back: int) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def trend(months: int = 6, now: datetime | None = None) -> list[Month]:
    """The average rating per month, the last ``months`` months (this one included), oldest
    first; months are the office's (``PORTICO_TIMEZONE``)."""
    zone = ZoneInfo(current_app.config["PORTICO_TIMEZONE"])
    today = (now or utcnow()).astimezone(zone).date()
    first = _month_start(today, months - 1)
    since = datetime(first.year, first.month, 1, tzinfo=zone)
    rows = db.session.execute(
        select(Review.created_at, Review.rating).where(Review.created_at >= since)
    ).all()
    totals: dict[date, list[int]] = {}
    for created_at, rating in rows:
        local = created_at.astimezone(zone).date()
        totals.setdefault(date(local.year, local.month, 1), []).append(rating)
    result = []
    for back in range(months - 1, -1, -1):
        start = _month_start(today, back)
        ratings = totals.get(start, [])
        mean = round(sum(ratings) / len(ratings), 2) if ratings else None
        result.append(Month(start, mean, len(ratings)))
    return result
