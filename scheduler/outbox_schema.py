"""The outbox's own tables: created (or brought up to date) once, before an `Outbox` reads them.

The scheduler's tables live in the engine's SQLite file but are the scheduler's alone: the
store never reads them, and this module is the one place that says what they look like.
`ensure_schema` writes nothing when every table, index and column is already there (so
`status` opens a database on a full disk), and otherwise creates what is missing in one
write transaction taken up front (another process may be opening the same file).
"""

from __future__ import annotations

import sqlite3

__all__ = ["OPEN_STATES", "ensure_schema"]

#: Rows still to deliver: the states the worker's head queries, the partial index, status and metrics count.
OPEN_STATES = ("pending", "sending", "failed")
OPEN_SQL = "(" + ", ".join(f"'{state}'" for state in OPEN_STATES) + ")"

_TABLES = ("outbox", "outbox_open", "outbox_issue", "outbox_followups", "dest_state", "dest_issues")

_DDL = (
    """create table if not exists outbox (
        id integer primary key autoincrement,
        key text not null unique,
        destination text not null, entry_id text not null, unit text not null,
        kind text not null, revision integer not null default 0,
        part integer not null, parts integer not null, op text not null default 'send',
        state text not null default 'pending', attempts integer not null default 0,
        next_attempt_at real not null, rendered text not null, target text,
        sent text, error text, created_at real not null, updated_at real not null,
        sent_at real,
        unique (destination, entry_id, unit, revision, part, op))""",
    f"create index if not exists outbox_open on outbox (destination, id) where state in {OPEN_SQL}",
    "create index if not exists outbox_issue on outbox (destination, entry_id, unit, op)",
    # Rows recorded as sent whose follow-up (an edition's index) the planner has not done yet:
    # written in the same transaction as the `sent` state, removed once the planner reacted.
    "create table if not exists outbox_followups (row_id integer primary key)",
    """create table if not exists dest_state (
        name text primary key, fingerprint text, paused_reason text, paused_at real,
        last_tick_at real, created_at real not null,
        removed integer not null default 0, chat_override text)""",
    """create table if not exists dest_issues (
        destination text not null, entry_id text not null, status text not null,
        seq integer not null, admitted_at real not null, done integer not null default 0,
        primary key (destination, entry_id))""",
)


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"pragma table_info({table})")}


def _ready(conn: sqlite3.Connection) -> bool:
    names = {row[0] for row in conn.execute("select name from sqlite_master")}
    return set(_TABLES) <= names and "chat_override" in _columns(conn, "dest_state")


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the outbox's tables, indexes and late columns that are missing (nothing when all are there)."""
    if _ready(conn):
        return
    began = not conn.in_transaction
    if began:
        conn.execute("BEGIN IMMEDIATE")  # the write lock up front, so the busy timeout applies
    try:
        for statement in _DDL:
            conn.execute(statement)
        if "chat_override" not in _columns(conn, "dest_state"):  # databases created before chat migrations were kept
            conn.execute("alter table dest_state add column chat_override text")
    except BaseException:
        if began and conn.in_transaction:
            conn.rollback()
        raise
    if began and conn.in_transaction:
        conn.commit()
