"""Benchmark: a client downloading a large document, and the client's Documents page with
many documents, in one run. Not part of ``make test``:

    BENCH_DOCUMENT_MB=200 BENCH_PAGE_DOCUMENTS=1000 python -m bench.documents

(a) Streaming. A scratch instance (SQLite, the folder backend, an embedded Redis) gets a client
record with portal access and a BENCH_DOCUMENT_MB file added and shared through the document
services, as staff do. gunicorn with one sync worker serves Portico; the client signs in
through the real form and downloads the file from the portal's download route
(``/portal/documents/<id>/download``), while the worker's resident memory (RSS) is sampled
every 20 ms. On the same server, in the same run, a route of this bench answers the same file
with a bare Flask ``send_file``: the control for throughput. Each download runs
BENCH_REPEAT times, alternating; the fastest of each counts (on a loaded machine the others
measure the neighbours), the medians are shown too. Targets: memory growth under 20 MB, and
the portal's throughput at least 80 % of ``send_file``'s.

(b) Queries. The Documents page (``/portal/documents``) of a client with 10 shared documents,
and of one with BENCH_PAGE_DOCUMENTS: the SQL statements of one page, counted with a
``before_cursor_execute`` listener in this process (the page loaded once before, as a signed-in
client would). Target: the same count.
"""

from __future__ import annotations

import http.client
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import urlencode

from flask import Flask, abort, send_file
from flask_migrate import upgrade
from flask_security import hash_password
from sqlalchemy import event, select

from app import create_app
from app.redis import EmbeddedRedis
from app.services import document_sharing, documents
from app.services.actors import Actor
from app.services.portal_accounts import enable_self_service
from app.services.portal_credentials import token_hash
from app.services.portal_settings import get_settings
from app.services.users import create_staff_user
from bench.download_memory import MB, Source, free_port, serving_process, wait_until_up
from models import (
    CoverageType,
    Document,
    DocumentCategory,
    Product,
    ProductStatus,
    Record,
    RecordKind,
    User,
    db,
)
from seeds.defaults import seed_defaults

ROOT = Path(__file__).resolve().parent.parent
SIZE_MB = int(os.environ.get("BENCH_DOCUMENT_MB", "200"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "15"))
PAGE_DOCUMENTS = int(os.environ.get("BENCH_PAGE_DOCUMENTS", "1000"))
TARGET_GROWTH_MB = 20
TARGET_RATIO = 0.80
TOKEN = "bench-personal-link-token-0123456789abcdef"  # noqa: S105 (a scratch office)
PASSWORD = "Bench-Pass-Word-2026"  # noqa: S105 (a scratch office)
STAFF = ("bench-staff@example.com", "bench-staff-password-2026")
PORTAL_ROUTE = "portal.document_download"


def bench_app() -> Flask:
    """Portico as create_app makes it, on the scratch instance, plus one route: the same
    file through a bare ``send_file`` (and, if the portal has no download route yet, the
    documents service's download behind a route of its own)."""
    instance = os.environ["BENCH_INSTANCE"]
    app = create_app(
        {
            "PORTICO_INSTANCE_PATH": instance,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench.db",
            "REDIS_URL": os.environ["BENCH_REDIS_URL"],
            "RATELIMIT_STORAGE_URI": "memory://",
            "SECRET_KEY": "bench-secret-key",
            "SECURITY_PASSWORD_SALT": "bench-salt",
            "PORTICO_LOG_LEVEL": "WARNING",
            "PORTICO_DOCUMENT_MAX_MB": SIZE_MB + 1,
            "PORTICO_BASE_URL": "http://127.0.0.1",
        }
    )

    @app.get("/bench/send_file/<int:document_id>")
    def bare(document_id: int) -> Any:
        document = db.session.get(Document, document_id)
        if document is None or not document.storage_key:
            abort(404)
        key = document.storage_key
        path = Path(instance) / "uploads" / key[:2] / key
        return send_file(path, mimetype="application/pdf", as_attachment=True)

    if PORTAL_ROUTE not in app.view_functions:

        @app.get("/bench/documents/<int:document_id>")
        def service_download(document_id: int) -> Any:
            document = db.session.get(Document, document_id)
            if document is None:
                abort(404)
            return documents.download(document)

    return app


# -- the scratch office ------------------------------------------------------------------------


def tiny_pdf(n: int) -> bytes:
    return b"%PDF-1.7\n% bench document " + str(n).encode() + b"\n%%EOF\n"


def client_with_documents(staff: User, name: str, sizes: list[int]) -> tuple[int, list[int]]:
    """A client record with portal access (a known link and password) and one shared
    document per size, added and shared through the services as staff do."""
    record = Record(
        kind=RecordKind.CLIENT,
        first_name=name,
        last_name="Bench",
        email=f"{name.lower()}@example.com",
        assigned_agent_id=staff.id,
    )
    db.session.add(record)
    db.session.flush()
    coverage = db.session.scalars(select(CoverageType)).first()
    policy = Product(
        record_id=record.id,
        carrier="Humana",
        status=ProductStatus.ACTIVE,
        coverage_type=coverage,
        client_access=True,
    )
    db.session.add(policy)
    account = enable_self_service(record, staff).account
    account.link_token_hash = token_hash(f"{TOKEN}-{name}")
    account.password_hash = hash_password(PASSWORD)
    categories = list(db.session.scalars(select(DocumentCategory)))
    actor = Actor.staff(staff)
    added = []
    for start in range(0, len(sizes), documents.MAX_FILES):
        batch = [
            documents.Upload(
                cast("IO[bytes]", Source(size)) if size >= MB else io.BytesIO(tiny_pdf(start + i)),
                f"{name} policy {start + i}.pdf",
            )
            for i, size in enumerate(sizes[start : start + documents.MAX_FILES])
        ]
        for n, document in enumerate(documents.add_files(record, batch, actor=actor)):
            document.category = categories[(start + n) % len(categories)]
            document.product = policy if (start + n) % 3 == 0 else None
            added.append(document)
    document_sharing.share(added, actor=actor, today=documents.office_today())
    db.session.commit()
    return record.id, [document.id for document in added]


def seed() -> dict[str, Any]:
    app = bench_app()
    with app.app_context():
        upgrade()
        seed_defaults()
        get_settings().module_uploads = True  # the page lists what the client sent too
        staff = create_staff_user(STAFF[0], STAFF[1], "agent", "Bea", "Bench")
        db.session.commit()
        began = time.perf_counter()
        _, (warm_id, large_id) = client_with_documents(staff, "Dora", [MB, SIZE_MB * MB])
        print(f"added and shared {SIZE_MB} MB in {time.perf_counter() - began:.1f} s")
        began = time.perf_counter()
        _, few = client_with_documents(staff, "Few", [1] * 10)
        _, many = client_with_documents(staff, "Many", [1] * PAGE_DOCUMENTS)
        print(
            f"added and shared 10 and {PAGE_DOCUMENTS:,} documents in "
            f"{time.perf_counter() - began:.1f} s"
        )
        assert len(many) == PAGE_DOCUMENTS and len(few) == 10
    return {"warm": warm_id, "large": large_id}


# -- (a) streaming -----------------------------------------------------------------------------


def start_gunicorn(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "1",
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "bench.documents:bench_app()",
    ]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)


def cookies_of(response: http.client.HTTPResponse) -> dict[str, str]:
    found = {}
    for header in response.msg.get_all("Set-Cookie") or []:
        name, _, value = header.split(";")[0].partition("=")
        found[name.strip()] = value
    return found


def cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def sign_in(port: int, who: str) -> str:
    """Sign in through the portal's personal-link form; returns the Cookie header."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    path = f"/portal/a/{TOKEN}-{who}"
    connection.request("GET", path)
    response = connection.getresponse()
    page = response.read().decode()
    jar = cookies_of(response)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if response.status != 200 or token is None:
        raise SystemExit(f"bench: the sign-in page answered {response.status}")
    body = urlencode({"password": PASSWORD, "csrf_token": token.group(1)})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": cookie_header(jar),
    }
    connection.request("POST", path, body, headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status != 302:
        raise SystemExit(f"bench: signing in answered {response.status}")
    jar.update(cookies_of(response))
    return cookie_header(jar)


def fetch(port: int, path: str, cookie: str) -> tuple[int, float, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    began = time.perf_counter()
    connection.request("GET", path, headers={"Cookie": cookie})
    response = connection.getresponse()
    if response.status != 200:
        raise SystemExit(f"bench: {path} answered {response.status}")
    received, buffer = 0, memoryview(bytearray(4 * MB))
    while count := response.readinto(buffer):
        received += count
    seconds = time.perf_counter() - began
    connection.close()
    return received, seconds, dict(response.getheaders())


def streaming(ids: dict[str, int], env: dict[str, str]) -> tuple[float, float]:
    """Returns (memory growth in MB, portal throughput / send_file throughput)."""
    if PORTAL_ROUTE in bench_app().view_functions:
        portal = "/portal/documents/{}/download"
    else:
        portal = "/bench/documents/{}"
        print("the portal has no download route yet: documents.download behind a bench route")
    bare = "/bench/send_file/{}"
    port = free_port()
    process = start_gunicorn(port, env)
    try:
        wait_until_up(port, process)
        cookie = sign_in(port, "Dora")
        # Warm-up (every code path loaded), and what one request costs besides its bytes:
        # the portal's session, access log entry and event, committed.
        small: dict[str, list[float]] = {"portal": [], "send_file": []}
        for _ in range(REPEAT):
            small["portal"].append(fetch(port, portal.format(ids["warm"]), cookie)[1])
            small["send_file"].append(fetch(port, bare.format(ids["warm"]), cookie)[1])
        worker = serving_process(process)
        time.sleep(0.5)
        baseline = worker.memory_info().rss
        peak = baseline
        sampling = threading.Event()
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                if sampling.is_set():
                    peak = max(peak, worker.memory_info().rss)
                done.wait(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        times: dict[str, list[float]] = {"portal": [], "send_file": []}
        try:
            for _ in range(REPEAT):
                sampling.set()
                received, seconds, headers = fetch(port, portal.format(ids["large"]), cookie)
                sampling.clear()
                peak = max(peak, worker.memory_info().rss)
                assert received == SIZE_MB * MB, f"the portal sent {received} bytes"
                assert headers["Content-Disposition"].startswith("attachment;"), headers
                assert headers["X-Content-Type-Options"] == "nosniff"
                times["portal"].append(seconds)
                received, seconds, _ = fetch(port, bare.format(ids["large"]), cookie)
                assert received == SIZE_MB * MB, f"send_file sent {received} bytes"
                times["send_file"].append(seconds)
        finally:
            done.set()
            sampler.join()
    finally:
        process.terminate()
        process.wait(10)
    growth = (peak - baseline) / MB
    portal_s, bare_s = min(times["portal"]), min(times["send_file"])
    portal_median = statistics.median(times["portal"])
    bare_median = statistics.median(times["send_file"])
    if os.environ.get("BENCH_SHOW_TIMES"):
        print({name: [round(t, 3) for t in runs] for name, runs in times.items()})
    print(
        f"gunicorn, 1 sync worker; {SIZE_MB} MB, {REPEAT} downloads each (fastest; median):\n"
        f"  portal download route  {portal_s:6.3f} s  {SIZE_MB / portal_s:6.0f} MB/s; "
        f"{portal_median:6.3f} s  {SIZE_MB / portal_median:6.0f} MB/s\n"
        f"  bare Flask send_file   {bare_s:6.3f} s  {SIZE_MB / bare_s:6.0f} MB/s; "
        f"{bare_median:6.3f} s  {SIZE_MB / bare_median:6.0f} MB/s\n"
        f"  1 MB (per-request cost): portal {min(small['portal']) * 1000:.1f} ms, send_file "
        f"{min(small['send_file']) * 1000:.1f} ms (fastest)\n"
        f"  worker RSS {baseline / MB:.0f} MB after warm-up, {peak / MB:.0f} MB peak while "
        f"the portal streamed"
    )
    return growth, bare_s / portal_s


# -- (b) queries per page ------------------------------------------------------------------------


def queries_per_page(who: str) -> tuple[int, float, int]:
    """SQL statements (and milliseconds) of one Documents page of the client ``who``, and the
    page's status."""
    app = bench_app()
    client = app.test_client()
    page = client.get(f"/portal/a/{TOKEN}-{who}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token is not None, "no sign-in form"
    signed = client.post(
        f"/portal/a/{TOKEN}-{who}", data={"password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert signed.status_code == 302, signed.status_code
    client.get("/portal/documents")  # first load: caches filled as for any returning client
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        began = time.perf_counter()
        response = client.get("/portal/documents")
        milliseconds = (time.perf_counter() - began) * 1000
    finally:
        event.remove(engine, "before_cursor_execute", count)
    if os.environ.get("BENCH_SHOW_SQL"):
        for statement in statements:
            print("   ", " ".join(statement.split())[:160])
    return len(statements), milliseconds, response.status_code


# -- the run -----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    failed = False
    with tempfile.TemporaryDirectory(prefix="pt-bench-") as scratch:
        instance = Path(scratch) / "instance"
        instance.mkdir()
        redis = EmbeddedRedis(Path(scratch) / "redis")
        redis.ensure_running()
        try:
            os.environ["BENCH_INSTANCE"] = str(instance)
            os.environ["BENCH_REDIS_URL"] = redis.url
            env = {k: v for k, v in os.environ.items() if not k.startswith("TEST_")}
            ids = seed()

            growth, ratio = streaming(ids, env)
            print(
                f"(a) memory growth while streaming: {growth:.1f} MB (target < "
                f"{TARGET_GROWTH_MB} MB): {verdict(growth < TARGET_GROWTH_MB)}"
            )
            print(
                f"(a) throughput, portal / send_file: {ratio:.2f} (target >= "
                f"{TARGET_RATIO:.2f}): {verdict(ratio >= TARGET_RATIO)}"
            )
            failed |= growth >= TARGET_GROWTH_MB or ratio < TARGET_RATIO

            few, few_ms, few_status = queries_per_page("Few")
            many, many_ms, many_status = queries_per_page("Many")
            if few_status != 200 or many_status != 200:
                print(f"(b) /portal/documents answered {few_status}/{many_status}: not measured")
                failed = True
            else:
                print(
                    f"(b) SQL queries per Documents page: {few} with 10 documents "
                    f"({few_ms:.0f} ms), {many} with {PAGE_DOCUMENTS:,} ({many_ms:.0f} ms): "
                    f"ratio {many / few:.2f} (target 1.00): {verdict(many == few)}"
                )
                failed |= many != few
        finally:
            redis.stop()
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
