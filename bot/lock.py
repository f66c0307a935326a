"""One bot per database: an OS lock (flock) on `<storage.path>.lock`, holding the owner's PID.

Two `digestbot run` on one database would both drain the same outbox and post everything twice.
`run` and every command that delivers take this lock first; a second one exits at once with one line
naming the PID that holds it. The kernel drops the lock when the holder dies (even by SIGKILL), so a
stale file never blocks a restart. Read-only commands (`status`, `ask`, `preview`) never take it.

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

from bot.errors import DigestbotError
from bot.storagefault import StorageProblem, storage_error

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
    return f"{db_path}.lock"


class InstanceLock:
    """Exclusive, non-blocking, released by `release()` or by the process ending."""

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        self.path = lock_path(db_path)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise at once.

        Raises:
            InstanceLocked: another process holds it (its PID named when readable).
            StorageError: the lock file cannot be created next to the database.
        """
        if self._fd is not None:
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise storage_error(self.db_path, exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                current = _read(self.path)
                raise InstanceLocked(self.db_path, current.pid if current else None) from None
            raise storage_error(self.db_path, exc) from exc
        self._fd = fd
        try:
            self._write(None)
        except OSError as exc:
            self.release()
            raise storage_error(self.db_path, exc) from exc

    def publish(self, problem: StorageProblem | None) -> None:
        """Report the current storage problem (None: all is well) for `status` to read."""
        if self._fd is not None:
            self._write(problem)

    def release(self) -> None:
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
    if current is None:
        return None
    try:
        os.kill(current.pid, 0)
    except ProcessLookupError:
        return None  # killed without a chance to clear the file
    except PermissionError:
        pass  # alive, owned by another user
    return current


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
