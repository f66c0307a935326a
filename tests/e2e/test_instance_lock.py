"""One instance, really: a symlinked `storage.path` or a deleted `<db>.lock` never lets a second bot start.

Black-box, as an operator would get there: a running `digestbot run` (real CLI subprocess), then a
second `run` through a symlink to the same database, or after `rm bot.db.lock`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bot.storage.lock import InstanceLock, InstanceLocked
from tests.e2e.test_operator_faults import _cli, _config, _lines, _one_line, _start, _stop, _wait


def test_a_symlinked_storage_path_is_the_same_database(tmp_path: Path) -> None:
    real_dir = tmp_path / "data"
    real_dir.mkdir()
    db = real_dir / "bot.db"
    link = tmp_path / "link.db"
    link.symlink_to(db)
    log = tmp_path / "deliveries.jsonl"
    first = _start(_config(real_dir, db, log=log))
    try:
        _wait(lambda: len(_lines(log)) >= 1, "the first bot delivering", proc=first)
        other = tmp_path / "other"
        other.mkdir()
        second = _cli(_config(other, link), "run", "--once")
        assert second.returncode != 0
        line = _one_line(second.stderr)
        assert f"process {first.pid}" in line, line
    finally:
        code, err = _stop(first)
    assert "Traceback" not in err


def test_deleting_the_lock_file_does_not_let_a_second_run_in(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    log = tmp_path / "deliveries.jsonl"
    config = _config(tmp_path, db, log=log)
    first = _start(config)
    try:
        _wait(lambda: len(_lines(log)) >= 1, "the first bot delivering", proc=first)
        lock = Path(f"{db}.lock")
        assert lock.exists()
        lock.unlink()
        second = _cli(config, "run", "--once")
        assert second.returncode != 0, second.stderr
        line = _one_line(second.stderr)
        assert "in use by" in line and str(db) in line, line
        assert f"process {first.pid}" in line, line  # found from the kernel's lock table
        send = _cli(config, "send", "console-0")  # never delivers beside it: hands the posts to the holder
        assert f"process {first.pid}" in _one_line(send.stderr), send.stderr
        assert first.poll() is None
        status = _cli(config, "status", "--json")
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["storage"]["running_pid"] == first.pid
    finally:
        _stop(first)
    again = _cli(config, "run", "--once")  # and once it has stopped, the next start is not blocked
    assert again.returncode == 0, again.stderr


def test_a_lock_released_after_a_failed_start_leaves_no_empty_database(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    with InstanceLock(str(db)):
        assert db.exists() and db.stat().st_size == 0
        assert os.stat(db).st_mode & 0o777 == 0o600
        try:
            InstanceLock(str(db)).acquire()
        except InstanceLocked as exc:
            assert exc.pid == os.getpid()
        else:
            raise AssertionError("a second lock on the same database was granted")
    assert not db.exists()  # nothing was written into it: a failed start leaves nothing behind
