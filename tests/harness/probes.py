"""Read-only probes of what a running bot wrote (its database, the console's delivery log): what a test
waits on (with tests/harness/poll.py) instead of sleeping."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

__all__ = ["console_log", "outbox_settled"]


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


def console_log(log: Path) -> list[dict[str, str]]:
    """The console's JSON-lines delivery log so far (a line still being written is left out)."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.endswith("}")]
