"""Benchmark: the client portal's pages against a bare Flask page, in one run (issue 18).

Seeds 100,000 demo records and 1,000,000 activity entries (bulk inserts) into a scratch
database (SQLite in a temporary folder, or BENCH_DATABASE_URL), gives one client portal access
(with 200 activity entries of their own), serves Portico and a one-route Flask app with
gunicorn (2 workers each), signs the client in through the real form, and drives the portal
home (kept by the portal page cache, and on a second Portico with the cache off, rendered
every time), My details, the JSON details and the smallest signed-in JSON page (the floor of
every signed-in page) from 32 connections in alternating rounds with the bare
page. Prints requests/s, the ratio to the bare page, p50/p99, the SQL queries per page (home
as served, kept by the portal page cache, and as rendered), and the
memory of the web workers after the run: resident (RSS), their own (USS: what stopping one
would free) and their share of what they share (PSS). The set-up is bench/serving.py's.

    BENCH_RECORDS=100000 BENCH_ACTIVITY=1000000 BENCH_SECONDS=10 python -m bench.portal
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.serving import (
    CONNECTIONS,
    ROOT,
    ROUNDS,
    SECONDS,
    Run,
    analyse,
    database,
    driver,
    load,
    percentile,
    rate,
    scratch_instance,
    seed_demo,
    serving,
    sign_in,
)

RECORDS = int(os.environ.get("BENCH_RECORDS", "100000"))
ACTIVITY = int(os.environ.get("BENCH_ACTIVITY", "1000000"))
#: The pages measured; the last is the floor: the least a signed-in page costs (the cookie,
#: the session's row with the account, the settings' version, one small query, the headers).
PAGES = (
    "/portal/home",
    "/portal/details",
    "/portal/api/details",
    "/portal/api/details/verifications",
)

#: Home again, on a Portico with the page cache off: every request renders the page.
RENDERED = "home, rendered"

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


@dataclass(frozen=True)
class Memory:
    """A process's memory in MB: resident (RSS), proportional (PSS: its own pages plus its
    share of those it shares with the other workers and the master) and unique (USS)."""

    rss: float
    pss: float
    uss: float

    def __str__(self) -> str:
        return f"{self.rss:.0f}/{self.pss:.0f}/{self.uss:.0f}"


def memory(pid: int) -> Memory:
    fields = {
        name: int(kb) / 1024
        for name, kb in re.findall(
            r"^(\w+):\s+(\d+) kB", Path(f"/proc/{pid}/smaps_rollup").read_text(), re.M
        )
    }
    uss = fields["Private_Clean"] + fields["Private_Dirty"]
    return Memory(fields["Rss"], fields["Pss"], uss)


def workers(master: int) -> list[Memory]:
    """The memory of each of the gunicorn master's workers."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [memory(int(pid)) for pid in children]


def count_queries(env: dict[str, str], token: str, password: str) -> list[int]:
    """The SQL statements of each page, signed in as the client, in a process of its own."""
    counted = subprocess.run(
        [sys.executable, "-c", COUNT, token, password, *PAGES],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if counted.returncode:
        raise SystemExit(f"bench: counting the queries failed:\n{counted.stderr}")
    if os.environ.get("BENCH_SHOW_SQL"):
        print(counted.stderr)
    return [int(line) for line in counted.stdout.split()[-len(PAGES) :]]


def main() -> None:
    print(f"Load driver: {driver()}", flush=True)
    with scratch_instance() as env:
        print(f"Seeding {RECORDS:,} records and {ACTIVITY:,} activity entries…", flush=True)
        started = time.perf_counter()
        seed_demo(env, RECORDS)
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
        analyse(env)
        # A second Portico renders every page (the page cache off), so the table shows what
        # the cache saves next to what a client's first look at home costs.
        uncached = {**env, "PORTICO_PORTAL_PAGE_CACHE_SECONDS": "0"}
        with serving(env) as servers, serving(uncached) as rendering:
            cookie = sign_in(servers.app_port, f"/portal/a/{token}", {"password": password})
            rendered_cookie = sign_in(
                rendering.app_port, f"/portal/a/{token}", {"password": password}
            )
            drives = {page: (servers.app_port, page, cookie) for page in PAGES}
            drives[RENDERED] = (rendering.app_port, PAGES[0], rendered_cookie)
            for port, page, page_cookie in drives.values():
                load(port, page, page_cookie, 1.0)  # warm up
            load(servers.bare_port, "/", None, 1.0)
            warm = workers(servers.app_master)
            runs: dict[str, list[Run]] = {p: [] for p in (*drives, "/")}
            for _ in range(ROUNDS):
                for label, (port, page, page_cookie) in drives.items():
                    runs[label].append(load(port, page, page_cookie, SECONDS / ROUNDS))
                    runs["/"].append(load(servers.bare_port, "/", None, SECONDS / ROUNDS))
            after = workers(servers.app_master)
            master = memory(servers.app_master)
        # The pages as served (home kept by the portal page cache), then all rendered.
        queries = [
            count_queries(env, token, password),
            count_queries({**env, "PORTICO_PORTAL_PAGE_CACHE_SECONDS": "0"}, token, password),
        ]

    bare = rate(runs["/"])
    print()
    print(
        f"{database()}, {RECORDS:,} records, {ACTIVITY:,} activity entries, gunicorn 2 workers"
        f" each, {CONNECTIONS} connections, {ROUNDS} alternating rounds,"
        f" {SECONDS:.0f}s per page and round, driven by {driver()}"
    )
    print()
    print("| page | Portico | bare Flask | ratio | p50 | p99 | SQL queries |")
    print("|---|---|---|---|---|---|---|")
    counts = dict(zip(PAGES, queries[0], strict=True))
    counts[RENDERED] = queries[1][0]
    for label in (*PAGES, RENDERED):
        page_rate = rate(runs[label])
        name = f"`{PAGES[0]}`, rendered (cache off)" if label == RENDERED else f"`{label}`"
        print(
            f"| {name} | {page_rate:,.0f} req/s | {bare:,.0f} req/s | {page_rate / bare:.3f}"
            f" | {percentile(runs[label], 0.5):.0f} ms | {percentile(runs[label], 0.99):.0f} ms"
            f" | {counts[label]} |"
        )
    print()
    print(f"bare page: p50 {percentile(runs['/'], 0.5):.1f} ms")
    print("web workers' memory, RSS/PSS/USS in MB, each worker:")
    for label, sizes in (("warmed up", warm), ("after the run", after)):
        print(f"  {label + ':':<15}" + ", ".join(str(m) for m in sizes))
    print(f"  gunicorn master after the run: {master}")
    home, rss = PAGES[0], max((m.rss for m in after), default=0)
    print(
        "targets: home ratio >= 0.25, home p99 <= 40 ms, memory (RSS) < 150 MB"
        f" -> {'met' if rate(runs[home]) / bare >= 0.25 else 'NOT met'},"
        f" {'met' if percentile(runs[home], 0.99) <= 40 else 'NOT met'},"
        f" {'met' if rss < 150 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
