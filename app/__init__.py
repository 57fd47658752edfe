"""The application factory."""

from __future__ import annotations

import logging
import os
import weakref
from pathlib import Path
from typing import Any

import wtforms_json
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import settings
from app.settings import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

__all__ = ["PROJECT_ROOT", "ConfigError", "create_app"]


def create_app(config_override: dict[str, Any] | None = None) -> Flask:
    """Build a Portico app. Nothing here talks to the database or Redis."""
    from admin_views import init_admin
    from app import database
    from app.cli import init_cli
    from app.errors import init_errors
    from app.extensions import babel, csrf, db, limiter, mail, migrate, redis_store
    from app.headers import init_headers
    from app.health import bp as health_bp
    from app.security import init_security
    from app.services import page_cache
    from app.services.validation import format_phone
    from app.storage import init_storage
    from app.transactions import init_transactions
    from portal import bp as portal_bp
    from portal import preview_bp
    from portal.journeys import journeys_bp

    _init_wtforms_json()

    config = settings.load(config_override)
    instance_path = Path(config["PORTICO_INSTANCE_PATH"])
    instance_path.mkdir(parents=True, exist_ok=True)

    app = Flask(__name__, instance_path=str(instance_path))
    app.config.update(config)
    database.configure(app)
    _configure_logging(app)

    db.init_app(app)
    with app.app_context():  # the engine is made, not connected
        database.ping_when_idle(app, db.engine)
    page_cache.install()
    init_transactions(app)  # first registered, so its after_request runs last
    migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True
    )
    babel.init_app(app, locale_selector=_select_locale)
    csrf.init_app(app)
    mail.init_app(app)
    redis_store.init_app(app)
    _init_rate_limits(app, limiter)
    init_security(app)
    init_headers(app)
    init_errors(app)
    init_storage(app)

    app.register_blueprint(health_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(preview_bp)
    app.register_blueprint(journeys_bp)
    app.add_template_global(format_phone)
    init_admin(app)
    init_cli(app)

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        from flask import redirect, url_for

        return redirect(url_for("portal.signin"))

    if app.config["PORTICO_PROXY_HOPS"]:
        hops = app.config["PORTICO_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    return app


def _select_locale() -> str:
    """The best of the languages we ship for the browser's Accept-Language. Babel's own
    forms only ("es", "es_MX"): a hyphenated tag makes Locale.parse fail on every page."""
    from flask import current_app, request

    supported: list[str] = current_app.config["PORTICO_LOCALES"]
    if not request:
        return supported[0]
    return request.accept_languages.best_match(supported) or supported[0]


_WTFORMS_JSON = False


def _init_wtforms_json() -> None:
    """Portal forms also take JSON (Form.from_json). wtforms-json patches WTForms for every
    form in the process (an empty field reads as None), so it must happen exactly once."""
    global _WTFORMS_JSON
    if not _WTFORMS_JSON:
        wtforms_json.init()
        _WTFORMS_JSON = True


def _configure_logging(app: Flask) -> None:
    level = getattr(logging, app.config["PORTICO_LOG_LEVEL"], logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app.logger.setLevel(level)


def _init_rate_limits(app: Flask, limiter: Any) -> None:
    from app.redis import app_redis

    store = app_redis(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", store.limiter_url)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "portico-limits")
    if store.embedded is not None:
        # The embedded server must be up before the limiter's first look at it.
        app.before_request(store.ensure)
    limiter.init_app(app)
    _APPS.add(app)


# Forked processes (gunicorn workers, RQ work horses) must not reuse the parent's pooled
# database connections: each child drops them (without closing the parent's) right after fork.
_APPS: weakref.WeakSet[Flask] = weakref.WeakSet()


def _dispose_engines_after_fork() -> None:
    from app.extensions import db

    for app in list(_APPS):
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)


os.register_at_fork(after_in_child=_dispose_engines_after_fork)
