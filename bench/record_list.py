"""Benchmark: the signed-in admin record list against a bare Flask page, in one run.

Seeds 100,000 demo records into a scratch database (SQLite in a temporary folder, or
BENCH_DATABASE_URL), serves Portico and a one-route Flask app with gunicorn (2 workers each,
same settings), then drives both with the same client code and the same number of keep-alive
connections. Prints requests/s, p50 and p99 latency for each, the ratio between them, and the
number of SQL queries one list page costs. Run with `make bench`; not part of `make test`.

    BENCH_RECORDS=100000 BENCH_SECONDS=10 BENCH_CONNECTIONS=4 make bench
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
RECORDS = int(os.environ.get("BENCH_RECORDS", "100000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))
PAGE = "/admin/record/"
ADMIN = ("bench-admin@example.com", "bench-admin-password")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(cmd: list[str], env: dict[str, str]) -> None:
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)


def gunicorn(target: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--keep-alive",
            "30",
            target,
        ],
        cwd=ROOT,
        env=env,
    )


def wait_for(port: int, path: str = "/") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"bench: nothing answered on port {port}")


def sign_in(port: int) -> str:
    """Sign in through the real form; returns the session cookie."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/staff/login")
    response = conn.getresponse()
    html = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    body = urlencode({"email": ADMIN[0], "password": ADMIN[1], "csrf_token": token})
    conn.request(
        "POST",
        "/staff/login",
        body,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise SystemExit(f"bench: sign-in failed ({response.status})")
    return response.getheader("Set-Cookie", "").split(";")[0]


def load(port: int, path: str, cookie: str | None, seconds: float) -> tuple[float, list[float]]:
    """Drive `path` from CONNECTIONS keep-alive connections; returns (req/s, latencies)."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    headers = {"Cookie": cookie} if cookie else {}

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        mine = []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"bench: {path} answered {response.status}")
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.monotonic() - started), latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000


def queries_per_page(env: dict[str, str]) -> int:
    """SQL statements one signed-in list page costs, counted in-process."""
    code = f"""
import re
from sqlalchemy import event
from app import create_app
from models import db
app = create_app()
client = app.test_client()
html = client.get("/staff/login").get_data(as_text=True)
token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
client.post("/staff/login", data={{"email": "{ADMIN[0]}", "password": "{ADMIN[1]}",
                                  "csrf_token": token}})
client.get("{PAGE}")
with app.app_context():
    engine = db.engine
count = []
event.listen(engine, "before_cursor_execute", lambda *a: count.append(1))
assert client.get("{PAGE}").status_code == 200
print(len(count))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return int(out.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pt-bench-") as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTICO_", "TEST_"))}
        env.update(
            PORTICO_INSTANCE_PATH=str(Path(scratch) / "instance"),
            PORTICO_LOG_LEVEL="WARNING",
            PORTICO_STAFF_LOGIN_LIMIT="1000 per minute",
        )
        if os.environ.get("BENCH_DATABASE_URL"):
            env["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
        from app.redis import EmbeddedRedis

        embedded = None
        if not env.get("REDIS_URL"):
            embedded = EmbeddedRedis(Path(scratch) / "redis")
            embedded.ensure_running()
            env["REDIS_URL"] = embedded.url
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        servers: list[subprocess.Popen[bytes]] = []
        try:
            print(f"Seeding {RECORDS:,} records into a scratch database…", flush=True)
            started = time.perf_counter()
            run([*flask, "db", "upgrade"], env)
            run([*flask, "seed", "demo", "--records", str(RECORDS), "--seed", "1"], env)
            run(
                [*flask, "users", "create", ADMIN[0], "--role", "admin", "--password", ADMIN[1]],
                env,
            )
            print(f"  seeded in {time.perf_counter() - started:.1f}s")

            app_port, bare_port = free_port(), free_port()
            servers.append(gunicorn("wsgi:app", app_port, env))
            servers.append(gunicorn("bench.bare_app:app", bare_port, env))
            wait_for(app_port, "/healthz")
            wait_for(bare_port)
            cookie = sign_in(app_port)
            load(app_port, PAGE, cookie, 1.0)  # warm up both
            load(bare_port, "/", None, 1.0)

            list_rate, list_lat = load(app_port, PAGE, cookie, SECONDS)
            bare_rate, bare_lat = load(bare_port, "/", None, SECONDS)
            queries = queries_per_page(env)
        finally:
            for server in servers:
                server.terminate()
                server.wait()
            if embedded is not None:
                embedded.stop()

    print()
    print(
        f"gunicorn 2 workers each, {CONNECTIONS} keep-alive connections, {SECONDS:.0f}s each,"
        f" {RECORDS:,} records"
    )
    print(f"{'page':<28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    print(
        f"{'admin record list (50 rows)':<28}{list_rate:>10.1f}"
        f"{percentile(list_lat, 0.5):>10.1f}{percentile(list_lat, 0.99):>10.1f}"
    )
    print(
        f"{'bare Flask page':<28}{bare_rate:>10.1f}"
        f"{percentile(bare_lat, 0.5):>10.1f}{percentile(bare_lat, 0.99):>10.1f}"
    )
    print(f"ratio (record list / bare): {list_rate / bare_rate:.3f} of the bare page's rate")
    print(f"SQL queries per record list page: {queries}")


if __name__ == "__main__":
    main()
