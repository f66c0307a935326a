"""Read-only probes of a running bot's database: what a test waits on instead of sleeping."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["outbox_settled", "wait_until"]


def outbox_settled(db: Path) -> bool:
    """Every outbox row is sent (and there is at least one): the bot has nothing left to post."""
    if not db.exists():
        return False
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            total, unsent = conn.execute("select count(*), sum(state != 'sent') from outbox").fetchone()
    except sqlite3.OperationalError:  # not created yet, or busy
        return False
    return bool(total) and not unsent


async def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, every: float = 0.02) -> None:
    """Poll `predicate` (something outside the fakes, such as the database) until it holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(every)
