"""The typed helpers settings are read through, and the checks their values must pass.

Each helper reads one environment variable and says, in a :class:`ConfigError`, which variable
is wrong and what it should look like.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(Exception):
    """A setting is missing or malformed; the message says which and how to fix it."""


SECRETS_FILE = "secrets.json"
GENERATED = ("SECRET_KEY", "SECURITY_PASSWORD_SALT", "SECURITY_TOTP_SECRETS")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def env_int(name: str, default: int) -> int:
    raw = env_str(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def env_list(name: str, default: str) -> list[str]:
    raw = env_str(name, default) or ""
    return [part.strip() for part in raw.split(",") if part.strip()]


def parse_totp_secrets(raw: str) -> dict[int, str]:
    """``1:abc,2:def`` -> ``{1: "abc", 2: "def"}`` (Flask-Security's shape)."""
    result: dict[int, str] = {}
    for part in raw.split(","):
        version, sep, secret = part.strip().partition(":")
        if not sep or not version.isdigit() or not secret:
            raise ConfigError(
                "SECURITY_TOTP_SECRETS must look like '1:some-long-secret[,2:another]'"
            )
        result[int(version)] = secret
    return result


def normalise_database_url(url: str) -> str:
    """Accept the URLs hosting providers hand out and use psycopg 3 for PostgreSQL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_or_create_secrets(instance_path: Path) -> dict[str, str]:
    path = instance_path / SECRETS_FILE
    stored: dict[str, str] = {}
    if path.exists():
        try:
            stored = json.loads(path.read_text())
        except ValueError:
            raise ConfigError(f"{path} is not valid JSON: fix or delete it") from None
    changed = False
    for key in GENERATED:
        if not stored.get(key):
            if key == "SECURITY_TOTP_SECRETS":
                stored[key] = f"1:{secrets.token_urlsafe(32)}"
            else:
                stored[key] = secrets.token_urlsafe(48)
            changed = True
    if changed:
        instance_path.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(stored, fh, indent=2)
        os.replace(tmp, path)
    return stored


#: Where links point when PORTICO_BASE_URL is not set (`flask serve` sets it from its port).
DEFAULT_BASE_URL = "http://127.0.0.1:5000"


def base_url(raw: str | None, production: bool) -> str:
    """PORTICO_BASE_URL checked: an http(s) address, required in production."""
    if raw is None:
        if production:
            raise ConfigError(
                "PORTICO_ENV=production needs PORTICO_BASE_URL, the address clients open "
                "(e.g. https://portal.example.com): every emailed and texted link starts with it"
            )
        return DEFAULT_BASE_URL
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(
            f"PORTICO_BASE_URL must be an http(s) address such as https://portal.example.com, "
            f"not {raw!r}"
        )
    return raw.rstrip("/")


def check_sign_in_limits(config: dict[str, Any]) -> None:
    for name in (
        "PORTICO_STAFF_LOCKOUT_FAILURES",
        "PORTICO_STAFF_LOCKOUT_MINUTES",
        "PORTICO_STAFF_IDLE_MINUTES",
        "PORTICO_SESSION_MAX_HOURS",
        "PORTICO_MAX_REQUEST_MB",
    ):
        if int(config[name]) < 1:
            raise ConfigError(f"{name} must be 1 or more, not {config[name]!r}")
    for name in ("PORTICO_PORTAL_PAGE_CACHE_SECONDS", "PORTICO_STAFF_LIST_CACHE_SECONDS"):
        if int(config[name]) < 0:
            raise ConfigError(f"{name} must be 0 (off) or more, not {config[name]!r}")


def check_sms(config: dict[str, Any]) -> None:
    provider = config["PORTICO_SMS_PROVIDER"]
    if provider not in ("log", "twilio"):
        raise ConfigError(f"PORTICO_SMS_PROVIDER must be log or twilio, not {provider!r}")
    if provider == "twilio":
        missing = [
            name
            for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
            if not config.get(name)
        ]
        if missing:
            raise ConfigError("PORTICO_SMS_PROVIDER=twilio needs " + ", ".join(missing))


def check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"PORTICO_TIMEZONE must be an IANA time zone such as Europe/London, not {name!r}"
        ) from None
