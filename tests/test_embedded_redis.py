"""The embedded Redis: started once per instance folder, shared, and stopped without orphans."""

import os
import time

import psutil
import redis

from app.redis import EmbeddedRedis


def test_start_share_and_stop(tmp_path):
    instance = tmp_path / "inst"
    first = EmbeddedRedis(instance)
    first.ensure_running()
    assert first.owned and first.is_running()
    client = redis.Redis.from_url(first.url)
    client.set("greeting", "hello")

    second = EmbeddedRedis(instance)  # another process would do the same
    second.ensure_running()
    assert not second.owned  # it found the running server and did not start another
    assert redis.Redis.from_url(second.url).get("greeting") == b"hello"

    pid = first._server.pid
    first.stop()
    assert not first.is_running()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert (instance / "redis.db").exists()  # data saved in the instance folder

    third = EmbeddedRedis(instance)
    third.ensure_running()
    try:
        assert redis.Redis.from_url(third.url).get("greeting") == b"hello"
    finally:
        third.stop()


def test_long_instance_paths_get_a_short_socket(tmp_path):
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    server = EmbeddedRedis(deep)
    assert len(str(server.socket_path)) < 100
    assert str(server.socket_path) != str(deep / "redis.sock")


def test_a_stale_socket_file_does_not_block_start(tmp_path):
    server = EmbeddedRedis(tmp_path / "inst")
    server.socket_path.parent.mkdir(parents=True, exist_ok=True)
    server.socket_path.write_text("left over")
    server.ensure_running()
    try:
        assert server.is_running()
    finally:
        server.stop()
    deadline = time.time() + 5
    while server.socket_path.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(server.socket_path)


def test_a_command_that_starts_the_server_stops_it_when_it_exits(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    instance = tmp_path / "inst"
    code = (
        "from app import create_app\n"
        "from app.redis import get_redis\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    get_redis().set('x', 1)\n"
    )
    env = {"PATH": os.environ["PATH"], "PORTICO_INSTANCE_PATH": str(instance)}
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code], cwd=root, env=env, check=True, timeout=60)
    server = EmbeddedRedis(instance)
    assert not server.is_running()
    assert (instance / "redis.db").exists()
