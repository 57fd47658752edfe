"""Portal screens."""

from __future__ import annotations

from flask import render_template

from portal import bp


@bp.get("/")
def signin():  # type: ignore[no-untyped-def]
    return render_template("portal/signin.html")
