"""Benchmark: the memory of a web process while it serves one large download.

Puts a 200 MB file into the folder backend (through ``Storage.put``, as an upload arrives), then
serves it from an app made by ``create_app`` with one extra route that answers with
``Storage.download``, in a server of its own: gunicorn with one sync worker (as in production) and
werkzeug's development server (which cannot hand the file to ``sendfile()`` and copies it through
Python). A plain HTTP client downloads the file while the serving process's resident memory (RSS)
is sampled every 20 ms; the growth is the peak over the same process after a warm-up download of
1 MB. Target: under 20 MB for 200 MB. The same through the S3 backend (moto's server in a
process of its own), and a control route that reads the file whole, to show the sampling sees
growth when there is some. Not part of ``make test``:

    BENCH_DOWNLOAD_MB=200 BENCH_SERVERS=gunicorn,werkzeug BENCH_S3=1 python -m bench.download_memory
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
SIZE_MB = int(os.environ.get("BENCH_DOWNLOAD_MB", "200"))
SERVERS = [s for s in os.environ.get("BENCH_SERVERS", "gunicorn,werkzeug").split(",") if s]
TARGET_MB = 20
MB = 1024 * 1024


def bench_app() -> Any:
    """The app the server runs (also used here to put the files): Portico as create_app makes
    it, on a scratch instance folder, plus one download route."""
    from flask import Response, abort

    from app import create_app
    from app.services.errors import NotFound
    from app.storage import storage

    instance = os.environ["BENCH_INSTANCE"]
    app = create_app(
        {
            # Unset: the folder backend; s3://... with BENCH_STORAGE_ENDPOINT_URL: a bucket.
            "STORAGE_URL": os.environ.get("BENCH_STORAGE_URL"),
            "STORAGE_ENDPOINT_URL": os.environ.get("BENCH_STORAGE_ENDPOINT_URL"),
            "PORTICO_INSTANCE_PATH": instance,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench.db",
            # Nothing here queues or limits: no Redis is needed (and none is started).
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "RATELIMIT_STORAGE_URI": "memory://",
            "PORTICO_LOG_LEVEL": "WARNING",
        }
    )

    @app.get("/bench/files/<key>")
    def download(key: str) -> Any:
        try:
            return storage().download(key, "Informe anual 2026.pdf", "application/pdf")
        except NotFound:
            abort(404)

    @app.get("/bench/whole/<key>")
    def whole(key: str) -> Any:
        """The control: the file read into memory first, as a naive view would."""
        with storage().open(key) as handle:
            return Response(handle.read(), mimetype="application/pdf")

    return app


class Source:
    """``size`` bytes of a PDF-looking file, made as they are read (never all in memory)."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.block = b"%PDF-1.7\n" + os.urandom(MB)

    def read(self, size: int = -1) -> bytes:
        size = MB if size < 0 or size > MB else size
        chunk = self.block[: min(size, self.left)]
        self.left -= len(chunk)
        return chunk


def put_files() -> tuple[str, str]:
    from app.storage import UploadRule, storage

    rule = UploadRule("bench", frozenset({"application/pdf"}), (SIZE_MB + 1) * MB)
    with bench_app().app_context():
        small = storage().put(Source(MB), rule)
        large = storage().put(Source(SIZE_MB * MB), rule)
    assert large.size == SIZE_MB * MB
    return small.key, large.key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(server: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    if server == "gunicorn":
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "bench.download_memory:bench_app()",
        ]
    else:
        cmd = [
            sys.executable,
            "-c",
            "from werkzeug.serving import run_simple; from bench.download_memory import bench_app;"
            f" run_simple('127.0.0.1', {port}, bench_app(), threaded=True)",
        ]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)


def serving_process(process: subprocess.Popen[bytes]) -> psutil.Process:
    """gunicorn's worker (the master only forks), or the werkzeug process itself."""
    parent = psutil.Process(process.pid)
    children = parent.children()
    return children[0] if children else parent


def wait_until_up(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server stopped before it answered")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start within 60 s")


def download(port: int, key: str, route: str = "files") -> tuple[int, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("GET", f"/bench/{route}/{key}")
    response = connection.getresponse()
    if response.status != 200:
        raise SystemExit(f"download answered {response.status}")
    received = 0
    while chunk := response.read(MB):
        received += len(chunk)
    connection.close()
    return received, dict(response.getheaders())


def measure(label: str, keys: tuple[str, str], env: dict[str, str], route: str = "files") -> float:
    server = label.split()[0]
    port = free_port()
    process = start(server, port, env)
    try:
        wait_until_up(port, process)
        download(port, keys[0], route)  # warm-up: every import and code path loaded
        worker = serving_process(process)
        time.sleep(0.5)
        baseline = worker.memory_info().rss
        peak = baseline
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, worker.memory_info().rss)
                done.wait(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        began = time.perf_counter()
        received, headers = download(port, keys[1], route)
        seconds = time.perf_counter() - began
        done.set()
        sampler.join()
        peak = max(peak, worker.memory_info().rss)
    finally:
        process.terminate()
        process.wait(10)
    assert received == SIZE_MB * MB, f"received {received} bytes"
    assert headers["X-Content-Type-Options"] == "nosniff"
    if route == "files":
        assert headers["Content-Disposition"].startswith("attachment;")
    growth = (peak - baseline) / MB
    print(
        f"{label:<34} {SIZE_MB} MB in {seconds:5.2f} s; serving process RSS "
        f"{baseline / MB:.0f} MB idle, {peak / MB:.0f} MB peak: growth {growth:.1f} MB"
    )
    return growth


def s3_server(port: int) -> subprocess.Popen[bytes]:
    """moto's S3-compatible server in a process of its own (it keeps objects in its memory,
    which must not be counted as the web process's)."""
    moto = Path(sys.executable).with_name("moto_server")
    return subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> None:
    growths: list[float] = []
    with tempfile.TemporaryDirectory(prefix="pt-bench-") as instance:
        os.environ["BENCH_INSTANCE"] = instance
        env = {**os.environ, "BENCH_INSTANCE": instance}
        began = time.perf_counter()
        keys = put_files()
        print(f"put {SIZE_MB} MB into the folder backend in {time.perf_counter() - began:.1f} s")
        for server in SERVERS:
            growths.append(measure(f"{server} (folder)", keys, env))
        # The control shows the sampling sees memory when it does grow.
        measure("gunicorn (control: read whole)", keys, env, route="whole")

        if os.environ.get("BENCH_S3", "1") == "1":
            port = free_port()
            moto = s3_server(port)
            try:
                wait_until_up(port, moto)
                s3 = {
                    "BENCH_STORAGE_URL": "s3://bench-files/portico",
                    "BENCH_STORAGE_ENDPOINT_URL": f"http://127.0.0.1:{port}",
                    "AWS_ACCESS_KEY_ID": "test",
                    "AWS_SECRET_ACCESS_KEY": "test",
                    "AWS_DEFAULT_REGION": "us-east-1",
                }
                os.environ.update(s3)
                import boto3

                boto3.client("s3", endpoint_url=s3["BENCH_STORAGE_ENDPOINT_URL"]).create_bucket(
                    Bucket="bench-files"
                )
                keys = put_files()
                growths.append(measure("gunicorn (S3, moto)", keys, {**env, **s3}))
            finally:
                moto.terminate()
                moto.wait(10)
    worst = max(growths)
    verdict = "OK" if worst < TARGET_MB else "OVER TARGET"
    print(f"largest growth while streaming: {worst:.1f} MB (target < {TARGET_MB} MB): {verdict}")
    if worst >= TARGET_MB:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
