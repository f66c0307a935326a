"""The outbox: every post to every destination as rows in the bot's SQLite database.

This is the only module that reads and writes the scheduler's tables:
- `outbox`: one row per (destination, edition, unit, revision, part, op) — a unit
  is a section key, "#digest" or "#index"; op is "send" or "edit". State runs
  pending → sending → sent | failed (retry scheduled) | dead. The rendered part is
  stored at enqueue time so that a retry replays exactly what was planned.
- `dest_state`: per destination, the selection fingerprint, pause reason, last tick.
- `dest_issues`: which editions a destination takes ("admitted") or was spared
  ("skipped", the no-flood backfill rule), in delivery order.
- `outbox_followups`: rows recorded as sent whose follow-up the planner has still to do;
  `complete` writes one with the `sent` state, the planner takes it after the commit.

Their definitions (and creating them) are `scheduler/outbox_schema.py`'s.

Writes are short transactions (a batch of rows enqueued, one attempt's outcome recorded),
which with WAL mode keeps the outbox far from being the bottleneck of a fan-out.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlite_utils

from bot.ports import Rendered, Sent
from bot.storage.store import immediate
from scheduler.outbox_schema import OPEN_SQL, OPEN_STATES, ensure_schema

__all__ = ["OPEN_STATES", "DestState", "NewRow", "Outbox", "OutboxRow", "Outcome", "SentPost", "row_key"]



def row_key(destination: str, entry_id: str, unit: str, revision: int, part: int, op: str) -> str:
    """Stable 20-char id of a row: the platform idempotency key (Discord nonce ≤ 25 chars)."""
    raw = "\x1f".join((destination, entry_id, unit, str(revision), str(part), op))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class NewRow:
    """A part to enqueue."""

    destination: str
    entry_id: str
    unit: str
    kind: str  # "section" | "digest" | "index"
    part: int
    parts: int
    rendered: Rendered
    not_before: float
    revision: int = 0
    op: Literal["send", "edit"] = "send"
    target: Sent | None = None  # for op="edit": the message to edit


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    key: str
    destination: str
    entry_id: str
    unit: str
    kind: str
    revision: int
    part: int
    parts: int
    op: str
    state: str
    attempts: int
    next_attempt_at: float
    rendered: Rendered
    target: Sent | None
    sent: Sent | None
    error: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> OutboxRow:
        return cls(
            id=row["id"], key=row["key"], destination=row["destination"], entry_id=row["entry_id"],
            unit=row["unit"], kind=row["kind"], revision=row["revision"], part=row["part"],
            parts=row["parts"], op=row["op"], state=row["state"], attempts=row["attempts"],
            next_attempt_at=row["next_attempt_at"],
            rendered=Rendered.from_json(json.loads(row["rendered"])),
            target=Sent.from_json(json.loads(row["target"])) if row["target"] else None,
            sent=Sent.from_json(json.loads(row["sent"])) if row["sent"] else None,
            error=row["error"],
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one attempt, as the worker judged it."""

    row_id: int
    state: Literal["sent", "failed", "dead", "pending"]
    at: float
    sent: Sent | None = None
    error: str | None = None
    next_attempt_at: float | None = None


@dataclass(frozen=True, slots=True)
class SentPost:
    """One delivered post (all its parts): what, when the last part was confirmed, where the first one is."""

    entry_id: str
    unit: str
    op: str
    parts: int
    sent_at: float | None
    first: Sent | None


@dataclass(frozen=True, slots=True)
class DestState:
    name: str
    fingerprint: str | None
    paused_reason: str | None
    paused_at: float | None
    last_tick_at: float | None
    created_at: float
    removed: bool
    chat_override: str | None = None


class Outbox:
    """SQL for the scheduler's tables, on the engine's `sqlite_utils.Database`."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        ensure_schema(db.conn)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows as dicts, read on the connection directly (no per-query savepoint: the hot path)."""
        cursor = self.db.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # ------------------------------------------------------------------ destinations
    def dest_state(self, name: str) -> DestState | None:
        rows = list(self._query("select * from dest_state where name = ?", [name]))
        return _dest(rows[0]) if rows else None

    def dest_states(self) -> dict[str, DestState]:
        return {row["name"]: _dest(row) for row in self._query("select * from dest_state")}

    def ensure_dest(self, name: str, now: float) -> DestState:
        """The destination's state row, created on first sight (not yet backfilled)."""
        self.db.execute("insert or ignore into dest_state (name, created_at) values (?, ?)", [name, now])
        self.db.execute("update dest_state set removed = 0 where name = ? and removed = 1", [name])
        state = self.dest_state(name)
        assert state is not None
        return state

    def set_fingerprint(self, name: str, fingerprint: str) -> None:
        self.db.execute("update dest_state set fingerprint = ? where name = ?", [fingerprint, name])

    def set_last_tick(self, name: str, when: float) -> None:
        self.db.execute("update dest_state set last_tick_at = ? where name = ?", [when, name])

    def pause(self, name: str, reason: str, now: float) -> None:
        self.db.execute("update dest_state set paused_reason = ?, paused_at = ? where name = ?",
                        [reason, now, name])

    def set_chat_override(self, name: str, chat: str) -> None:
        """Remember that a destination's chat moved (a Telegram group became a supergroup)."""
        self.db.execute("update dest_state set chat_override = ? where name = ?", [chat, name])

    def unpause(self, name: str) -> None:
        self.db.execute("update dest_state set paused_reason = null, paused_at = null where name = ?", [name])

    def mark_removed(self, active: Iterable[str]) -> list[str]:
        """Flag destinations no longer configured; their open rows stay (and show in status)."""
        active_set = set(active)
        gone = [name for name, state in self.dest_states().items()
                if name not in active_set and not state.removed]
        with self.db.atomic():
            for name in gone:
                self.db.execute("update dest_state set removed = 1 where name = ?", [name])
        return gone

    # ------------------------------------------------------------------ admissions
    def known_issues(self, destination: str) -> set[str]:
        return {row["entry_id"] for row in self._query(
            "select entry_id from dest_issues where destination = ?", [destination])}

    def record_issues(self, destination: str, admitted: Sequence[str], skipped: Sequence[str],
                      now: float) -> None:
        """Remember editions as admitted (in this order) or skipped; a known edition never comes back."""
        rows = list(self._query(
            "select coalesce(max(seq), 0) as seq from dest_issues where destination = ?", [destination]))
        seq = int(rows[0]["seq"])
        with self.db.atomic():
            for entry_id in admitted:
                seq += 1
                self.db.execute("insert or ignore into dest_issues values (?, ?, 'admitted', ?, ?, 0)",
                                [destination, entry_id, seq, now])
            for entry_id in skipped:
                self.db.execute("insert or ignore into dest_issues values (?, ?, 'skipped', 0, ?, 1)",
                                [destination, entry_id, now])

    def open_admissions(self, destination: str) -> list[str]:
        """Admitted editions with work left for a cron/digest tick, oldest admission first."""
        return [row["entry_id"] for row in self._query(
            "select entry_id from dest_issues where destination = ? and status = 'admitted' and done = 0 "
            "order by seq", [destination])]

    def admitted_to(self, entry_id: str) -> list[str]:
        return [row["destination"] for row in self._query(
            "select destination from dest_issues where entry_id = ? and status = 'admitted'", [entry_id])]

    def set_done(self, destination: str, entry_id: str, done: bool = True) -> None:
        self.db.execute("update dest_issues set done = ? where destination = ? and entry_id = ?",
                        [int(done), destination, entry_id])

    # ------------------------------------------------------------------ rows
    def enqueue(self, rows: Sequence[NewRow], now: float) -> int:
        """Insert parts in one transaction; a part already there (same key) is left alone."""
        params = [
            (row_key(r.destination, r.entry_id, r.unit, r.revision, r.part, r.op), r.destination,
             r.entry_id, r.unit, r.kind, r.revision, r.part, r.parts, r.op, r.not_before,
             json.dumps(r.rendered.to_json(), ensure_ascii=False),
             json.dumps(r.target.to_json()) if r.target else None, now, now)
            for r in rows
        ]
        with self.db.atomic():
            before = self.db.conn.total_changes
            self.db.conn.executemany(
                "insert or ignore into outbox (key, destination, entry_id, unit, kind, revision, part, "
                "parts, op, next_attempt_at, rendered, target, created_at, updated_at) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", params)
            return self.db.conn.total_changes - before

    def has_rows(self, destination: str, entry_id: str) -> bool:
        return bool(list(self._query(
            "select 1 from outbox where destination = ? and entry_id = ? limit 1", [destination, entry_id])))

    def unsent_count(self, destination: str, entry_id: str, kind: str) -> int:
        """Rows of an edition's kind not sent yet (cheap check before building an index)."""
        rows = list(self._query(
            "select count(*) as n from outbox where destination = ? and entry_id = ? and kind = ? "
            "and op = 'send' and state != 'sent'", [destination, entry_id, kind]))
        return int(rows[0]["n"])

    def units_enqueued(self, destination: str, entry_id: str) -> set[str]:
        return {row["unit"] for row in self._query(
            "select distinct unit from outbox where destination = ? and entry_id = ? and op = 'send'",
            [destination, entry_id])}

    def unit_rows(self, destination: str, entry_id: str, unit: str, op: str = "send",
                  latest_only: bool = True) -> list[OutboxRow]:
        """Rows of one unit, by part; `latest_only` keeps the newest revision of each part."""
        rows = [OutboxRow.from_row(r) for r in self._query(
            "select * from outbox where destination = ? and entry_id = ? and unit = ? and op = ? "
            "order by part, revision", [destination, entry_id, unit, op])]
        if not latest_only:
            return rows
        if op == "send" and rows:
            newest = max(r.revision for r in rows)
            rows = [r for r in rows if r.revision == newest]
        by_part: dict[int, OutboxRow] = {}
        for r in rows:
            by_part[r.part] = r
        return [by_part[p] for p in sorted(by_part)]

    def max_revision(self, destination: str, entry_id: str, unit: str) -> int:
        rows = list(self._query(
            "select coalesce(max(revision), 0) as r from outbox where destination = ? and entry_id = ? "
            "and unit = ?", [destination, entry_id, unit]))
        return int(rows[0]["r"])

    def replace_rendered(self, row_id: int, rendered: Rendered, now: float) -> None:
        """Swap a not-yet-sent part's content (an edit arrived before it went out)."""
        self.db.execute("update outbox set rendered = ?, updated_at = ? where id = ? and state = 'pending'",
                        [json.dumps(rendered.to_json(), ensure_ascii=False), now, row_id])

    def heads(self) -> list[OutboxRow]:
        """The first open row of every destination: the only row of it that may be attempted."""
        sql = (f"select o.* from outbox o join (select destination, min(id) as id from outbox "
               f"where state in {OPEN_SQL} group by destination) h on o.id = h.id")
        return [OutboxRow.from_row(r) for r in self._query(sql)]

    def head_times(self) -> list[tuple[str, float]]:
        """(destination, when its head row is due) for every unpaused destination with open rows.

        The worker's scan: one indexed read of every head, without the payloads (10,000 heads
        are read in milliseconds; the rows themselves are loaded one at a time by `head`).
        """
        return [(row["destination"], row["t"]) for row in self._query(
            f"select h.destination, o.next_attempt_at as t from (select destination, min(id) as id from outbox "
            f"where state in {OPEN_SQL} group by destination) h join outbox o on o.id = h.id "
            f"left join dest_state d on d.name = h.destination where d.paused_reason is null order by h.id")]

    def blocked(self, now: float) -> dict[str, tuple[float, str | None]]:
        """Destinations whose head row waits for a retry time still to come: name → (until, why).

        Nothing of such a destination goes out before then (its posts keep their order), so this
        is what `status` and the panel show as "blocked until" — a flood block, a platform outage.
        """
        return {row["destination"]: (row["t"], row["error"]) for row in self._query(
            f"select h.destination, o.next_attempt_at as t, o.error from (select destination, min(id) as id "
            f"from outbox where state in {OPEN_SQL} group by destination) h join outbox o on o.id = h.id "
            f"where o.state = 'failed' and o.next_attempt_at > ?", [now])}

    def head(self, destination: str) -> OutboxRow | None:
        """The first open row of one destination (the only one of it that may be attempted)."""
        rows = self._query(f"select * from outbox where destination = ? and state in {OPEN_SQL} "
                           f"order by id limit 1", [destination])
        return OutboxRow.from_row(rows[0]) if rows else None

    def next_due(self) -> float | None:
        rows = list(self._query(
            f"select min(o.next_attempt_at) as t from outbox o join (select destination, min(id) as id "
            f"from outbox where state in {OPEN_SQL} group by destination) h on o.id = h.id "
            f"left join dest_state d on d.name = o.destination where d.paused_reason is null"))
        return rows[0]["t"] if rows else None

    def mark_sending(self, ids: Sequence[int], now: float) -> None:
        with self.db.atomic():
            self.db.conn.executemany("update outbox set state = 'sending', updated_at = ? where id = ?",
                                     [(now, i) for i in ids])

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction (nested ones become savepoints) for several outbox changes.

        Taken as a write transaction up front, as `Store.transaction` is: a deferred one that read
        first would fail at once ("database is locked") if another connection committed meanwhile.
        """
        with immediate(self.db.conn), self.db.atomic():
            yield

    def complete(self, outcomes: Sequence[Outcome]) -> None:
        """Record attempts in one transaction; a sent row also gets its follow-up recorded (see `followups`)."""
        with self.db.atomic():
            for o in outcomes:
                if o.state == "sent":
                    self.db.execute(
                        "update outbox set state = 'sent', attempts = attempts + 1, sent = ?, sent_at = ?, "
                        "error = null, updated_at = ? where id = ?",
                        [json.dumps(o.sent.to_json()) if o.sent else None, o.at, o.at, o.row_id])
                    self.db.execute("insert or ignore into outbox_followups (row_id) values (?)", [o.row_id])
                else:
                    self.db.execute(
                        "update outbox set state = ?, attempts = attempts + ?, error = ?, "
                        "next_attempt_at = coalesce(?, next_attempt_at), updated_at = ? where id = ?",
                        [o.state, 0 if o.state == "pending" else 1, o.error, o.next_attempt_at, o.at,
                         o.row_id])

    def followups(self) -> list[OutboxRow]:
        """Sent rows whose follow-up is still to do, oldest first (they survive a crash: the next pass does them)."""
        return [OutboxRow.from_row(r) for r in self._query(
            "select o.* from outbox_followups f join outbox o on o.id = f.row_id order by f.row_id")]

    def followed_up(self, row_id: int) -> None:
        self.db.execute("delete from outbox_followups where row_id = ?", [row_id])

    def last_deliveries(self) -> dict[str, float]:
        return {row["destination"]: row["t"] for row in self._query(
            "select destination, max(sent_at) as t from outbox where state = 'sent' group by destination")}

    def requeue(self, destination: str, now: float) -> int:
        """Make every waiting row of a destination due now: dead ones, failed ones waiting for a
        retry, and pending ones parked in the future; attempts start again from zero."""
        with self.db.atomic():
            before = self.db.conn.total_changes
            self.db.execute(
                "update outbox set state = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? "
                "where destination = ? and (state in ('dead', 'failed') "
                "or (state = 'pending' and next_attempt_at > ?))", [now, now, destination, now])
            return self.db.conn.total_changes - before

    def waiting(self) -> dict[str, list[dict[str, Any]]]:
        """Rows that failed and wait for their next attempt, per destination (for `status`)."""
        waiting: dict[str, list[dict[str, Any]]] = {}
        for row in self._query("select destination, entry_id, unit, part, attempts, next_attempt_at, error "
                               "from outbox where state = 'failed' order by destination, id"):
            waiting.setdefault(row.pop("destination"), []).append(row)
        return waiting

    def counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for row in self._query("select destination, state, count(*) as n from outbox group by 1, 2"):
            counts.setdefault(row["destination"], {})[row["state"]] = row["n"]
        return counts

    def sent_posts(self, destination: str, limit: int, offset: int = 0) -> tuple[list[SentPost], int]:
        """Delivered posts to one destination, newest first, one per post (its parts together); and how many in all."""
        group = "from outbox where destination = ? and state = 'sent' group by entry_id, unit, revision, op"
        total = self._query(f"select count(*) as n from (select 1 {group})", [destination])[0]["n"]
        rows = self._query(
            "select g.*, o.sent from (select entry_id, unit, op, count(*) as parts, max(sent_at) as sent_at, "
            f"min(id) as first {group}) g join outbox o on o.id = g.first "
            "order by g.sent_at desc, g.first desc limit ? offset ?", [destination, limit, offset])
        return [SentPost(r["entry_id"], r["unit"], r["op"], r["parts"], r["sent_at"],
                         Sent.from_json(json.loads(r["sent"])) if r["sent"] else None) for r in rows], int(total)

    def rows(self, destination: str | None = None) -> list[OutboxRow]:
        """Every row in queue order (status, tests)."""
        if destination is None:
            return [OutboxRow.from_row(r) for r in self._query("select * from outbox order by id")]
        return [OutboxRow.from_row(r) for r in self._query(
            "select * from outbox where destination = ? order by id", [destination])]


def _dest(row: dict[str, Any]) -> DestState:
    return DestState(
        name=row["name"], fingerprint=row["fingerprint"], paused_reason=row["paused_reason"],
        paused_at=row["paused_at"], last_tick_at=row["last_tick_at"],
        created_at=row["created_at"], removed=bool(row["removed"]),
        chat_override=row.get("chat_override"),
    )
