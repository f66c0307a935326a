"""The storage part of `digestbot status`: who runs on this database and what it says of the disk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

from app.context import Context
from bot.core.errors import StorageError
from bot.storage.lock import holder
from bot.storage.store import Store

__all__ = ["StorageStatus", "status_store", "storage_status", "storage_text"]


class StorageStatus(TypedDict):
    """The `storage` object of `status --json` (keys in the order printed)."""

    path: str
    running_pid: int | None
    error: str | None
    error_since: str | None


def status_store(ctx: Context) -> tuple[Store, str | None]:
    """The store as `status` reads it: written as usual, or read-only when the disk refuses writes."""
    try:
        return ctx.store(), None
    except StorageError as exc:
        if not Path(exc.path).is_file():
            raise
        return ctx.store(read_only=True), exc.cause


def storage_status(path: str, own_problem: str | None) -> StorageStatus:
    """Who runs on this database and what it says of the disk (see `bot.storage.lock`)."""
    running = holder(path) if path != ":memory:" else None
    problem = running.storage_problem if running else None
    return {
        "path": path, "running_pid": running.pid if running else None,
        "error": problem.cause if problem else own_problem,
        "error_since": _epoch_iso(problem.since) if problem else None,
    }


def storage_text(storage: StorageStatus) -> str:
    running = f"digestbot running as process {storage['running_pid']}" if storage["running_pid"] else "not running"
    line = f"\nStorage\n  {storage['path']} ({running})"
    if storage["error"]:
        since = f" since {storage['error_since']}" if storage["error_since"] else ""
        line += f"\n  CANNOT WRITE: {storage['error']}{since} (posts stay queued; resumes once fixed)"
    return line


def _epoch_iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")
