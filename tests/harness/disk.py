"""Full and read-only disks, two ways: through the storage seam (anywhere) or a real tmpfs (root only).

`DiskFull` is a real SQLite connection that refuses writes with SQLite's own message while `full` is
set (pass `connect_disk_full` as `Store(connect=...)`); `tmpfs` mounts a size-limited file system and
`fill` takes every free byte of it.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["DiskFull", "connect_disk_full", "fill", "tmpfs"]

_WRITE = re.compile(r"^\s*(insert|update|delete|replace|create)\b", re.IGNORECASE)


class DiskFull(sqlite3.Connection):
    """A real SQLite connection that refuses writes while `full` is set, with SQLite's own message."""

    full = False

    def _check(self, sql: str) -> None:
        if self.full and _WRITE.match(sql):
            raise sqlite3.OperationalError("database or disk is full")

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        self._check(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        self._check(sql)
        return super().executemany(sql, parameters)


def connect_disk_full(path: str) -> sqlite3.Connection:
    """The `Store(connect=...)` seam, opening a `DiskFull` connection the way the store opens its own."""
    return sqlite3.connect(path, timeout=30, check_same_thread=False, factory=DiskFull)


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A small real file system of its own; skips the test when this machine does not allow mounting."""
    where.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root on Linux (the storage seam test covers the logic)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(folder: Path) -> Path:
    """Take every free byte of the file system; returns the filler to delete to make room again."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (1 << 16, 512, 1):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * chunk):
                    pass
    finally:
        os.close(fd)
    return filler
