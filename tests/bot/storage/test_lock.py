"""A lock released after a failed start leaves no empty database (the instance lock in process; two bots
as processes: tests/e2e/test_instance_lock.py)."""

from __future__ import annotations

import os
from pathlib import Path

from bot.storage.lock import InstanceLock, InstanceLocked


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
