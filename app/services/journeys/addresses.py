"""Where a journey may send its visitors and who may show it: the redirect after the ending
page (the office's own host, or a host of ``PORTICO_JOURNEY_REDIRECT_HOSTS``), checked when
an admin saves it and again each time it is followed, and the sites allowed to embed the
journey in a frame (https origins, one a line). :mod:`.definitions` re-exports these.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import current_app

from app.services.errors import ValidationError
from models import Journey

#: Hosts a development machine serves a test page from over plain http.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
#: A host as a CSP source may name it: DNS labels (ASCII; an international name in its
#: xn-- form) or an IPv6 address. Anything else (";", quotes, commas) would end the
#: ``frame-ancestors`` directive and start another in the journey's policy.
HOST = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)
IPV6 = re.compile(r"^[0-9a-f:.]+$")


def allowed_host(host: str | None) -> bool:
    """Whether a journey may send visitors to ``host``: the office's own host, or one of
    ``PORTICO_JOURNEY_REDIRECT_HOSTS``."""
    if not host:
        return False
    own = urlsplit(current_app.config["PORTICO_BASE_URL"]).hostname
    allowed = {h.lower() for h in current_app.config.get("PORTICO_JOURNEY_REDIRECT_HOSTS", [])}
    return host.lower() == (own or "").lower() or host.lower() in allowed


def check_redirect(url: str | None) -> str | None:
    """A redirect address as typed, checked: None when empty; http(s), no user name, no
    spaces or backslashes (browsers read them otherwise than we do), an allowed host."""
    text = (url or "").strip()
    if not text:
        return None
    refused = ValidationError(
        "Enter an http or https address on a host this office allows "
        "(PORTICO_JOURNEY_REDIRECT_HOSTS).",
        field="redirect_url",
    )
    if len(text) > 2000 or "\\" in text or any(c.isspace() or ord(c) < 32 for c in text):
        raise refused
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise refused from None
    if parts.scheme not in ("http", "https") or "@" in parts.netloc:
        raise refused
    if not allowed_host(parts.hostname):
        raise refused
    return text


def allowed_redirect(url: str | None) -> str | None:
    """The run-time check: ``url`` while it is still allowed, else None (never raises): the
    allow-list may have changed since the journey was saved."""
    try:
        return check_redirect(url)
    except ValidationError:
        return None


def _origin(text: str) -> str:
    refused = ValidationError(
        f"{text!r} is not a site address: give https://host (with :port if it has one), "
        "one a line.",
        field="embed_origins",
    )
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise refused from None
    host = (parts.hostname or "").lower()
    if (
        not host
        or not (HOST.match(host) or (":" in host and IPV6.match(host)))
        or "@" in parts.netloc
        or "*" in text
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise refused
    if parts.scheme == "http" and host not in LOCAL_HOSTS:
        raise ValidationError(
            f"{text!r}: a site must use https to embed a journey (http only for localhost).",
            field="embed_origins",
        )
    if parts.scheme not in ("http", "https"):
        raise refused
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def parse_origins(text: str | None) -> list[str]:
    """The sites allowed to embed, one a line (commas and spaces also separate them),
    normalised to ``scheme://host[:port]`` without repeats; ValidationError naming the first
    that is not one."""
    found: list[str] = []
    for part in re.split(r"[\s,]+", text or ""):
        if part:
            origin = _origin(part.rstrip("/") if part.count("/") > 2 else part)
            if origin not in found:
                found.append(origin)
    return found


def origins(journey: Journey) -> list[str]:
    """The sites allowed to embed ``journey`` now (a line that no longer reads as a site is
    left out rather than trusted)."""
    kept = []
    for line in (journey.embed_origins or "").splitlines():
        try:
            kept.extend(parse_origins(line))
        except ValidationError:
            continue
    return kept
