"""``/healthz``: liveness and readiness of the app, its database and its Redis, and how the
background work is doing: the oldest due action not yet done, the oldest message not yet sent,
the workers alive and whether the sweeper (the scheduler) runs. 503 when any of the database
or Redis is down, or when work is more than a minute late."""

from __future__ import annotations

import time

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.extensions import limiter
from app.redis import app_redis
from models import db

bp = Blueprint("health", __name__)


def _check(probe) -> dict[str, object]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _queue() -> dict[str, object]:
    from app.services.system import queue_status

    try:
        return queue_status().as_dict()
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


@bp.get("/healthz")
@limiter.exempt
def healthz():  # type: ignore[no-untyped-def]
    def database() -> None:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def redis() -> None:
        client = app_redis().new_client(socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()

    checks = {"database": _check(database), "redis": _check(redis)}
    if checks["database"]["ok"] and checks["redis"]["ok"]:
        checks["queue"] = _queue()
    healthy = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if healthy else "unavailable", **checks}
    return jsonify(body), 200 if healthy else 503
