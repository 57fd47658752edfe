"""Benchmark: the signed-in admin record list against a bare Flask page, in one run.

Seeds 100,000 demo records into a scratch database (SQLite in a temporary folder, or
BENCH_DATABASE_URL), serves Portico and a one-route Flask app with gunicorn (2 workers each,
same settings), then drives both with the same client code and the same number of keep-alive
connections, in alternating rounds. Prints the issue's table (requests/s for both, their ratio,
p99), the list page's size for 50 rows, and the number of SQL queries a list page costs, plain
and with filters and a search. Run with `make bench`; not part of `make test`.

    BENCH_RECORDS=100000 BENCH_SECONDS=10 BENCH_CONNECTIONS=32 BENCH_ROUNDS=2 make bench

The client runs on the same machine as both servers (one Python process, one thread per
connection): on a 2-core machine it takes CPU from them, the bare page's more than the list's.
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
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
PAGE = "/admin/record/"
#: A narrowed page: two filters, a search, and four times the rows.
NARROWED = (
    "/admin/record/?page_size=200&flt0_kind_is=client"
    "&flt1_product_status_any_product_is=active&search=a"
)
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
    """Drive `path` from CONNECTIONS connections; returns (req/s, latencies).

    A raw socket per connection with the request written once: http.client's own work per
    request would otherwise be a large part of the bare page's cost. Gunicorn's sync workers
    close the connection after each response; the client then connects again, as a browser
    would, and that time counts."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if cookie:
        head += f"Cookie: {cookie}\r\n"
    request = (head + "\r\n").encode()

    def worker() -> None:
        mine = []
        sock = None
        try:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                if sock is None:
                    sock = socket.create_connection(("127.0.0.1", port))
                    reader = sock.makefile("rb")
                sock.sendall(request)
                status = reader.readline()
                length, close = 0, False
                while (line := reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                    elif name.lower() == b"connection" and value.strip().lower() == b"close":
                        close = True
                reader.read(length)
                if b" 200 " not in status:
                    raise RuntimeError(f"{path} answered {status!r}")
                if close:
                    reader.close()
                    sock.close()
                    sock = None
                mine.append(time.perf_counter() - started)
        except (OSError, RuntimeError) as exc:
            with lock:
                failures.append(str(exc))
        finally:
            if sock is not None:
                sock.close()
            with lock:
                latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"bench: {len(failures)} connections failed, first: {failures[0]}")
    return len(latencies) / (time.monotonic() - started), latencies


def page_size(port: int, cookie: str) -> int:
    """Bytes of HTML of one list page (50 rows)."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", PAGE, headers={"Cookie": cookie})
    return len(conn.getresponse().read())


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000


def queries_per_page(env: dict[str, str]) -> tuple[int, int]:
    """SQL statements one signed-in list page costs, counted in-process: the plain page, and
    a page of 200 rows with filters and a search."""
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
counts = []
event.listen(engine, "before_cursor_execute", lambda *a: counts.append(1))
for page in ("{PAGE}", "{NARROWED}"):
    counts.clear()
    assert client.get(page).status_code == 200
    print(len(counts))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    plain, narrowed = out.stdout.strip().splitlines()[-2:]
    return int(plain), int(narrowed)


def analyse(url: str) -> None:
    """Give PostgreSQL's planner its statistics, as autovacuum would have by the time a real
    office has 100,000 records (the list's estimated count reads them)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()


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
            if env.get("DATABASE_URL", "").startswith("postgresql"):
                analyse(env["DATABASE_URL"])

            app_port, bare_port = free_port(), free_port()
            servers.append(gunicorn("wsgi:app", app_port, env))
            servers.append(gunicorn("bench.bare_app:app", bare_port, env))
            wait_for(app_port, "/healthz")
            wait_for(bare_port)
            cookie = sign_in(app_port)
            load(app_port, PAGE, cookie, 1.0)  # warm up both
            load(bare_port, "/", None, 1.0)

            # Alternating rounds, so a busy moment on the machine falls on both pages.
            list_runs, bare_runs = [], []
            for _ in range(ROUNDS):
                list_runs.append(load(app_port, PAGE, cookie, SECONDS / ROUNDS))
                bare_runs.append(load(bare_port, "/", None, SECONDS / ROUNDS))
            size = page_size(app_port, cookie)
            queries, narrowed_queries = queries_per_page(env)
        finally:
            for server in servers:
                server.terminate()
                server.wait()
            if embedded is not None:
                embedded.stop()

    list_rate = sum(rate for rate, _ in list_runs) / ROUNDS
    bare_rate = sum(rate for rate, _ in bare_runs) / ROUNDS
    list_lat = [value for _, lats in list_runs for value in lats]
    bare_lat = [value for _, lats in bare_runs for value in lats]
    database = "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite"
    print()
    print(
        f"{database}, {RECORDS:,} records, gunicorn 2 workers each, {CONNECTIONS} keep-alive"
        f" connections, {ROUNDS} alternating rounds, {SECONDS:.0f}s per page"
    )
    print()
    print("| page | Portico | bare Flask | ratio | p50 | p99 |")
    print("|---|---|---|---|---|---|")
    print(
        f"| staff record list `{PAGE}` | {list_rate:,.0f} req/s | {bare_rate:,.0f} req/s"
        f" | {list_rate / bare_rate:.3f} | {percentile(list_lat, 0.5):.0f} ms"
        f" | {percentile(list_lat, 0.99):.0f} ms |"
    )
    print()
    print(
        f"bare page: p50 {percentile(bare_lat, 0.5):.1f} ms,"
        f" p99 {percentile(bare_lat, 0.99):.1f} ms"
    )
    print(f"record list page, 50 rows: {size / 1000:.1f} KB of HTML")
    print(
        f"SQL queries per record list page: {queries} (200 rows, two filters and a search:"
        f" {narrowed_queries})"
    )
    print(
        "targets: ratio >= 0.10, p99 < 100 ms, page < 80 KB, queries <= 8"
        f" -> {'met' if list_rate / bare_rate >= 0.10 else 'NOT met'},"
        f" {'met' if percentile(list_lat, 0.99) < 100 else 'NOT met'},"
        f" {'met' if size < 80_000 else 'NOT met'},"
        f" {'met' if max(queries, narrowed_queries) <= 8 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
