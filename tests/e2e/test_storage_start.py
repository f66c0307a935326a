"""A failed start on a full disk leaves no empty database behind, and `status` still answers read-only.

The first test goes through the storage seam (`Store(connect=...)` refusing writes as a full disk
does), so it runs anywhere; the second is black-box on a real full file system (tmpfs, root only).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bot.core.errors import StorageError
from bot.storage.store import Store
from tests.e2e.test_operator_faults import _cli, _config, _fill, _one_line, _tmpfs
from tests.scheduler.test_storage_faults import DiskFull


class AlwaysFull(DiskFull):
    full = True


def _full(path: str) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=30, check_same_thread=False, factory=AlwaysFull)


def test_a_store_that_cannot_be_created_leaves_no_file(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    with pytest.raises(StorageError, match="full"):
        Store(str(db), connect=_full)
    assert not db.exists()
    existing = tmp_path / "kept.db"
    Store(str(existing)).close()
    with pytest.raises(StorageError):
        Store(str(existing), connect=_full)  # a database that was there stays, whatever happens
    assert existing.exists()


def test_read_only_store_answers_for_a_database_without_every_table(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    db.touch()  # what an older version could leave after a failed start
    store = Store(str(db), read_only=True)
    try:
        assert store.subscriptions("telegram") == []
    finally:
        store.close()
    assert db.stat().st_size == 0  # nothing was written to it


def test_full_disk_failed_start_then_status(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "mnt", "16m") as mnt:
        db = mnt / "bot.db"
        config = _config(tmp_path, db)
        assert _cli(config, "ingest").returncode == 0  # a database without the scheduler's tables yet
        _fill(mnt)
        fresh_dir = tmp_path / "fresh"
        fresh_dir.mkdir()
        fresh = mnt / "fresh.db"
        fresh_config = _config(fresh_dir, fresh)
        for command in (("run", "--once"), ("ingest",)):
            failed = _cli(fresh_config, *command)
            assert failed.returncode == 2 and "full" in _one_line(failed.stderr), failed.stderr
            assert not fresh.exists(), command  # no empty database left behind
        status = _cli(fresh_config, "status")
        assert status.returncode == 2 and "unexpected" not in status.stderr
        assert "full" in _one_line(status.stderr)
        status = _cli(config, "status", "--json")  # the existing database, read without writing
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        assert report["storage"]["path"] == str(db)
