"""A job's work horse is never forked while the ticker's sweep writes to the database. On
SQLite a child forked while another thread of its parent holds the write lock can never write
to the file afterwards: every job it ran failed with "database is locked" and due actions
fired minutes late in the default set-up."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import jobs.sweeper
from app.redis import worker_redis
from jobs.worker import Ticker


def _write(path: Path, value: str, *, hold: float = 0.0) -> None:
    connection = sqlite3.connect(path, timeout=3, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO t VALUES (?)", (value,))
        time.sleep(hold)
        connection.execute("COMMIT")
    finally:
        connection.close()


def test_a_work_horse_is_forked_only_between_sweeps(app, tmp_path, monkeypatch):
    path = tmp_path / "shared.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (v TEXT)")
    sweeping = threading.Event()

    def slow_sweep(**_: object) -> None:  # a sweep that writes for a while
        sweeping.set()
        _write(path, "sweep", hold=0.5)

    monkeypatch.setattr(jobs.sweeper, "sweep", slow_sweep)
    with app.app_context():
        ticker = Ticker(worker_redis(app), owner="fork-test", app=app)
    sweeper = threading.Thread(target=ticker.sweep)
    sweeper.start()
    assert sweeping.wait(5)
    time.sleep(0.1)  # the sweep holds the write lock now
    pid = os.fork()  # what RQ does to run a job
    if pid == 0:  # the work horse: it must be able to write
        try:
            _write(path, "job")
        except Exception:
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    sweeper.join()
    ticker.connection.close()
    assert os.waitstatus_to_exitcode(status) == 0
    with sqlite3.connect(path) as connection:
        assert sorted(v for (v,) in connection.execute("SELECT v FROM t")) == ["job", "sweep"]
