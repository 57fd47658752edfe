"""What the web benchmarks share: a scratch Portico (its own instance folder and database, and
an embedded Redis unless REDIS_URL is set), gunicorn serving it next to a bare Flask page, and
the load driver.

The driver is wrk when it is on PATH (`apt-get install wrk`): 2 threads written in C, so the
servers keep nearly all of a 2-core machine. Otherwise it is a Python client with one thread
per connection, which takes about a core from the servers and caps the bare page at about
half of what wrk measures. Either way any response other than 2xx, and any socket error or
timeout, stops the run.

    BENCH_SECONDS=10 BENCH_CONNECTIONS=32 BENCH_ROUNDS=2 BENCH_DATABASE_URL=postgresql://…
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
WRK = shutil.which("wrk")
WRK_THREADS = 2
#: The fractions of the requests at which a run keeps its latency: enough for p50 and p99 of
#: one run exactly, and of several runs together to within a percent.
GRID = (*(n / 100 for n in range(1, 100)), 0.995, 0.999, 1.0)
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def driver() -> str:
    """Which client drives the pages, said in the benchmark's header."""
    if WRK:
        return f"wrk ({WRK_THREADS} threads, {CONNECTIONS} connections)"
    return (
        f"the Python client ({CONNECTIONS} threads in one process; wrk is not installed and"
        " this client takes about a core from the servers)"
    )


def database() -> str:
    return "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(cmd: list[str], env: dict[str, str]) -> None:
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)


@contextmanager
def scratch_instance(**settings: str) -> Iterator[dict[str, str]]:
    """The environment of a Portico of its own in a temporary folder: SQLite there (or
    BENCH_DATABASE_URL), REDIS_URL if set, otherwise an embedded Redis stopped at the end."""
    from app.redis import EmbeddedRedis

    with tempfile.TemporaryDirectory(prefix="pt-bench-") as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTICO_", "TEST_"))}
        env.update(
            PORTICO_INSTANCE_PATH=str(Path(scratch) / "instance"),
            PORTICO_LOG_LEVEL="WARNING",
            **settings,
        )
        embedded = None
        with ExitStack() as stack:
            if os.environ.get("BENCH_DATABASE_URL"):
                env["DATABASE_URL"] = stack.enter_context(
                    scratch_schema(os.environ["BENCH_DATABASE_URL"])
                )
            if not env.get("REDIS_URL"):
                embedded = EmbeddedRedis(Path(scratch) / "redis")
                embedded.ensure_running()
                stack.callback(embedded.stop)
                env["REDIS_URL"] = embedded.url
            yield env


@contextmanager
def scratch_schema(url: str) -> Iterator[str]:
    """``url`` (PostgreSQL) with a schema of its own as the search path, dropped at the end:
    each run seeds an empty database, as SQLite's temporary file does (runs used to add their
    rows to the last one's)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from app.settings import normalise_database_url

    parsed = make_url(normalise_database_url(url))
    if not parsed.drivername.startswith("postgresql"):
        yield url
        return
    schema = f"portico_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        scoped = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def seed_demo(env: dict[str, str], records: int) -> None:
    """Migrate the scratch database and seed `records` demo records into it."""
    run([*FLASK, "db", "upgrade"], env)
    run([*FLASK, "seed", "demo", "--records", str(records), "--seed", "1"], env)


def analyse(env: dict[str, str]) -> None:
    """Give PostgreSQL's planner its statistics, as autovacuum would have by the time a real
    office has 100,000 records (the record list's estimated count reads them)."""
    if not env.get("DATABASE_URL", "").startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(env["DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()


def gunicorn(target: str, port: int, env: dict[str, str], *options: str) -> subprocess.Popen[bytes]:
    """2 sync workers. Started in the repository, so gunicorn also reads the project's
    gunicorn.conf.py, as production does; `options` override it."""
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "--workers", "2"),
            *("--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--keep-alive", "30"),
            *options,
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


def sign_in(port: int, path: str, fields: dict[str, str]) -> str:
    """Sign in through the real form at `path` (CSRF token included); returns the session
    cookie."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", path)
    response = conn.getresponse()
    html = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if csrf is None:
        raise SystemExit(f"bench: no sign-in form at {path} ({response.status})")
    conn.request(
        "POST",
        path,
        urlencode({**fields, "csrf_token": csrf.group(1)}),
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise SystemExit(f"bench: signing in at {path} failed ({response.status})")
    return response.getheader("Set-Cookie", "").split(";")[0]


@dataclass(frozen=True)
class Servers:
    app_port: int
    bare_port: int
    #: The gunicorn master serving Portico (its children are the web workers).
    app_master: int


@contextmanager
def serving(env: dict[str, str]) -> Iterator[Servers]:
    """Portico (`wsgi:app`) and the bare page (`bench/bare_app.py`) under gunicorn with the
    same settings, each on a free port, stopped at the end. The bare page's workers are never
    replaced: at thousands of requests a second gunicorn.conf.py's max_requests would fork
    new ones several times a second, and count that against the baseline."""
    app_port, bare_port = free_port(), free_port()
    servers = [
        gunicorn("wsgi:app", app_port, env),
        gunicorn("bench.bare_app:app", bare_port, env, "--max-requests", "0"),
    ]
    try:
        wait_for(app_port, "/healthz")
        wait_for(bare_port)
        yield Servers(app_port, bare_port, servers[0].pid)
    finally:
        for server in servers:
            server.terminate()
            server.wait()


@dataclass(frozen=True)
class Run:
    """A page driven for a while: requests completed, in how many seconds, and the latency
    (seconds) at each fraction of the requests in GRID."""

    requests: int
    seconds: float
    latencies: tuple[float, ...]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def load(port: int, path: str, cookie: str | None, seconds: float) -> Run:
    """Drive `path` from CONNECTIONS connections for `seconds`, with wrk when installed."""
    if WRK:
        return _wrk(port, path, cookie, seconds)
    return _python_client(port, path, cookie, seconds)


def rate(runs: list[Run]) -> float:
    """Requests/s of several rounds: the mean of theirs."""
    return sum(r.rate for r in runs) / len(runs)


def percentile(runs: list[Run], fraction: float) -> float:
    """Latency in milliseconds under which `fraction` of all the runs' requests finished."""
    total = sum(r.requests for r in runs)
    for value in sorted({v for r in runs for v in r.latencies}):
        below = sum(
            r.requests * max((f for f, v in zip(GRID, r.latencies, strict=True) if v <= value))
            for r in runs
            if r.latencies[0] <= value
        )
        if below >= fraction * total - 1e-9:
            return value * 1000
    return 0.0


#: wrk's Lua hooks: each thread counts the responses that are not 2xx; at the end, the totals,
#: the socket errors and the latency at each fraction of GRID (microseconds).
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not_2xx = 0; first = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then
    not_2xx = not_2xx + 1
    if first == 0 then first = status end
  end
end
function done(summary, latency, requests)
  local bad, first_bad = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("not_2xx")
    if first_bad == 0 then first_bad = thread:get("first") end
  end
  local e = summary.errors
  io.write(string.format("bench-result %d %d %d %d %d %d %d %d %d\\n", summary.requests,
    summary.duration, e.connect, e.read, e.write, e.timeout, e.status, bad, first_bad))
  for _, p in ipairs({@GRID@}) do
    local value = latency.max  -- wrk's percentile(100) is 0
    if p < 100 then value = latency:percentile(p) end
    io.write(string.format("bench-latency %d\\n", value))
  end
end
"""


def _wrk(port: int, path: str, cookie: str | None, seconds: float) -> Run:
    """wrk measures a request from writing it to reading its response: gunicorn's sync workers
    close each connection, and wrk connects again without counting that time."""
    with tempfile.TemporaryDirectory(prefix="pt-wrk-") as folder:
        script = Path(folder) / "report.lua"
        script.write_text(WRK_SCRIPT.replace("@GRID@", ", ".join(f"{f * 100:g}" for f in GRID)))
        headers = ["-H", f"Cookie: {cookie}"] if cookie else []
        out = subprocess.run(
            [
                *(str(WRK), f"-t{WRK_THREADS}", f"-c{CONNECTIONS}"),
                *(f"-d{max(1, round(seconds))}s", "--timeout", "30s", "--latency"),
                *("-s", str(script), *headers, f"http://127.0.0.1:{port}{path}"),
            ],
            capture_output=True,
            text=True,
        )
    lines = out.stdout.splitlines()
    result = [line.split()[1:] for line in lines if line.startswith("bench-result ")]
    if out.returncode or not result:
        raise SystemExit(f"bench: wrk failed on {path}:\n{out.stdout}{out.stderr}")
    requests, duration, connect, read, write, timeout, status, not_2xx, first = map(int, result[0])
    if connect or read or write or timeout or status or not_2xx or not requests:
        raise SystemExit(
            f"bench: {path} failed: {not_2xx} responses other than 2xx (first: {first}),"
            f" socket errors: connect {connect}, read {read}, write {write},"
            f" timeout {timeout}\n{out.stdout}"
        )
    latencies = [int(line.split()[1]) / 1e6 for line in lines if line.startswith("bench-latency")]
    return Run(requests, duration / 1e6, tuple(latencies))


def _python_client(port: int, path: str, cookie: str | None, seconds: float) -> Run:
    """A raw socket per connection with the request written once: http.client's own work per
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
                if not status.startswith(b"HTTP/1.1 2"):
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
    elapsed = time.monotonic() - started
    if failures or not latencies:
        first = failures[0] if failures else "no request completed"
        raise SystemExit(f"bench: {len(failures)} connections failed on {path}, first: {first}")
    ordered = sorted(latencies)
    at = tuple(ordered[min(len(ordered) - 1, int(len(ordered) * f))] for f in GRID)
    return Run(len(ordered), elapsed, at)
