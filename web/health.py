"""`GET /healthz`: is the bot doing its job right now — scheduler running, database writable.

A container orchestrator or systemd watchdog restarts what answers 503, so the check is
cheap and real: a one-row write in the bot's own database (the failure a full disk or a
read-only volume causes) and the scheduler's own running flag.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.storage.store import Store

__all__ = ["Health", "check_health"]


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    reason: str
    checked_at: float

    def to_json(self) -> dict[str, object]:
        return {"status": "ok" if self.ok else "unhealthy", "reason": self.reason,
                "checked_at": round(self.checked_at, 3)}


def check_health(store: Store, scheduler_running: Callable[[], bool], clock: Callable[[], float] = time.time) -> Health:
    """Healthy when the scheduler runs and a write to the database commits."""
    now = clock()
    if not scheduler_running():
        return Health(False, "scheduler not running", now)
    try:
        with store.transaction():
            store.db.execute("insert or replace into meta (key, value) values ('heartbeat', ?)", [str(now)])
    except sqlite3.Error as exc:
        return Health(False, f"database not writable: {exc}", now)
    return Health(True, "scheduler running, database writable", now)
