"""The outbox's own schema: created once, brought up to date on an older database, written only when needed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from bot.ports import Rendered, Sent
from scheduler.outbox import NewRow, Outbox, Outcome
from scheduler.outbox_schema import ensure_schema


def _row(part: int) -> NewRow:
    return NewRow("a", "e1", "tools", "section", part, 2, Rendered("text", "x", {"text": "x"}), 0.0)


def test_an_older_database_gets_the_followups_table_and_keeps_its_rows(tmp_path: Path) -> None:
    path = str(tmp_path / "old.db")
    outbox = Outbox(sqlite_utils.Database(sqlite3.connect(path)))
    outbox.enqueue([_row(0), _row(1)], 1.0)
    outbox.db.execute("drop table outbox_followups")  # as a database made before follow-ups were recorded
    outbox.db.conn.commit()
    outbox.db.conn.close()

    reopened = Outbox(sqlite_utils.Database(sqlite3.connect(path)))
    rows = reopened.rows("a")
    assert [r.part for r in rows] == [0, 1]
    reopened.complete([Outcome(rows[0].id, "sent", 2.0, sent=Sent("c", ("1",))),
                       Outcome(rows[1].id, "failed", 2.0, error="later", next_attempt_at=9.0)])
    assert [r.id for r in reopened.followups()] == [rows[0].id]  # only the sent row waits for the planner
    reopened.followed_up(rows[0].id)
    assert reopened.followups() == []


def test_a_complete_schema_is_opened_without_writing(tmp_path: Path) -> None:
    path = str(tmp_path / "full.db")
    Outbox(sqlite_utils.Database(sqlite3.connect(path))).db.conn.close()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # a write here would raise
    ensure_schema(conn)
    assert {"outbox", "outbox_followups", "dest_state", "dest_issues"} <= {
        row[0] for row in conn.execute("select name from sqlite_master")}
