"""Benchmark: the client portal's pages against a bare Flask page, in one run (issue 18).

Seeds 100,000 demo records and 1,000,000 activity entries (bulk inserts) into a scratch
database (SQLite in a temporary folder, or BENCH_DATABASE_URL), gives one client portal access
(with 200 activity entries of their own), serves Portico and a one-route Flask app with
gunicorn (2 workers each), signs the client in through the real form, and drives the portal
home, My details and the JSON details from 32 connections in alternating rounds with the bare
page. Prints requests/s, the ratio to the bare page, p50/p99, the SQL queries per page, and the
memory of the web processes after the run. The helpers are the record list benchmark's.

    BENCH_RECORDS=100000 BENCH_ACTIVITY=1000000 BENCH_SECONDS=10 python -m bench.portal
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.record_list import (
    CONNECTIONS,
    ROOT,
    ROUNDS,
    SECONDS,
    analyse,
    free_port,
    gunicorn,
    load,
    percentile,
    run,
    wait_for,
)

RECORDS = int(os.environ.get("BENCH_RECORDS", "100000"))
ACTIVITY = int(os.environ.get("BENCH_ACTIVITY", "1000000"))
PAGES = ("/portal/home", "/portal/details", "/portal/api/details")

#: Run inside the app: a million activity entries in batches, one client with portal access
#: and 200 entries of their own; prints the link token and the password the client was sent.
SEED = """
import re, sys
from sqlalchemy import insert, select
from app import create_app
from app.services import portal_accounts
from models import ActivityEntry, OutboxMessage, Record, RecordKind, User, db, utcnow
app = create_app()
with app.app_context():
    total, batch = int(sys.argv[1]), 20000
    records = list(db.session.scalars(select(Record.id).order_by(Record.id)))
    client = db.session.scalar(
        select(Record).where(Record.kind == RecordKind.CLIENT, Record.email.is_not(None))
        .order_by(Record.id).limit(1))
    now = utcnow()
    for start in range(0, total, batch):
        db.session.execute(insert(ActivityEntry), [
            {"occurred_at": now, "event_key": "record.updated", "actor_kind": "staff",
             "actor_label": "Bench",
             "record_id": client.id if n < 200 else records[n % len(records)],
             "record_label": "Bench record", "summary": f"Change {n}", "details": {},
             "prev_hash": "0" * 64, "hash": f"{n:064x}"}
            for n in range(start, min(total, start + batch))])
        db.session.commit()
    staff = db.session.scalar(select(User).order_by(User.id).limit(1))
    portal_accounts.enable_self_service(client, staff)
    db.session.commit()
    token = password = None
    for message in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.record_id == client.id).order_by(OutboxMessage.id)):
        if found := re.search(r"/portal/a/([\\w-]+)", message.body_text):
            token = found.group(1)
        if message.template_key == "portal.password":
            password = re.search(r"^\\s{4}(\\S+)$", message.body_text, re.M).group(1)
    print(token, password)
"""

#: Run inside the app: the SQL statements of each page for the signed-in client.
COUNT = """
import re, sys
from sqlalchemy import event
from app import create_app
from models import db
app = create_app()
client = app.test_client()
token, password = sys.argv[1], sys.argv[2]
html = client.get(f"/portal/a/{token}").get_data(as_text=True)
csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
assert client.post(f"/portal/a/{token}", data={"password": password, "csrf_token": csrf}
                   ).status_code == 302
with app.app_context():
    engine = db.engine
counts = []
event.listen(engine, "before_cursor_execute", lambda c, cur, sql, *a: counts.append(sql))
for page in sys.argv[3:]:
    client.get(page)
    counts.clear()
    assert client.get(page).status_code == 200, page
    print(page, *(" ".join(s.split())[:120] for s in counts), sep="\\n    ", file=sys.stderr)
    print(len(counts))
"""


def sign_in(port: int, token: str, password: str) -> str:
    """Sign the client in through the real form; returns the session cookie."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", f"/portal/a/{token}")
    response = conn.getresponse()
    html = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    conn.request(
        "POST",
        f"/portal/a/{token}",
        urlencode({"password": password, "csrf_token": csrf}),
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise SystemExit(f"bench: the client's sign-in failed ({response.status})")
    return response.getheader("Set-Cookie", "").split(";")[0]


def memory_mb(master: int) -> list[float]:
    """Resident memory of the gunicorn master's workers, in MB."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        if found:
            sizes.append(int(found.group(1)) / 1024)
    return sizes


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pt-bench-") as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTICO_", "TEST_"))}
        env.update(
            PORTICO_INSTANCE_PATH=str(Path(scratch) / "instance"),
            PORTICO_LOG_LEVEL="WARNING",
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
            print(f"Seeding {RECORDS:,} records and {ACTIVITY:,} activity entries…", flush=True)
            started = time.perf_counter()
            run([*flask, "db", "upgrade"], env)
            run([*flask, "seed", "demo", "--records", str(RECORDS), "--seed", "1"], env)
            seeded = subprocess.run(
                [sys.executable, "-c", SEED, str(ACTIVITY)],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            token, password = seeded.stdout.split()[-2:]
            print(f"  seeded in {time.perf_counter() - started:.1f}s")
            if env.get("DATABASE_URL", "").startswith("postgresql"):
                analyse(env["DATABASE_URL"])

            app_port, bare_port = free_port(), free_port()
            servers.append(gunicorn("wsgi:app", app_port, env))
            servers.append(gunicorn("bench.bare_app:app", bare_port, env))
            wait_for(app_port, "/healthz")
            wait_for(bare_port)
            cookie = sign_in(app_port, token, password)
            for page in PAGES:
                load(app_port, page, cookie, 1.0)  # warm up
            load(bare_port, "/", None, 1.0)
            warm = memory_mb(servers[0].pid)

            runs: dict[str, list[tuple[float, list[float]]]] = {p: [] for p in (*PAGES, "/")}
            for _ in range(ROUNDS):
                for page in PAGES:
                    runs[page].append(load(app_port, page, cookie, SECONDS / ROUNDS))
                    runs["/"].append(load(bare_port, "/", None, SECONDS / ROUNDS))
            memory = memory_mb(servers[0].pid)
            counted = subprocess.run(
                [sys.executable, "-c", COUNT, token, password, *PAGES],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
            if counted.returncode:
                raise SystemExit(f"bench: counting the queries failed:\n{counted.stderr}")
            queries = [int(line) for line in counted.stdout.split()[-len(PAGES) :]]
            if os.environ.get("BENCH_SHOW_SQL"):
                print(counted.stderr)
        finally:
            for server in servers:
                server.terminate()
                server.wait()
            if embedded is not None:
                embedded.stop()

    def rate(page: str) -> float:
        return sum(r for r, _ in runs[page]) / len(runs[page])

    def latencies(page: str) -> list[float]:
        return [value for _, lats in runs[page] for value in lats]

    bare = rate("/")
    database = "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite"
    print()
    print(
        f"{database}, {RECORDS:,} records, {ACTIVITY:,} activity entries, gunicorn 2 workers"
        f" each, {CONNECTIONS} connections, {ROUNDS} alternating rounds,"
        f" {SECONDS:.0f}s per page and round"
    )
    print()
    print("| page | Portico | bare Flask | ratio | p50 | p99 | SQL queries |")
    print("|---|---|---|---|---|---|---|")
    for page, count in zip(PAGES, queries, strict=True):
        lats = latencies(page)
        print(
            f"| `{page}` | {rate(page):,.0f} req/s | {bare:,.0f} req/s | {rate(page) / bare:.3f}"
            f" | {percentile(lats, 0.5):.0f} ms | {percentile(lats, 0.99):.0f} ms | {count} |"
        )
    print()
    print(f"bare page: p50 {percentile(latencies('/'), 0.5):.1f} ms")
    print(
        "web workers' memory after the run: "
        + ", ".join(f"{m:.0f} MB" for m in memory)
        + " (after the warm-up: "
        + ", ".join(f"{m:.0f} MB" for m in warm)
        + ")"
    )
    home = PAGES[0]
    print(
        "targets: home ratio >= 0.25, home p99 <= 40 ms, memory < 150 MB"
        f" -> {'met' if rate(home) / bare >= 0.25 else 'NOT met'},"
        f" {'met' if percentile(latencies(home), 0.99) <= 40 else 'NOT met'},"
        f" {'met' if max(memory, default=0) < 150 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
