"""Storage faults in words: what went wrong with `storage.path`, and how long it has been wrong.

Two jobs that share one vocabulary:
- at start, `storage_error()` turns what SQLite or the OS raised (read-only file or folder, full disk,
  a missing folder, a folder where the file should be) into one `StorageError` line that names
  `storage.path` and the cause, so the CLI exits 2 instead of printing a traceback;
- while running, `StorageHealth` remembers the current write failure so that it is logged once when it
  starts, again at most once per `log_every`, once when it ends, and can be shown by `status`.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.core.errors import StorageError

__all__ = ["StorageHealth", "StorageProblem", "check_storage_path", "holds_nothing", "is_storage_fault", "probe_write",
           "storage_error"]

log = logging.getLogger(__name__)

_CAUSES = (  # SQLite's messages, most specific first
    ("disk is full", "the disk is full"),
    ("readonly", "read-only (the file, its folder or the file system cannot be written)"),
    ("read-only", "read-only (the file, its folder or the file system cannot be written)"),
    ("disk i/o error", "disk I/O error"),
    ("not a database", "the file is not a digestbot (SQLite) database"),
    ("database is locked", "the database is locked by another process"),
)
_ERRNO_CAUSES = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOENT: "the folder does not exist",
    errno.EISDIR: "it names a folder, not a file",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
}


def check_storage_path(path: str) -> None:
    """Refuse what SQLite would turn into an obscure error: a folder as file, a missing folder.

    A missing folder is not created: a typo in `storage.path` must not quietly start a new, empty bot.
    """
    target = Path(path)
    if target.is_dir():
        raise StorageError(path, "it names a folder, not a file")
    folder = target.parent
    if not folder.exists():
        raise StorageError(path, f"the folder {folder} does not exist")
    if not folder.is_dir():
        raise StorageError(path, f"{folder} is not a folder")


def storage_error(path: str, exc: BaseException) -> StorageError:
    """One line for a storage failure: the cause in words, else the library's own message."""
    if isinstance(exc, StorageError):
        return exc
    return StorageError(path, _cause(path, exc))


def is_storage_fault(exc: BaseException) -> bool:
    """A failure of the disk under the database (not a bug in a query): worth waiting out."""
    if isinstance(exc, StorageError):
        return True
    if isinstance(exc, OSError):
        return exc.errno in _ERRNO_CAUSES
    if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
        message = str(exc).lower()
        return any(needle in message for needle, _ in _CAUSES) or "unable to open" in message
    return False


def _cause(path: str, exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno in _ERRNO_CAUSES:
        return _ERRNO_CAUSES[exc.errno]
    message = str(exc)
    lowered = message.lower()
    for needle, cause in _CAUSES:
        if needle in lowered:
            return cause
    if "unable to open" in lowered:
        folder = Path(path).parent
        if Path(path).is_dir():
            return "it names a folder, not a file"
        if not folder.exists():
            return f"the folder {folder} does not exist"
        if not os.access(folder, os.W_OK):
            return f"the folder {folder} is read-only"
        return "SQLite cannot open the file"
    return message or type(exc).__name__


_MIN_FREE = 1 << 20  # "room again" means at least 1 MiB free, not the few bytes a deletion frees


def probe_write(conn: sqlite3.Connection, path: str) -> None:
    """Raise the current storage fault, if any: too little free space, or a write that fails.

    The write is real (a row inserted and deleted in one transaction) so that a read-only or
    failing database is caught as well as a full disk.
    """
    if path != ":memory:":
        with contextlib.suppress(OSError):  # no statvfs (another OS): rely on the write alone
            stats = os.statvfs(Path(path).parent)
            if stats.f_bavail * stats.f_frsize < _MIN_FREE:
                raise OSError(errno.ENOSPC, "less than 1 MiB free")
    with conn:
        conn.execute("create table if not exists storage_probe (at real)")
        conn.execute("insert into storage_probe values (?)", [time.time()])
        conn.execute("delete from storage_probe")


@dataclass(frozen=True, slots=True)
class StorageProblem:
    """The write failure in progress, as `status` shows it."""

    cause: str
    since: float  # epoch seconds
    failures: int


class StorageHealth:
    """Tracks one write outage of the database: logged when it starts, every `log_every`, and at its end.

    `on_change` receives the problem (or None once writes work again); the CLI hands it to the
    instance lock so that `digestbot status`, another process, can show what the bot sees even
    when the full disk leaves no room to write it into the database.
    """

    def __init__(self, path: str, *, log_every: float = 60.0, retry_every: float = 5.0,
                 on_change: Callable[[StorageProblem | None], object] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.log_every = log_every
        self.retry_every = retry_every
        self.on_change = on_change
        self.clock = clock
        self.problem: StorageProblem | None = None
        self._last_log = 0.0

    def failed(self, exc: BaseException) -> None:
        """Record one failed write; logs only when the outage starts or `log_every` has passed."""
        now = self.clock()
        cause = _cause(self.path, exc)
        previous = self.problem
        if previous is None:
            self.problem = StorageProblem(cause, now, 1)
            self._last_log = now
            log.error("storage.path %s: cannot write (%s); posts stay queued, retrying every %gs",
                      self.path, cause, self.retry_every)
        else:
            self.problem = StorageProblem(cause, previous.since, previous.failures + 1)
            if now - self._last_log >= self.log_every:
                self._last_log = now
                log.error("storage.path %s: still cannot write (%s) after %.0fs and %d attempts",
                          self.path, cause, now - previous.since, self.problem.failures)
        if previous is None or previous.cause != cause:
            self._publish()

    def recovered(self) -> None:
        """Writes work again: say so once and clear the problem."""
        if self.problem is None:
            return
        log.warning("storage.path %s: writable again after %.0fs; resuming", self.path,
                    self.clock() - self.problem.since)
        self.problem = None
        self._publish()

    def _publish(self) -> None:
        if self.on_change is not None:
            try:
                self.on_change(self.problem)
            except OSError:  # the report is best effort; the log line already said it
                log.debug("could not publish the storage state", exc_info=True)


def holds_nothing(path: str) -> bool:
    """No byte, or a bare SQLite header without a single table: what a start that failed before
    storing anything leaves, safe to remove (see `bot.storage.lock` and `bot.storage.store`)."""
    if os.path.getsize(path) == 0:
        return True
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            return not conn.execute("select count(*) from sqlite_master").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return False
