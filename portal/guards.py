"""Guards every portal feature shares, written once: who may see a page, and whether a
module (Rx, providers, ...) is switched on.

``client_required`` lets through a signed-in client (or staff in the preview); anyone else
is sent to sign in (a page) or answered 401 (a JSON route under ``/portal/api/``).
``module_enabled(key)`` answers 404 while the office has the module switched off.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, redirect, request, url_for

from app.services import portal_settings
from portal.api import error

View = TypeVar("View", bound=Callable[..., Any])
#: A module key, or how to read it from the route's arguments.
ModuleKey = str | Callable[..., str]


def client_required(view: View) -> View:
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if _api():
            if g.get("portal_account") is None:
                return error(401, "Sign in to the portal first.")
        elif g.get("portal_record") is None:
            return redirect(url_for("portal.signin"))
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def _api() -> bool:
    return request.path.startswith("/portal/api/")


def is_module_enabled(key: str) -> bool:
    """Whether the office has the portal module ``key`` ("prescriptions", ...) on."""
    return portal_settings.module_enabled(key)


def module_enabled(key: ModuleKey) -> Callable[[View], View]:
    """404 while the module is off: its pages and JSON routes do not exist then."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            name = key if isinstance(key, str) else key(**kwargs)
            if not is_module_enabled(name):
                abort(404)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate
