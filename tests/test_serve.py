"""`flask serve` (what `make run` calls): first-run set-up, URLs and logins, and Ctrl-C stops
everything it started, the embedded Redis included."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_starts_everything_and_ctrl_c_stops_it_all(tmp_path):
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PORTICO_", "DATABASE_URL", "REDIS_URL", "TEST_"))
    }
    env.update(PORTICO_INSTANCE_PATH=str(tmp_path / "instance"), PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "wsgi",
            "serve",
            "--port",
            str(port),
            "--demo-records",
            "12",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's job
    )
    output = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Press Ctrl-C to stop." in line:
                break
        text = "".join(output)
        assert "Press Ctrl-C to stop." in text, text
        assert f"http://127.0.0.1:{port}/admin/" in text
        assert f"http://127.0.0.1:{port}/portal/" in text
        assert "admin@example.com / portico-admin-demo" in text
        assert "running with scheduler" in text
        # What took the time, not only a total.
        assert "Started in " in text and "demo data" in text and "migrations" in text
        # Emailed and texted links follow the port when PORTICO_BASE_URL is not set, in the
        # web server and the worker alike.
        assert f"Links in mail:  http://127.0.0.1:{port} (this server;" in text
        children = psutil.Process(process.pid).children(recursive=True)
        flask_children = [c for c in children if "flask" in " ".join(c.cmdline())]
        assert len(flask_children) >= 2
        for child in flask_children:
            assert child.environ()["PORTICO_BASE_URL"] == f"http://127.0.0.1:{port}"

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            assert json.load(resp)["status"] == "ok"
        family = [process.pid] + [
            child.pid for child in psutil.Process(process.pid).children(recursive=True)
        ]
        socket_path = tmp_path / "instance" / "redis.sock"
        assert socket_path.exists()
        redis_pid = _redis_pid(socket_path)
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        rest, _ = process.communicate(timeout=60)
        output.append(rest)
    assert process.returncode == 0, "".join(output)
    assert "Stopped." in "".join(output)
    assert not [pid for pid in family if _alive(pid)], "".join(output)
    assert not _alive(redis_pid)
    assert not socket_path.exists()


def test_links_follow_the_port_unless_configured():
    from app.cli_serve import links_base_url

    assert links_base_url("127.0.0.1", 5101, None) == (
        "http://127.0.0.1:5101",
        "this server; set PORTICO_BASE_URL to change",
    )
    assert links_base_url("0.0.0.0", 8000, "")[0] == "http://127.0.0.1:8000"  # noqa: S104 - a test value
    assert links_base_url("127.0.0.1", 5101, "https://portal.example.com/") == (
        "https://portal.example.com",
        "from PORTICO_BASE_URL",
    )


def test_startup_summary_names_what_took_the_time():
    from app.cli_serve import startup_summary

    summary = startup_summary([("migrations", 1.04), ("demo data", 4.1), ("web server", 2.0)])
    assert summary == "Started in 7.1 s (migrations 1.0 s, demo data 4.1 s, web server 2.0 s)."


def _redis_pid(socket_path):
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if (
                "redis-server" in (proc.info["name"] or "")
                and proc.status() != psutil.STATUS_ZOMBIE
                and _serves(proc, socket_path)
            ):
                return proc.pid
        except psutil.Error:
            continue
    raise AssertionError("no redis-server found for the instance")


def _serves(proc, socket_path):
    try:
        return any(str(socket_path) == conn.laddr for conn in proc.net_connections("unix"))
    except psutil.Error:
        return False


def _alive(pid):
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
