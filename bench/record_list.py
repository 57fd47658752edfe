"""Benchmark: the signed-in admin record list against a bare Flask page, in one run.

Seeds 100,000 demo records into a scratch database (SQLite in a temporary folder, or
BENCH_DATABASE_URL), serves Portico and a one-route Flask app with gunicorn (2 workers each,
same settings), then drives both with the same client code and the same number of keep-alive
connections, in alternating rounds. Prints the issue's table (requests/s for both, their ratio,
p99), the list page's size for 50 rows, and the number of SQL queries a list page costs, plain
and with filters and a search. Run with `make bench`; not part of `make test`.

    BENCH_RECORDS=100000 BENCH_SECONDS=10 BENCH_CONNECTIONS=32 BENCH_ROUNDS=2 make bench

The client runs on the same machine as both servers: wrk when installed, otherwise a Python
client that takes CPU from them, the bare page's more than the list's (bench/serving.py).
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time

from bench.serving import (
    CONNECTIONS,
    FLASK,
    ROOT,
    ROUNDS,
    SECONDS,
    analyse,
    database,
    driver,
    load,
    percentile,
    rate,
    run,
    scratch_instance,
    seed_demo,
    serving,
    sign_in,
)

RECORDS = int(os.environ.get("BENCH_RECORDS", "100000"))
PAGE = "/admin/record/"
#: A narrowed page: two filters, a search, and four times the rows.
NARROWED = (
    "/admin/record/?page_size=200&flt0_kind_is=client"
    "&flt1_product_status_any_product_is=active&search=a"
)
ADMIN = ("bench-admin@example.com", "bench-admin-password")


def page_size(port: int, cookie: str) -> int:
    """Bytes of HTML of one list page (50 rows)."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", PAGE, headers={"Cookie": cookie})
    return len(conn.getresponse().read())


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


def main() -> None:
    print(f"Load driver: {driver()}", flush=True)
    with scratch_instance(PORTICO_STAFF_LOGIN_LIMIT="1000 per minute") as env:
        print(f"Seeding {RECORDS:,} records into a scratch database…", flush=True)
        started = time.perf_counter()
        seed_demo(env, RECORDS)
        run([*FLASK, "users", "create", ADMIN[0], "--role", "admin", "--password", ADMIN[1]], env)
        print(f"  seeded in {time.perf_counter() - started:.1f}s")
        analyse(env)
        with serving(env) as servers:
            cookie = sign_in(
                servers.app_port, "/staff/login", {"email": ADMIN[0], "password": ADMIN[1]}
            )
            load(servers.app_port, PAGE, cookie, 1.0)  # warm up both
            load(servers.bare_port, "/", None, 1.0)
            # Alternating rounds, so a busy moment on the machine falls on both pages.
            list_runs, bare_runs = [], []
            for _ in range(ROUNDS):
                list_runs.append(load(servers.app_port, PAGE, cookie, SECONDS / ROUNDS))
                bare_runs.append(load(servers.bare_port, "/", None, SECONDS / ROUNDS))
            size = page_size(servers.app_port, cookie)
        queries, narrowed_queries = queries_per_page(env)

    list_rate, bare_rate = rate(list_runs), rate(bare_runs)
    p99 = percentile(list_runs, 0.99)
    print()
    print(
        f"{database()}, {RECORDS:,} records, gunicorn 2 workers each, {CONNECTIONS} keep-alive"
        f" connections, {ROUNDS} alternating rounds, {SECONDS:.0f}s per page, driven by"
        f" {driver()}"
    )
    print()
    print("| page | Portico | bare Flask | ratio | p50 | p99 |")
    print("|---|---|---|---|---|---|")
    print(
        f"| staff record list `{PAGE}` | {list_rate:,.0f} req/s | {bare_rate:,.0f} req/s"
        f" | {list_rate / bare_rate:.3f} | {percentile(list_runs, 0.5):.0f} ms | {p99:.0f} ms |"
    )
    print()
    print(
        f"bare page: p50 {percentile(bare_runs, 0.5):.1f} ms,"
        f" p99 {percentile(bare_runs, 0.99):.1f} ms"
    )
    print(f"record list page, 50 rows: {size / 1000:.1f} KB of HTML")
    print(
        f"SQL queries per record list page: {queries} (200 rows, two filters and a search:"
        f" {narrowed_queries})"
    )
    print(
        "targets: ratio >= 0.10, p99 < 100 ms, page < 80 KB, queries <= 8"
        f" -> {'met' if list_rate / bare_rate >= 0.10 else 'NOT met'},"
        f" {'met' if p99 < 100 else 'NOT met'},"
        f" {'met' if size < 80_000 else 'NOT met'},"
        f" {'met' if max(queries, narrowed_queries) <= 8 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
