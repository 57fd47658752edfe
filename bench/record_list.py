"""Benchmark: the signed-in admin record list against a bare Flask page, in one run.

Seeds 100,000 demo records into a scratch database (SQLite in a temporary folder, or
BENCH_DATABASE_URL), serves Portico and a one-route Flask app with gunicorn (2 workers each,
same settings), then drives both with the same client code and the same number of keep-alive
connections, in alternating rounds. The list is driven twice: as served (a page kept by the staff
list cache, PORTICO_STAFF_LIST_CACHE_SECONDS, for as long as no record changes) and on a second
Portico with that cache off (rendered every time: what the first look costs, and every look in
an office whose records change all the time). Prints the issue's table (requests/s for both,
their ratio, p99), the list page's size for 50 rows, and the number of SQL queries a list page
costs, plain and with filters and a search, kept and rendered. Run with `make bench`; not part
of `make test`.

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
    Run,
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
    """SQL statements one signed-in list page costs the second time it is asked for, counted
    in-process: the plain page, and a page of 200 rows with filters and a search."""
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
    client.get(page)
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
        uncached = {**env, "PORTICO_STAFF_LIST_CACHE_SECONDS": "0"}
        with serving(env) as servers, serving(uncached) as rendering:
            admin = {"email": ADMIN[0], "password": ADMIN[1]}
            cookie = sign_in(servers.app_port, "/staff/login", admin)
            rendered_cookie = sign_in(rendering.app_port, "/staff/login", admin)
            drives = {
                "kept": (servers.app_port, cookie),
                "rendered": (rendering.app_port, rendered_cookie),
            }
            for port, page_cookie in drives.values():
                load(port, PAGE, page_cookie, 1.0)  # warm up
            load(servers.bare_port, "/", None, 1.0)
            # Alternating rounds, so a busy moment on the machine falls on every page.
            runs: dict[str, list[Run]] = {"kept": [], "rendered": [], "/": []}
            for _ in range(ROUNDS):
                for label, (port, page_cookie) in drives.items():
                    runs[label].append(load(port, PAGE, page_cookie, SECONDS / ROUNDS))
                    runs["/"].append(load(servers.bare_port, "/", None, SECONDS / ROUNDS))
            size = page_size(servers.app_port, cookie)
        queries = {"kept": queries_per_page(env), "rendered": queries_per_page(uncached)}

    list_runs, bare_runs = runs["kept"], runs["/"]
    list_rate, bare_rate = rate(list_runs), rate(bare_runs)
    p99 = percentile(list_runs, 0.99)
    print()
    print(
        f"{database()}, {RECORDS:,} records, gunicorn 2 workers each, {CONNECTIONS} keep-alive"
        f" connections, {ROUNDS} alternating rounds, {SECONDS:.0f}s per page, driven by"
        f" {driver()}"
    )
    print()
    print("| page | Portico | bare Flask | ratio | p50 | p99 | SQL queries (narrowed) |")
    print("|---|---|---|---|---|---|---|")
    for label, name in (("kept", "kept"), ("rendered", "rendered (cache off)")):
        page_rate = rate(runs[label])
        print(
            f"| staff record list `{PAGE}`, {name} | {page_rate:,.0f} req/s"
            f" | {bare_rate:,.0f} req/s | {page_rate / bare_rate:.3f}"
            f" | {percentile(runs[label], 0.5):.0f} ms | {percentile(runs[label], 0.99):.0f} ms"
            f" | {queries[label][0]} ({queries[label][1]}) |"
        )
    print()
    print(
        f"bare page: p50 {percentile(bare_runs, 0.5):.1f} ms,"
        f" p99 {percentile(bare_runs, 0.99):.1f} ms"
    )
    print(f"record list page, 50 rows: {size / 1000:.1f} KB of HTML")
    print(
        "narrowed: 200 rows, two filters and a search; queries counted the second time a page"
        " is asked for"
    )
    rendered_queries = max(queries["rendered"])
    rendered_rate = rate(runs["rendered"])
    rendered_p99 = percentile(runs["rendered"], 0.99)
    print(
        "targets: ratio >= 0.10, p99 < 100 ms, page < 80 KB, queries <= 8"
        f" -> kept {_met(list_rate / bare_rate >= 0.10)} and {_met(p99 < 100)}"
        f" (rendered {_met(rendered_rate / bare_rate >= 0.10)} and {_met(rendered_p99 < 100)}),"
        f" {_met(size < 80_000)}, {_met(rendered_queries <= 8)} (as rendered)"
    )


def _met(met: bool) -> str:
    return "met" if met else "NOT met"


if __name__ == "__main__":
    main()
