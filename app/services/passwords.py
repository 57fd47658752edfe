"""How strong a new password must be: the one rule for clients and staff alike (the portal,
the staff panel, /staff/change and ``flask users create``, through
:class:`app.security.StaffPasswordUtil`), with the same messages.

Length alone lets ``password1234`` and the client's own name through. zxcvbn estimates how many
guesses a password takes, knowing common passwords, names, words, dates, keyboard patterns and
whatever the caller passes as ``user_inputs`` (the person's name and email address), and scores
it from 0 to 4. Scores below :data:`MIN_SCORE` are refused with zxcvbn's own advice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask_babel import gettext as _
from zxcvbn import zxcvbn

from app.services.errors import ValidationError

#: zxcvbn's scale: 3 is "safely unguessable: moderate protection from offline slow-hash
#: scenarios" (about 10^8 guesses and more).
MIN_SCORE = 3
MIN_LENGTH = 10
MAX_LENGTH = 200
#: zxcvbn's time grows with the length; beyond this it learns nothing new.
_CHECKED_LENGTH = 100


def _inputs(user_inputs: Iterable[str | None]) -> list[str]:
    """The person's words: "Cleo Client", "cleo.c@example.com" give cleo, client, cleo.c,..."""
    words: list[str] = []
    for value in user_inputs:
        if not value:
            continue
        value = value.lower()
        words.append(value)
        words.extend(part for part in re.split(r"[\s@._+-]+", value) if len(part) > 2)
    return words


def check_strength(password: str, user_inputs: Iterable[str | None] = ()) -> None:
    """Raise :class:`ValidationError` (``field="password"``) for a password that is too short,
    too long or too easy to guess."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(
            _("Use at least %(count)d characters.", count=MIN_LENGTH), field="password"
        )
    if len(password) > MAX_LENGTH:
        raise ValidationError(
            _("Use at most %(count)d characters.", count=MAX_LENGTH), field="password"
        )
    result = zxcvbn(password[:_CHECKED_LENGTH], user_inputs=_inputs(user_inputs))
    if result["score"] >= MIN_SCORE:
        return
    feedback = result.get("feedback") or {}
    advice = [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
    # zxcvbn's sentences are English; they pass through _() so a translation can carry them.
    said = " ".join(_(text) for text in advice if text)
    message = _("This password is too easy to guess.")
    if said:
        message = f"{message} {said}"
    raise ValidationError(
        message + " " + _("A few uncommon words together make a strong password."),
        field="password",
    )
