"""A store that cannot be created on a full disk leaves no file, and a read-only store answers for an old
database: through the storage seam (`Store(connect=...)` refusing writes as a full disk does), so these run
anywhere; the black-box run on a real full file system is tests/e2e/test_storage_start.py."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.core.errors import StorageError
from bot.storage.store import Store
from tests.harness.disk import DiskFull


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
