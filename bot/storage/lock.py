"""One bot per database: OS locks (flock) on `<database>.lock`, holding the owner's PID, and on the database.

Two `digestbot run` on one database would both drain the same outbox and post everything twice.
`run` and every command that delivers take this lock first; a second one exits at once with one line
naming the PID that holds it. The kernel drops the lock when the holder dies (even by SIGKILL), so a
stale file never blocks a restart. Read-only commands (`status`, `ask`, `preview`) never take it.

Both locks are on the database's real path (symlinks resolved), so `storage.path` naming the same
file through a symlink is the same database. The lock file can be deleted while its holder runs (a
second `run` would then lock a new file of the same name), so the holder also flocks the database
file itself, which nobody deletes to get past a lock; flock never interferes with SQLite's own
(POSIX record) locks. A database created here and left empty by a failed start is removed again.

The file is also the holder's notice board: its first `_SIZE` bytes are written once at start and
then overwritten in place, so the holder can report a storage problem there (`status` reads it) even
when the disk is too full to write anything new.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
from dataclasses import dataclass
from types import TracebackType

from bot.core.errors import DigestbotError
from bot.storage.fault import StorageProblem, holds_nothing, storage_error

__all__ = ["InstanceLock", "InstanceLocked", "LockHolder", "holder", "lock_path"]

_SIZE = 4096  # pre-allocated: later reports overwrite these bytes, they never need new disk space


class InstanceLocked(DigestbotError):
    """Another process holds the database's lock."""

    def __init__(self, path: str, pid: int | None) -> None:
        who = f"process {pid}" if pid else "another process"
        super().__init__(f"{path} is in use by {who} (one digestbot per database; stop it first)")
        self.path = path
        self.pid = pid


@dataclass(frozen=True, slots=True)
class LockHolder:
    """What the running bot says about itself in its lock file."""

    pid: int
    storage_problem: StorageProblem | None


def lock_path(db_path: str) -> str:
    """`<database>.lock` beside the database's real file, whatever symlink `db_path` goes through."""
    return f"{os.path.realpath(db_path)}.lock"


_BUSY = (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)


class InstanceLock:
    """Exclusive, non-blocking, released by `release()` or by the process ending."""

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        self.real_path = os.path.realpath(db_path)
        self.path = lock_path(db_path)
        self._fd: int | None = None
        self._db_fd: int | None = None
        self._created_db = False

    def acquire(self) -> None:
        """Take the lock or raise at once.

        Raises:
            InstanceLocked: another process holds it (its PID named when readable).
            StorageError: the lock file cannot be created next to the database.
        """
        if self._fd is not None:
            return
        self._fd = self._lock_file()
        try:
            self._write(None)
            self._lock_database()
        except OSError as exc:
            self.release()
            raise storage_error(self.db_path, exc) from exc
        except InstanceLocked:
            self.release()
            raise

    def _lock_file(self) -> int:
        """The flocked lock file; retried when the file was replaced between our open and our flock."""
        for _ in range(5):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                raise storage_error(self.db_path, exc) from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in _BUSY:
                    current = _read(self.path)
                    raise InstanceLocked(self.db_path, current.pid if current else None) from None
                raise storage_error(self.db_path, exc) from exc
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                return fd
            os.close(fd)  # we locked a file someone just deleted: lock the one that is there now
        raise InstanceLocked(self.db_path, None)

    def _lock_database(self) -> None:
        """Flock the database file too (created empty when new: SQLite takes an empty file as a new database)."""
        try:
            fd = os.open(self.real_path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            fd = os.open(self.real_path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            self._created_db = True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in _BUSY:  # its lock file was deleted under it: the holder is still there
                raise InstanceLocked(self.db_path, _flock_holder(self.real_path)) from None
            raise
        self._db_fd = fd

    def publish(self, problem: StorageProblem | None) -> None:
        """Report the current storage problem (None: all is well) for `status` to read."""
        if self._fd is not None:
            self._write(problem)

    def release(self) -> None:
        if self._db_fd is not None:
            db_fd, self._db_fd = self._db_fd, None
            with contextlib.suppress(OSError):
                if self._created_db and holds_nothing(self.real_path):  # a start that failed: no empty database
                    os.unlink(self.real_path)
            os.close(db_fd)
        self._created_db = False
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # an empty file: nobody is running
        os.close(fd)  # closing drops the flock

    def _write(self, problem: StorageProblem | None) -> None:
        assert self._fd is not None
        state: dict[str, object] = {"pid": os.getpid()}
        if problem is not None:
            state["storage"] = {"cause": problem.cause, "since": problem.since, "failures": problem.failures}
        data = json.dumps(state).encode("utf-8")[: _SIZE - 1] + b"\n"
        os.pwrite(self._fd, data.ljust(_SIZE, b" "), 0)

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def holder(db_path: str) -> LockHolder | None:
    """The live process holding the database's lock, as it describes itself; None if nobody runs."""
    current = _read(lock_path(db_path))
    if current is None:  # no lock file (deleted under its holder?): whoever flocks the database itself
        pid = _flock_holder(os.path.realpath(db_path))
        return LockHolder(pid=pid, storage_problem=None) if pid is not None else None
    try:
        os.kill(current.pid, 0)
    except ProcessLookupError:
        return None  # killed without a chance to clear the file
    except PermissionError:
        pass  # alive, owned by another user
    return current


def _flock_holder(path: str) -> int | None:
    """The PID holding a flock on `path`, from Linux's /proc/locks; None elsewhere or when unreadable."""
    try:
        inode = os.stat(path).st_ino
        with open("/proc/locks", encoding="ascii", errors="replace") as file:
            for line in file:
                fields = line.split()
                if len(fields) > 5 and fields[1] == "FLOCK" and fields[5].rsplit(":", 1)[-1] == str(inode):
                    return int(fields[4]) if fields[4].isdigit() else None
    except (OSError, ValueError):
        return None
    return None


def _read(path: str) -> LockHolder | None:
    try:
        with open(path, "rb") as file:
            text = file.read(_SIZE).decode("utf-8", "replace").strip()
        state = json.loads(text) if text else None
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not isinstance(state.get("pid"), int):
        return None
    storage = state.get("storage")
    problem = None
    if isinstance(storage, dict):
        problem = StorageProblem(str(storage.get("cause", "")), float(storage.get("since", 0.0)),
                                 int(storage.get("failures", 0)))
    return LockHolder(pid=state["pid"], storage_problem=problem)
