"""SQLite storage of feeds, issues, sections and items (the engine's only SQL).

Issues are upserted by feed entry id, so re-reading a feed is idempotent; a changed
entry is compared section by section (content hash) and recorded as a new
revision, which is what lets the scheduler re-send only what changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import orjson
import sqlite_utils

from bot.contract.destination import Destination, Unrunnable, destination_from_json, destination_to_json
from bot.contract.schedule import ScheduleError
from bot.core.i18n import plural_en
from bot.core.models import Block, Issue, IssueRef, Item, Section, SectionRef
from bot.splitting.sections import normalize
from bot.storage.fault import check_storage_path, holds_nothing, storage_error

__all__ = ["FeedState", "HeldIssue", "SaveResult", "Store", "StoredHit", "link_key", "scoped_id"]

log = logging.getLogger(__name__)

_SCHEMA_VERSION = 1
_FTS_TOKENIZE = "unicode61 remove_diacritics 2"
_SEARCH_WINDOW = 4_000  # newest items a substring search looks through first (see Store.search_substring)
_SEARCH_DEPTH = 400  # newest matches a full-text search ranks (see Store.search)


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What saving one issue edition changed; the scheduler acts on it."""

    entry_id: str
    status: Literal["new", "changed", "unchanged"]
    revision: int
    changed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    held: str | None = None  # why the edition is stored but not delivered (too large), if it is


@dataclass(frozen=True, slots=True)
class FeedState:
    """HTTP cache validators and health of one feed, remembered between polls."""

    name: str
    url: str = ""
    etag: str | None = None
    last_modified: str | None = None
    last_polled: str | None = None
    last_ok: str | None = None
    last_error: str | None = None
    error_count: int = 0
    entries: int | None = None  # entries in the feed at its last full read (None: never read)
    skipped: dict[str, int] = field(default_factory=dict)  # of those, the ones that are not issues, by reason
    not_modified: bool = False  # the last poll was answered "304 Not Modified" (the counts are the read before)


@dataclass(frozen=True, slots=True)
class HeldIssue:
    """An edition stored but not delivered, and why (see `Store.save_issues`)."""

    entry_id: str
    feed: str
    title: str
    reason: str


@dataclass(frozen=True, slots=True)
class StoredHit:
    """One search match, as the query engine needs it."""

    entry_id: str
    section_position: int
    item_position: int
    title: str
    text: str
    url: str | None
    rank: float


#: Section keys (changed, added, removed) between two revisions of an edition.
_Changes = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _iso(value: datetime | None) -> str | None:
    """UTC ISO text, so that SQL orders dates from any time zone correctly ("newest first")."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat()


def _parse_dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _connect(path: str) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=30, check_same_thread=False)


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """A write transaction taken up front (BEGIN IMMEDIATE), so the busy timeout applies.

    A deferred transaction that reads, then writes after another process wrote, fails at once
    with "database is locked" whatever the timeout; schema set-up does exactly that.
    Inside an open transaction this adds nothing.
    """
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    if conn.in_transaction:
        conn.commit()


def _create_private(path: str) -> bool:
    """Create the database file 0600 if it does not exist yet (never loosens an existing one); True if created."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
    except FileExistsError:
        return False
    return True


def _remove_if_empty(path: str) -> None:
    """Undo a database file we created when opening it failed before anything was stored (a full disk):
    an empty file left behind would later read as a database without tables."""
    with contextlib.suppress(OSError):
        if holds_nothing(path):
            os.unlink(path)
            for suffix in ("-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path + suffix)


def _read_only_copy(path: str) -> sqlite3.Connection:
    """The database read without writing to its disk: copied into memory (SQLite's backup API, WAL
    included), where missing tables can be created and nothing is ever written back."""
    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    try:
        return _copy(uri)
    except sqlite3.OperationalError:
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise  # its last writes are in the WAL: only a normal open may read them
        # cleanly closed, and no room for SQLite's -shm file: nothing can change it, read it as is
        return _copy(f"{uri}&immutable=1")


def _copy(uri: str) -> sqlite3.Connection:
    source = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        memory = sqlite3.connect(":memory:", check_same_thread=False)
        source.backup(memory)
    finally:
        source.close()
    return memory


class Store:
    """The engine's SQLite database (sqlite-utils); `:memory:` works for tests.

    The scheduler keeps its own tables (outbox, destination state) in the same
    database through `db`, so a delivery and its bookkeeping share one file.
    """

    def __init__(self, path: str | Path, *, connect: Callable[[str], sqlite3.Connection] | None = None,
                 read_only: bool = False) -> None:
        """Open (or create) the database; any failure is one `StorageError` naming the path and cause.

        A new database file is created 0600 before SQLite opens it (SQLite gives its WAL and
        SHM files the same mode): it holds chats and subscriptions, nobody else needs to read it.
        `read_only` reads an existing file without writing anything to it (`status` on a full disk): a
        copy in memory, so a file without every table (an `ingest`-only database) still answers.
        A database file this call created is removed again when opening it fails.
        `connect` is the storage seam: tests pass a factory whose connection fails writes the way a
        full disk does; by default it is `sqlite3.connect` with a 30 s busy timeout, so a second
        process waits for a write in progress instead of failing with "database is locked".
        """
        self.path = str(path)
        self._connect = connect
        self._names: dict[tuple[str | None, tuple[str, ...]], tuple[str, tuple[Section, ...]]] = {}  # section_names
        created = False
        try:
            if self.path == ":memory:":
                # Not bound to one thread: the ingest worker thread writes through it (one at a time).
                self.db = sqlite_utils.Database(sqlite3.connect(":memory:", check_same_thread=False))
            else:
                check_storage_path(self.path)
                if read_only:
                    conn = _read_only_copy(self.path)
                else:
                    created = _create_private(self.path)
                    conn = (connect or _connect)(self.path)
                self.db = sqlite_utils.Database(conn)
                if not read_only:
                    self.db.execute("PRAGMA journal_mode=WAL")
                    self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.execute("PRAGMA cache_size=-32768")  # 32 MiB: a large poll fits in one transaction
            self.db.execute("PRAGMA foreign_keys=ON")
            with immediate(self.db.conn):  # waits its turn: two processes may open a new file at once
                self._create_tables()
        except (sqlite3.Error, OSError) as exc:
            if created:
                with contextlib.suppress(Exception):
                    self.db.conn.close()
                _remove_if_empty(self.path)
            raise storage_error(self.path, exc) from exc

    def reopen(self) -> Store:
        """Another connection to the same database (through the same seam), for a worker thread:
        SQLite transactions belong to a connection, so the worker's never mixes with the loop's."""
        return Store(self.path, connect=self._connect)

    # ------------------------------------------------------------------ schema
    def _create_tables(self) -> None:
        db = self.db
        with self.transaction():
            db.table("feeds").create(
                {"name": str, "url": str, "etag": str, "last_modified": str, "last_polled": str,
                 "last_ok": str, "last_error": str, "error_count": int, "entries": int, "skipped": str,
                 "not_modified": int},
                pk="name", if_not_exists=True)
            db.table("issues").create(
                {"entry_id": str, "feed": str, "link": str, "title": str, "published": str,
                 "updated": str, "language": str, "number": int, "content_hash": str, "revision": int,
                 "preamble": str, "is_newsletter": int, "first_seen": str, "last_changed": str,
                 "link_key": str, "held": str, "newsletter": str},
                pk="entry_id", if_not_exists=True)
            if "newsletter" not in db.table("issues").columns_dict:  # databases from before names were kept
                db.table("issues").add_column("newsletter", str)
            self._add_missing_columns()
            db.table("entry_aliases").create({"alias": str, "entry_id": str}, pk="alias", if_not_exists=True)
            db.table("sections").create(
                {"entry_id": str, "position": int, "key": str, "heading": str, "title": str,
                 "emoji": str, "content_hash": str, "revision": int},
                pk=("entry_id", "position"), if_not_exists=True,
                foreign_keys=[("entry_id", "issues", "entry_id")])
            db.table("items").create(
                {"id": int, "entry_id": str, "section_position": int, "position": int, "title": str,
                 "text": str, "url": str, "data": str, "language": str},
                pk="id", if_not_exists=True)
            if "language" not in db.table("items").columns_dict:  # before searches filtered in the index
                db.execute("alter table items add column language text")
                db.execute("update items set language = (select language from issues"
                           " where issues.entry_id = items.entry_id)")
            db.table("section_revisions").create(
                {"entry_id": str, "key": str, "revision": int, "content_hash": str, "change": str,
                 "at": str},
                pk=("entry_id", "key", "revision"), if_not_exists=True)
            db.table("chats").create({"platform": str, "chat": str, "language": str, "updated": str},
                               pk=("platform", "chat"), if_not_exists=True)
            db.table("subscriptions").create({"name": str, "platform": str, "destination": str, "created": str,
                                              "chat": str, "subscribed_by": str, "version": int},
                                             pk="name", if_not_exists=True)
            self._add_subscription_columns()
            db.table("meta").create({"key": str, "value": str}, pk="key", if_not_exists=True)
            db.table("meta").upsert({"key": "schema_version", "value": str(_SCHEMA_VERSION)}, pk="key")
            db.table("meta").insert({"key": "subscriptions_version", "value": "0"}, pk="key", ignore=True)
            db.table("meta").insert({"key": "archive_version", "value": "0"}, pk="key", ignore=True)
            db.table("issues").create_index(["language", "published"], if_not_exists=True)
            db.table("issues").create_index(["published"], if_not_exists=True)  # newest first, any language
            db.table("issues").create_index(["number"], if_not_exists=True)
            db.table("issues").create_index(["link_key"], if_not_exists=True)
            db.table("items").create_index(["entry_id", "section_position", "position"], if_not_exists=True)
            db.table("subscriptions").create_index(["platform", "chat"], if_not_exists=True)
            db.table("subscriptions").create_index(["subscribed_by"], if_not_exists=True)
            db.table("subscriptions").create_index(["version"], if_not_exists=True)
        fts = db.table("items_fts")
        if fts.exists() and "language" not in fts.columns_dict:  # an index from before: rebuilt with languages
            with self.transaction():
                db.execute("drop table items_fts")
        if not fts.exists():
            # No triggers: the index is fed one statement per batch (_save_batch), which is
            # several times faster than a trigger firing per row. The edition's language is
            # indexed too, so a search in one language is one index lookup, not a join per match.
            with self.transaction():
                db.table("items").enable_fts(["title", "text", "language"], create_triggers=False,
                                             tokenize=_FTS_TOKENIZE)
                db.execute("insert into items_fts (items_fts) values ('rebuild')")

    def _add_missing_columns(self) -> None:
        """Columns added since the first release, added to an older database in place."""
        feed_columns = {c.name for c in self.db.table("feeds").columns}
        for name, kind in (("entries", "integer"), ("skipped", "text"), ("not_modified", "integer")):
            if name not in feed_columns:
                self.db.execute(f"alter table feeds add column {name} {kind}")
        columns = {c.name for c in self.db.table("issues").columns}
        if "link_key" not in columns:
            self.db.execute("alter table issues add column link_key text")
            for row in list(self.db.query("select entry_id, link from issues")):
                self.db.execute("update issues set link_key = ? where entry_id = ?",
                                [link_key(row["link"] or ""), row["entry_id"]])
        if "held" not in columns:
            self.db.execute("alter table issues add column held text")

    def _add_subscription_columns(self) -> None:
        """`chat` and `subscribed_by` as columns (indexed), so that a `/subscribe` reads one row and two
        counts instead of every subscription, and `version` (the `subscriptions_version` that last
        wrote the row), so that the running service picks up what changed without reading the rest.
        Filled from the stored JSON in an older database."""
        columns = {c.name for c in self.db.table("subscriptions").columns}
        for column, kind in (("chat", "text"), ("subscribed_by", "text"), ("version", "integer")):
            if column not in columns:
                self.db.execute(f"alter table subscriptions add column {column} {kind} not null default 0"
                                if kind == "integer" else f"alter table subscriptions add column {column} {kind}")
        if columns >= {"chat", "subscribed_by"}:
            return
        self.db.execute("update subscriptions set chat = json_extract(destination, '$.chat'), "
                        "subscribed_by = json_extract(destination, '$.options.subscribed_by')")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of work: all of it is stored, or none of it (nests as savepoints).

        Taken as a write transaction up front: a deferred one that read first would fail at once
        ("database is locked", no busy wait) if another connection committed before its first write.
        """
        with immediate(self.db.conn), self.db.atomic():
            yield

    def close(self) -> None:
        self.db.conn.close()

    # ------------------------------------------------------------------ feeds
    def feed_state(self, name: str) -> FeedState:
        rows = list(self.db.query("select * from feeds where name = ?", [name]))
        if not rows:
            return FeedState(name=name)
        row = rows[0]
        return FeedState(
            name=row["name"], url=row["url"] or "", etag=row["etag"], last_modified=row["last_modified"],
            last_polled=row["last_polled"], last_ok=row["last_ok"], last_error=row["last_error"],
            error_count=row["error_count"] or 0, entries=row["entries"],
            skipped=json.loads(row["skipped"]) if row["skipped"] else {}, not_modified=bool(row["not_modified"]),
        )

    def feed_states(self) -> list[FeedState]:
        return [self.feed_state(row["name"]) for row in self.db.query("select name from feeds order by name")]

    def record_feed_success(self, name: str, url: str, *, etag: str | None, last_modified: str | None,
                            warning: str | None = None, entries: int | None = None,
                            skipped: dict[str, int] | None = None) -> None:
        """A poll whose issues are stored; `warning` (shown as the last error) when part of it was not.

        `entries` and `skipped` (entries that are not issues, by reason) are what `ingest` and
        `status` report, so "0 issues" is never mistaken for "nothing new".
        """
        now = _now()
        self.db.table("feeds").upsert(
            {"name": name, "url": url, "etag": etag, "last_modified": last_modified, "last_polled": now,
             "last_ok": now, "last_error": warning, "error_count": 0, "entries": entries,
             "skipped": json.dumps(skipped or {}, ensure_ascii=False), "not_modified": 0}, pk="name")

    def record_feed_not_modified(self, name: str, url: str) -> None:
        now = _now()
        self.db.table("feeds").upsert({"name": name, "url": url, "last_polled": now, "last_ok": now,
                                 "last_error": None, "error_count": 0, "not_modified": 1}, pk="name")

    def record_feed_error(self, name: str, url: str, error: str) -> None:
        previous = self.feed_state(name)
        self.db.table("feeds").upsert({"name": name, "url": url, "last_polled": _now(), "last_error": error,
                                 "error_count": previous.error_count + 1}, pk="name")

    # ------------------------------------------------------------------ issues
    def save_issue(self, issue: Issue) -> SaveResult:
        """Insert or update one edition; returns what changed, section by section."""
        return self.save_issues([issue])[0]

    def save_issues(self, issues: Iterable[Issue], *, held: Callable[[Issue], str | None] | None = None,
                    feeds: Collection[str] = ()) -> list[SaveResult]:
        """Save several editions in one transaction (a whole feed poll is atomic).

        Each issue is first matched to its stored identity (`_resolve`): an entry whose
        id changed is still the issue it was. `held(issue)` names why an issue must be
        stored but not delivered (too large), or None.

        The search index is fed once for the whole batch: one FTS5 insert per issue
        makes SQLite merge index segments over and over as the batch grows. Should the
        index ever disagree with the items ("database disk image is malformed"), it is
        rebuilt from the items and the batch saved again, so a feed is never stuck.

        Identity is per feed: an entry whose id another feed's issue already has is a different
        issue, stored under `<feed>:<id>`. `feeds` names the configured feeds: an issue stored
        by a feed no longer among them (a renamed feed) is taken over rather than duplicated.
        """
        batch = list(issues)
        try:
            return self._save_batch(batch, held, feeds)
        except sqlite3.DatabaseError as exc:
            if "malformed" not in str(exc):
                raise
            log.warning("search index out of step with the stored items (%s); rebuilding it", exc)
            with self.transaction():
                self.db.execute("insert into items_fts (items_fts) values ('rebuild')")
            return self._save_batch(batch, held, feeds)

    def _save_batch(self, batch: list[Issue], held: Callable[[Issue], str | None] | None,
                    feeds: Collection[str]) -> list[SaveResult]:
        with self.transaction():
            unindexed: set[str] = set()  # stored in this batch, not in the search index yet
            results = [self._save_issue(issue, held(issue) if held else None, unindexed)
                       for issue in self._resolve(batch, feeds)]
            stored = [r.entry_id for r in results if r.status != "unchanged"]
            if results:  # editions stored, changed, held or released: what `section_names` caches may differ
                self.db.execute("update meta set value = cast(value as integer) + 1 where key = 'archive_version'")
            for start in range(0, len(stored), 500):
                chunk = stored[start:start + 500]
                self.db.execute(
                    "insert into items_fts (rowid, title, text, language) select id, title, text, language from items"
                    f" where entry_id in ({', '.join('?' * len(chunk))})", chunk)
            return results

    # ------------------------------------------------------------------ identity
    def _resolve(self, issues: list[Issue], feeds: Collection[str] = ()) -> list[Issue]:
        """Each issue under its stored identity; of several with one identity, the last wins.

        Identity is per feed (`_own_ids`): an id stored by another live feed is not this entry's.
        An entry is the stored issue with its id, or with an id it had before (an alias).
        An entry with an unknown id is matched to a stored issue by its link (scheme, `www.`
        and trailing slash aside), else by language + issue number, when exactly one stored
        issue fits, that issue is not claimed by another entry of the fetch, and the link or
        number is unique within the fetch: a site move, `http`→`https` or a new id scheme
        then updates the issues instead of publishing the archive again.
        """
        issues = self._own_ids(issues, feeds)
        ids = list({issue.entry_id for issue in issues})
        stored = {row["entry_id"] for row in self._rows_in("select entry_id from issues where entry_id in ({})", ids)}
        feed = issues[0].feed if issues else ""
        aliases = {row["alias"]: row["entry_id"]  # an alias points at one of this feed's issues only
                   for row in self._rows_in("select a.alias, a.entry_id from entry_aliases a join issues i on"
                                            " i.entry_id = a.entry_id where a.alias in ({}) and"
                                            " (? = '' or coalesce(i.feed, '') in ('', ?))", ids, (feed, feed))}
        canonical: dict[int, str] = {}
        for n, issue in enumerate(issues):
            found = issue.entry_id if issue.entry_id in stored else aliases.get(issue.entry_id)
            if found is not None:
                canonical[n] = found
        pending = [n for n in range(len(issues)) if n not in canonical]
        if pending:
            self._match(issues, pending, canonical)
        latest: dict[str, Issue] = {}
        repeated: list[str] = []
        for n, issue in enumerate(issues):
            entry_id = canonical.get(n, issue.entry_id)
            if entry_id in latest:
                repeated.append(entry_id)
                del latest[entry_id]  # the last occurrence wins, at its own place in the order
            latest[entry_id] = issue if entry_id == issue.entry_id else replace(issue, entry_id=entry_id)
        if repeated:
            log.warning("feed %s: %s repeating an id already in the same fetch (e.g. %r); kept the last of each",
                        issues[0].feed, plural_en(len(repeated), "entry", "entries"), repeated[0])
        return list(latest.values())

    def _match(self, issues: list[Issue], pending: list[int], canonical: dict[int, str]) -> None:
        """Find stored issues for entries whose id is unknown (see `_resolve`)."""
        taken = set(canonical.values())
        candidates = self._candidates(issues, pending)
        for n in pending:
            issue = issues[n]
            match = candidates.find(issue, taken)
            if match is None:
                continue
            found, how = match
            canonical[n] = found
            taken.add(found)
            self.db.execute("insert or replace into entry_aliases (alias, entry_id) values (?, ?)",
                            [issue.entry_id, found])
            log.info("feed %s: entry %r is stored issue %r (same %s): updated, not new",
                     issue.feed, issue.entry_id, found, how)

    def _candidates(self, issues: list[Issue], pending: list[int]) -> _Candidates:
        """The stored issues of this feed that the pending entries' links or (language, number) name."""
        links = Counter(link_key(issues[n].link) for n in pending)
        numbers = Counter((issues[n].language, issues[n].number) for n in pending if issues[n].number is not None)
        by_link: dict[str, list[dict[str, Any]]] = {}
        feed = (issues[pending[0]].feed,) * 2 if pending else ("", "")
        same_feed = " and (? = '' or coalesce(feed, '') in ('', ?))"  # another feed's issue is never this one
        for row in self._rows_in("select entry_id, link_key, language, number from issues where link_key in ({})"
                                 + same_feed, [k for k, count in links.items() if k and count == 1], feed):
            by_link.setdefault(row["link_key"], []).append(row)
        by_number: dict[tuple[str, int], list[str]] = {}
        for row in self._rows_in("select entry_id, language, number from issues where is_newsletter = 1"
                                 " and number in ({})" + same_feed, list({number for _, number in numbers}), feed):
            by_number.setdefault((row["language"], row["number"]), []).append(row["entry_id"])
        return _Candidates(links, numbers, by_link, by_number)

    def _rows_in(self, sql: str, values: list[Any], after: tuple[Any, ...] = ()) -> Iterator[dict[str, Any]]:
        """`sql` with its `in ({})` filled with `values`, 500 at a time (SQLite's variable limit);
        `after` are the parameters of the `?` that follow the `in (…)`."""
        for start in range(0, len(values), 500):
            chunk = values[start:start + 500]
            yield from self.db.query(sql.format(", ".join("?" * len(chunk))), [*chunk, *after])

    def _own_ids(self, issues: list[Issue], feeds: Collection[str]) -> list[Issue]:
        """Entries whose id another feed's issue already holds, under `<feed>:<id>` (identity is per feed).

        The same `<guid>` in two feeds is two issues. The first feed to store an id keeps it
        as is (so every existing database stays valid); the other feed's entry is stored under
        its feed's name. An issue of a feed that is no longer configured (`feeds`, when given)
        or stored before feeds were recorded belongs to whoever polls it now.
        """
        owners = {row["entry_id"]: row["feed"] or "" for row in self._rows_in(
            "select entry_id, feed from issues where entry_id in ({})", list({i.entry_id for i in issues}))}
        result = []
        for issue in issues:
            owner = owners.get(issue.entry_id)
            foreign = bool(issue.feed) and owner not in (None, "", issue.feed) and (not feeds or owner in feeds)
            result.append(replace(issue, entry_id=scoped_id(issue.feed, issue.entry_id)) if foreign else issue)
        return result

    def _save_issue(self, issue: Issue, held: str | None, unindexed: set[str]) -> SaveResult:
        """Insert a new edition, or store a new revision of one whose content changed."""
        row = self._stored_row(issue)
        item_json = [[orjson.dumps(item.to_json()).decode("utf-8") for item in section.items]
                     for section in issue.sections]  # serialised once: stored, and hashed
        section_hashes = [_section_hash(section.heading, items) for section, items in zip(issue.sections, item_json,
                                                                                         strict=True)]
        new_hashes = _keyed_hashes(issue.sections, section_hashes)
        issue_hash = _issue_hash(issue.title, section_hashes)
        status: Literal["new", "changed"]
        if row is None:
            changes: _Changes = ((), tuple(new_hashes), ())
            revision, status, first_seen = 1, "new", _now()
        else:
            found = self._changes(issue, row, issue_hash, new_hashes, held)
            if found is None:
                return SaveResult(issue.entry_id, "unchanged", row["revision"], held=held)
            changes = found
            revision, status, first_seen = row["revision"] + 1, "changed", None
            self._delete_content(issue.entry_id, indexed=issue.entry_id not in unindexed)
        self._upsert_issue(issue, issue_hash, revision, held, first_seen)
        self._insert_content(issue, revision, section_hashes, item_json)
        unindexed.add(issue.entry_id)
        self._record_revisions(issue.entry_id, revision, new_hashes, changes)
        changed, added, removed = changes
        return SaveResult(issue.entry_id, status, revision, changed, added, removed, held=held)

    def _stored_row(self, issue: Issue) -> dict[str, Any] | None:
        """The stored edition's row (relabelled when its newsletter or feed was renamed in config), or None."""
        existing = list(self.db.query(
            "select revision, content_hash, number, link, held, newsletter, feed from issues where entry_id = ?",
            [issue.entry_id]))
        if not existing:
            return None
        row = existing[0]
        if (row["newsletter"], row["feed"]) != (issue.newsletter, issue.feed):
            self.db.table("issues").update(issue.entry_id, {"newsletter": issue.newsletter, "feed": issue.feed})
        return row

    def _changes(self, issue: Issue, row: dict[str, Any], issue_hash: str, new_hashes: dict[str, str],
                 held: str | None) -> _Changes | None:
        """Sections changed, added and removed since the stored revision; None when the content is the
        same (then a new link, size hold or number is updated in place, without a revision)."""
        same_number = row["number"] == issue.number or issue.number is None
        if row["content_hash"] == issue_hash and same_number:
            if (row["link"], row["held"]) != (issue.link, held):  # moved, or a size limit changed
                self.db.table("issues").update(
                    issue.entry_id, {"link": issue.link, "link_key": link_key(issue.link), "held": held})
            return None
        old_hashes = {
            r["key"]: r["content_hash"]
            for r in self.db.query("select key, content_hash from sections where entry_id = ?", [issue.entry_id])
        }
        changed = tuple(k for k, h in new_hashes.items() if k in old_hashes and old_hashes[k] != h)
        added = tuple(k for k in new_hashes if k not in old_hashes)
        removed = tuple(k for k in old_hashes if k not in new_hashes)
        if not (changed or added or removed) and row["content_hash"] == issue_hash:
            self.db.table("issues").update(issue.entry_id, {"number": issue.number, "held": held})
            return None
        return changed, added, removed

    def _upsert_issue(self, issue: Issue, issue_hash: str, revision: int, held: str | None,
                      first_seen: str | None) -> None:
        record: dict[str, Any] = {
            "entry_id": issue.entry_id, "feed": issue.feed, "link": issue.link, "title": issue.title,
            "published": _iso(issue.published), "updated": _iso(issue.updated), "language": issue.language,
            "number": issue.number, "content_hash": issue_hash, "revision": revision,
            "preamble": json.dumps([b.to_json() for b in issue.preamble], ensure_ascii=False),
            "is_newsletter": int(issue.is_newsletter), "last_changed": _now(), "newsletter": issue.newsletter,
            "link_key": link_key(issue.link), "held": held,
        }
        if first_seen:
            record["first_seen"] = first_seen
        columns = ", ".join(record)
        updates = ", ".join(f"{column} = excluded.{column}" for column in record if column != "entry_id")
        self.db.execute(f"insert into issues ({columns}) values ({', '.join('?' * len(record))})"
                        f" on conflict (entry_id) do update set {updates}", list(record.values()))

    def _record_revisions(self, entry_id: str, revision: int, new_hashes: dict[str, str], changes: _Changes) -> None:
        """One `section_revisions` row per section added, changed or removed by this revision."""
        changed, added, removed = changes
        now = _now()
        self.db.conn.executemany(
            "insert or replace into section_revisions (entry_id, key, revision, content_hash, change, at)"
            " values (?, ?, ?, ?, ?, ?)",
            [(entry_id, key, revision, new_hashes.get(key, ""), change, now)
             for change, keys in (("added", added), ("changed", changed), ("removed", removed)) for key in keys])

    def _delete_content(self, entry_id: str, *, indexed: bool = True) -> None:
        """Drop an edition's sections and items; `indexed=False` for items the search index never saw
        (an FTS5 'delete' of a row it does not hold corrupts the index)."""
        if indexed:
            self.db.execute(
                "insert into items_fts (items_fts, rowid, title, text, language)"
                " select 'delete', id, title, text, language from items where entry_id = ?", [entry_id])
        self.db.execute("delete from items where entry_id = ?", [entry_id])
        self.db.execute("delete from sections where entry_id = ?", [entry_id])

    def _insert_content(self, issue: Issue, revision: int, section_hashes: list[str],
                        item_json: list[list[str]]) -> None:
        conn = self.db.conn
        conn.executemany(
            "insert into sections (entry_id, position, key, heading, title, emoji, content_hash, revision)"
            " values (?, ?, ?, ?, ?, ?, ?, ?)",
            [(issue.entry_id, s.position, s.key, s.heading, s.title, s.emoji, digest, revision)
             for s, digest in zip(issue.sections, section_hashes, strict=True)])
        conn.executemany(
            "insert into items (entry_id, section_position, position, title, text, url, data, language)"
            " values (?, ?, ?, ?, ?, ?, ?, ?)",
            [(issue.entry_id, s.position, i, item.title, item.text, item.url, data, issue.language)
             for s, datas in zip(issue.sections, item_json, strict=True)
             for i, (item, data) in enumerate(zip(s.items, datas, strict=True))])

    def held_issues(self, feed: str | None = None) -> list[HeldIssue]:
        """Editions stored but not delivered (over a size limit), newest first."""
        sql, params = "select entry_id, feed, title, held from issues where held is not null", []
        if feed is not None:
            sql, params = sql + " and feed = ?", [feed]
        return [HeldIssue(row["entry_id"], row["feed"] or "", row["title"] or "", row["held"])
                for row in self.db.query(sql + " order by published desc", params)]

    def get_issue(self, entry_id: str) -> Issue | None:
        return self._issue(entry_id, "select * from items where entry_id = ? order by section_position, position",
                           [entry_id])

    def issue_window(self, entry_id: str, *, section: int | None = None, start: int = 0, per_section: int = 40,
                     limit: int = 200) -> tuple[Issue, dict[int, int]] | None:
        """An edition holding a bounded window of its items, and each section's real item count.

        Without `section`: the first `per_section` items of each section, `limit` in all (in
        order). With it: only that section, its items from `start`, `limit` at most. What a page
        about an issue of 100,000 items reads, so it never loads them all.
        """
        counts = {int(r[0]): int(r[1]) for r in self.db.conn.execute(
            "select section_position, count(*) from items where entry_id = ? group by section_position", [entry_id])}
        if section is None:
            issue = self._issue(entry_id, "select * from items where entry_id = ? and position < ?"
                                " order by section_position, position limit ?", [entry_id, per_section, limit])
        else:
            issue = self._issue(entry_id, "select * from items where entry_id = ? and section_position = ?"
                                " and position >= ? order by position limit ?", [entry_id, section, start, limit],
                                only=section)
        return (issue, counts) if issue is not None else None

    def _issue(self, entry_id: str, items_sql: str, params: list[Any], only: int | None = None) -> Issue | None:
        rows = list(self.db.query("select * from issues where entry_id = ?", [entry_id]))
        if not rows:
            return None
        row = rows[0]
        items_by_section: dict[int, list[Item]] = {}
        for item in self.db.query(items_sql, params):
            items_by_section.setdefault(item["section_position"], []).append(Item.from_json(orjson.loads(item["data"])))
        sections = tuple(
            Section(key=s["key"], heading=s["heading"], title=s["title"], emoji=s["emoji"],
                    position=s["position"], items=tuple(items_by_section.get(s["position"], ())))
            for s in self.db.query("select * from sections where entry_id = ? order by position", [entry_id])
            if only is None or s["position"] == only
        )
        return Issue(
            entry_id=row["entry_id"], link=row["link"], title=row["title"],
            published=_parse_dt(row["published"]), updated=_parse_dt(row["updated"]),
            language=row["language"], number=row["number"], sections=sections,
            preamble=tuple(Block.from_json(b) for b in json.loads(row["preamble"] or "[]")),
            feed=row["feed"] or "", is_newsletter=bool(row["is_newsletter"]), newsletter=row["newsletter"] or "",
        )

    def outline(self, entry_id: str) -> tuple[IssueRef, list[SectionRef]] | None:
        """An edition's name and section list without its items: what a search hit needs to show."""
        rows = list(self.db.query(
            "select entry_id, link, title, language, number, published, newsletter from issues where entry_id = ?",
            [entry_id]))
        if not rows:
            return None
        sections = [
            SectionRef(key=s["key"], heading=s["heading"], emoji=s["emoji"], position=s["position"],
                       item_count=s["items"])
            for s in self.db.query(
                "select s.key, s.heading, s.emoji, s.position, (select count(*) from items i where i.entry_id ="
                " s.entry_id and i.section_position = s.position) as items from sections s where s.entry_id = ?"
                " order by s.position", [entry_id])
        ]
        return _ref(rows[0]), sections

    def rowid_for_entry(self, entry_id: str) -> int:
        """A short, stable number for an edition (fits in a 64-byte button payload)."""
        rows = list(self.db.query("select rowid from issues where entry_id = ?", [entry_id]))
        return int(rows[0]["rowid"]) if rows else 0

    def entry_for_rowid(self, rowid: int) -> str | None:
        rows = list(self.db.query("select entry_id from issues where rowid = ?", [rowid]))
        return str(rows[0]["entry_id"]) if rows else None

    def list_issues(self, lang: str | None = None, feed: str | None = None, limit: int = 50,
                    number: int | None = None, feeds: Collection[str] = ()) -> list[IssueRef]:
        """Newsletter editions, newest first (by date, then issue number)."""
        where, params = _visible("", lang, feeds)  # feeds: a chat's scope (see QueryEngine.feeds_for)
        if feed:
            where.append("feed = ?")
            params.append(feed)
        if number is not None:
            where.append("number = ?")
            params.append(number)
        sql = ("select entry_id, link, title, language, number, published, newsletter from issues"
               f" where {' and '.join(where)}"
               " order by published desc, coalesce(number, -1) desc, entry_id limit ?")
        params.append(max(1, min(limit, 10_000)))
        return [_ref(row) for row in self.db.query(sql, params)]

    def latest(self, lang: str | None = None, feeds: Collection[str] = ()) -> Issue | None:
        refs = self.list_issues(lang=lang, limit=1, feeds=feeds)
        return self.get_issue(refs[0].entry_id) if refs else None

    def editions(self, number: int, feeds: Collection[str] = ()) -> list[IssueRef]:
        return self.list_issues(number=number, limit=100, feeds=feeds)

    def newsletters(self) -> list[tuple[str, str]]:
        """(feed, newsletter name) of the stored issues, newest first: what a chat can name in a command."""
        rows = self.db.query("select feed, newsletter, max(published) as newest from issues where is_newsletter = 1"
                             " and held is null group by feed, newsletter order by newest desc")
        return [(row["feed"] or "", row["newsletter"] or "") for row in rows]

    def recent_sections(self, lang: str | None = None, limit: int = 30,
                        feeds: Collection[str] = ()) -> list[tuple[IssueRef, tuple[Section, ...]]]:
        """The newest editions (in `lang`) with their sections' names but no items, newest first.

        What answering from the whole archive needs ("the newest issue that has a Tools
        section", autocomplete over recent issues) without loading every item of each.
        """
        refs = self.list_issues(lang=lang, limit=limit, feeds=feeds)
        if not refs:
            return []
        marks = ", ".join("?" for _ in refs)
        by_entry: dict[str, list[Section]] = {}
        for s in self.db.query(
                f"select entry_id, key, heading, title, emoji, position from sections where entry_id in ({marks})"
                " order by entry_id, position", [ref.entry_id for ref in refs]):
            by_entry.setdefault(s["entry_id"], []).append(Section(
                key=s["key"], heading=s["heading"], title=s["title"], emoji=s["emoji"], position=s["position"],
                items=()))
        return [(ref, tuple(by_entry.get(ref.entry_id, ()))) for ref in refs]

    def _archive_version(self) -> str:
        """Bumped by every batch that stores, changes or holds editions, whichever connection saved it."""
        row = self.db.execute("select value from meta where key = 'archive_version'").fetchone()
        return str(row[0]) if row else ""

    def section_names(self, lang: str | None = None, feeds: Collection[str] = ()) -> tuple[Section, ...]:
        """Every distinct section name (key, heading, title, emoji) of the visible editions (in `lang`).

        What matching a section name against the whole archive needs: a few dozen names
        whatever the number of issues. Kept until a batch of editions is saved (by any connection), so a
        lookup costs one indexed read, not a scan of every issue's sections. `position` is the name's index here.
        """
        version = self._archive_version()
        cache_key = (lang, tuple(sorted(feeds)))
        cached = self._names.get(cache_key)
        if cached is not None and cached[0] == version:
            return cached[1]
        where, params = _visible("i", lang, feeds)
        rows = self.db.query(
            "select distinct s.key, s.heading, s.title, s.emoji from sections s"
            f" join issues i on i.entry_id = s.entry_id where {' and '.join(where)}"
            " order by s.key, s.heading, s.title, s.emoji",
            params)
        names = tuple(Section(key=row["key"], heading=row["heading"], title=row["title"], emoji=row["emoji"],
                              position=n, items=()) for n, row in enumerate(rows))
        self._names[cache_key] = (version, names)
        return names

    def newest_with_section(self, names: Iterable[Section], lang: str | None = None, *,
                            excluding: str = "", feeds: Collection[str] = ()) -> str | None:
        """The newest visible edition (in `lang`, of `feeds`, other than `excluding`) with a section of one
        of `names` (same key and heading), by the order `list_issues` uses; its entry id."""
        pairs = [(name.key, name.heading) for name in names]
        if not pairs:
            return None
        where, params = _visible("i", lang, feeds)
        where.append("i.entry_id != ?")
        params.append(excluding)
        match = " or ".join("(s.key = ? and s.heading = ?)" for _ in pairs)
        params.extend(value for pair in pairs for value in pair)
        rows = list(self.db.query(
            f"select i.entry_id from issues i where {' and '.join(where)} and exists (select 1 from sections s"
            f" where s.entry_id = i.entry_id and ({match}))"
            " order by i.published desc, coalesce(i.number, -1) desc, i.entry_id limit 1", params))
        return rows[0]["entry_id"] if rows else None

    # ------------------------------------------------------------------ search
    def search(self, fts_query: str, *, lang: str | None = None, limit: int = 10,
               feeds: Collection[str] = ()) -> list[StoredHit]:
        """Full-text search; `fts_query` must be built by the query engine, never raw user input.

        Among the newest `_SEARCH_DEPTH` matches (of `feeds`, when given), items whose title has every
        searched word come first, then the others, the most recently stored first within each. Why not
        bm25 over all matches: its word weights read every match of every word, which grows with the
        archive (a common word at 10,000 issues costs several times the whole rest of the answer); the
        newest matches are found by walking the index from its end with the language filtered in the
        index, so a search costs the same at 10,000 issues as at 1,000, and a newsletter's reader
        gets recent mentions first.
        """
        match = f"{{title text}} : ({fts_query})"
        if lang:
            match += ' AND language : "' + lang.replace('"', "") + '"'
        if feeds:  # the newest matches of these newsletters: still walked from the index's end
            newest_sql = ("select f.rowid from items_fts f join items it on it.id = f.rowid"
                          " join issues iss on iss.entry_id = it.entry_id where items_fts match ?"
                          f" and iss.feed in ({', '.join('?' * len(feeds))}) order by f.rowid desc limit ?")
            newest_params: list[Any] = [match, *feeds, _SEARCH_DEPTH]
        else:
            newest_sql = "select rowid from items_fts where items_fts match ? order by rowid desc limit ?"
            newest_params = [match, _SEARCH_DEPTH]
        try:
            newest = [row[0] for row in self.db.execute(newest_sql, newest_params)]
        except sqlite3.OperationalError as exc:
            log.warning("search query %r failed: %s", fts_query, exc)
            return []
        if not newest:
            return []
        in_title = _all_words([normalize(word) for word in _FTS_PHRASE.findall(fts_query)])
        order = {rowid: n for n, rowid in enumerate(newest)}
        candidates = sorted(
            (0.0 if in_title(row["title"] or "") else 1.0, order[row["id"]], row["id"]) for row in self.db.query(
                "select it.id, it.title from items it join issues iss on iss.entry_id = it.entry_id"
                f" where it.id in ({', '.join('?' * len(newest))}) and iss.is_newsletter = 1 and iss.held is null",
                newest))
        chosen = {rowid: rank for rank, _, rowid in candidates[:limit]}
        if not chosen:
            return []
        rows = {row["id"]: row for row in self.db.query(
            "select id, entry_id, section_position, position, title, text, url from items"
            f" where id in ({', '.join('?' * len(chosen))})", list(chosen))}
        return [_hit({**rows[rowid], "rank": rank}) for rowid, rank in chosen.items() if rowid in rows]

    def search_substring(self, needles: list[str], *, lang: str | None = None, limit: int = 10,
                         feeds: Collection[str] = ()) -> list[StoredHit]:
        """Substring search for scripts without spaces between words (Chinese), where FTS tokens fail.

        Newest items first, in widening windows as `search` does: a LIKE reads every row it is given."""
        if not needles:
            return []
        where, params = _visible("iss", lang, feeds)
        where += ["(it.title || ' ' || it.text) like ? escape '\\'" for _ in needles]
        params += [f"%{_escape_like(n)}%" for n in needles]
        sql = ("select it.entry_id, it.section_position, it.position, it.title, it.text, it.url,"
               " 0.0 as rank from items it join issues iss on iss.entry_id = it.entry_id"
               f" where {' and '.join(where)}")
        sql += " and it.id > ? order by iss.published desc, it.id limit ?"
        return [_hit(row) for row in self._newest_first(sql, params, limit)]

    def _newest_first(self, sql: str, params: list[Any], limit: int) -> list[Any]:
        """Run `sql` (ending in "id > ? … limit ?") over the newest items, widening until `limit` rows come back."""
        top = self.db.execute("select max(id) from items").fetchone()[0] or 0
        window = _SEARCH_WINDOW
        while True:
            floor = top - window
            rows = list(self.db.query(sql, [*params, max(floor, 0), limit]))
            if len(rows) >= limit or floor <= 0:
                return rows
            window *= 4

    # ------------------------------------------------------------------ chats
    def chat_language(self, platform: str, chat: str) -> str | None:
        rows = list(self.db.query("select language from chats where platform = ? and chat = ?", [platform, chat]))
        return rows[0]["language"] if rows else None

    def set_chat_language(self, platform: str, chat: str, lang: str) -> None:
        self.db.table("chats").upsert({"platform": platform, "chat": chat, "language": lang, "updated": _now()},
                                pk=("platform", "chat"))

    # ------------------------------------------------------------------ subscriptions
    def save_subscription(self, dest: Destination) -> None:
        """Store a destination created or changed at run time (`/subscribe`, the panel) as typed JSON."""
        payload = destination_to_json(dest)
        by = dest.change.by if dest.change is not None else None
        with self.transaction():
            self._bump_subscriptions()
            self.db.table("subscriptions").upsert(
                {"name": dest.name, "platform": dest.platform, "chat": dest.chat,
                 "subscribed_by": str(by) if by else None, "version": self.subscriptions_version(),
                 "destination": json.dumps(payload, ensure_ascii=False), "created": _now()}, pk="name")

    def delete_subscription(self, name: str) -> bool:
        with self.transaction():
            found = bool(list(self.db.query("select 1 from subscriptions where name = ?", [name])))
            if found:
                self.db.table("subscriptions").delete(name)
                self._bump_subscriptions()
        return found

    def subscriptions(self, platform: str | None = None) -> list[Destination]:
        """Stored subscriptions the scheduler can run (see `load_subscriptions` for the others)."""
        return self.load_subscriptions(platform)[0]

    def load_subscriptions(self, platform: str | None = None) -> tuple[list[Destination], list[Unrunnable]]:
        """Stored subscriptions, parsed once: those that run, and those set apart (schedule no longer valid)."""
        return self._load_subscriptions("where platform = ?" if platform else "", [platform] if platform else [])

    def _load_subscriptions(self, where: str, params: list[Any],
                            order: str = "order by name") -> tuple[list[Destination], list[Unrunnable]]:
        good: list[Destination] = []
        bad: list[Unrunnable] = []
        for row in self.db.query(f"select destination, created from subscriptions {where} {order}", params):
            data = json.loads(row["destination"])
            try:
                good.append(destination_from_json(data, row["created"]))
            except ScheduleError as exc:
                bad.append(Unrunnable(str(data["name"]), str(data.get("platform") or "console"),
                                      str(data.get("chat") or ""), str(data.get("schedule") or ""),
                                      str(data.get("timezone") or "UTC"), str(exc)))
        return good, bad

    def subscriptions_since(self, version: int) -> tuple[list[Destination], list[Unrunnable], int]:
        """Subscriptions written after `version` (one indexed read), runnable and not, and how many exist
        in all: what the running service needs to update its destinations without reading every one."""
        good, bad = self._load_subscriptions("where version > ?", [version], "")  # by the version index
        return good, bad, int(self.db.execute("select count(*) from subscriptions").fetchone()[0])

    def has_subscription(self, name: str) -> bool:
        """Whether a subscription of this name is stored (one indexed read, whatever their number)."""
        return bool(self.db.execute("select 1 from subscriptions where name = ?", [name]).fetchone())

    def chat_subscription(self, platform: str, chat: str) -> Destination | None:
        """The runnable subscription a chat made, if any (one indexed read)."""
        good, _ = self._load_subscriptions("where platform = ? and chat = ?", [platform, chat])
        return good[0] if good else None

    def subscription_counts(self, user: str) -> tuple[int, int]:
        """(subscriptions in all, those `user` made): what the `[subscriptions]` caps are checked against."""
        total = self.db.execute("select count(*) from subscriptions").fetchone()[0]
        mine = self.db.execute("select count(*) from subscriptions where subscribed_by = ?", [user]).fetchone()[0]
        return int(total), int(mine)

    def subscriptions_version(self) -> int:
        rows = list(self.db.query("select value from meta where key = 'subscriptions_version'"))
        return int(rows[0]["value"]) if rows else 0

    def _bump_subscriptions(self) -> None:
        self.db.execute(
            "update meta set value = cast(value as integer) + 1 where key = 'subscriptions_version'")


@dataclass(frozen=True, slots=True)
class _Candidates:
    """Stored issues an unknown entry may be: by its link, else by its language and number — each
    only when unique within the fetch (`links`, `numbers` count the pending entries)."""

    links: Counter[str]
    numbers: Counter[tuple[str, int | None]]
    by_link: dict[str, list[dict[str, Any]]]
    by_number: dict[tuple[str, int], list[str]]

    def find(self, issue: Issue, taken: set[str]) -> tuple[str, str] | None:
        """(stored entry id, what matched) for `issue`, unless that stored issue is `taken` already."""
        key = link_key(issue.link)
        rows = self.by_link.get(key, []) if self.links[key] == 1 else []
        if len(rows) == 1 and rows[0]["entry_id"] not in taken and _same_edition(rows[0], issue):
            return rows[0]["entry_id"], "link"
        if issue.number is not None and self.numbers[(issue.language, issue.number)] == 1:
            found = self.by_number.get((issue.language, issue.number), [])
            if len(found) == 1 and found[0] not in taken:
                return found[0], "language and number"
        return None


def _visible(table: str, lang: str | None, feeds: Collection[str]) -> tuple[list[str], list[Any]]:
    """The where-clauses (and their parameters) of an edition readers may see: a newsletter issue not
    held back, in `lang` and of `feeds` when given; `table` is the issues table's alias ("" for none)."""
    prefix = f"{table}." if table else ""
    where = [f"{prefix}is_newsletter = 1", f"{prefix}held is null"]
    params: list[Any] = []
    if lang:
        where.append(f"{prefix}language = ?")
        params.append(lang)
    if feeds:
        where.append(f"{prefix}feed in ({', '.join('?' * len(feeds))})")
        params.extend(feeds)
    return where, params


def scoped_id(feed: str, entry_id: str) -> str:
    """The stored id of an entry whose `<guid>` another feed's issue has: "twir:tag:example.org,2026:1"."""
    return f"{feed}:{entry_id}"


def link_key(link: str) -> str:
    """A link as an identity: the scheme (http/https), host case, `www.`, a trailing slash
    and the fragment do not count; "" when there is no link."""
    link = link.strip()
    parts = urlsplit(link)
    if not parts.netloc:
        return link
    key = parts.netloc.lower().removeprefix("www.") + parts.path.rstrip("/")
    return f"{key}?{parts.query}" if parts.query else key


def _same_edition(row: dict[str, Any], issue: Issue) -> bool:
    """A shared link is no identity when language or number say otherwise."""
    if row["number"] is not None and issue.number is not None and row["number"] != issue.number:
        return False
    return not (row["language"] and issue.language and row["language"] != issue.language
                and "und" not in (row["language"], issue.language))


def _keyed_hashes(sections: Iterable[Section], hashes: Iterable[str]) -> dict[str, str]:
    """Section key → content hash; a key used twice in one issue gets a suffix so both are tracked."""
    keyed: dict[str, str] = {}
    for section, digest in zip(sections, hashes, strict=True):
        key = section.key
        suffix = 2
        while key in keyed:
            key = f"{section.key}_{suffix}"
            suffix += 1
        keyed[key] = digest
    return keyed


def _section_hash(heading: str, item_json: Iterable[str]) -> str:
    """What a reader sees of a section, hashed: an edit changes it, a re-fetch does not."""
    digest = hashlib.sha256(heading.encode("utf-8"))
    for data in item_json:
        digest.update(b"\x1f")
        digest.update(data.encode("utf-8"))
    return digest.hexdigest()[:32]


def _issue_hash(title: str, section_hashes: Iterable[str]) -> str:
    digest = hashlib.sha256(title.encode("utf-8"))
    for section_hash in section_hashes:
        digest.update(section_hash.encode("ascii"))
    return digest.hexdigest()[:32]


def _ref(row: dict[str, Any]) -> IssueRef:
    return IssueRef(entry_id=row["entry_id"], link=row["link"], title=row["title"], language=row["language"],
                    number=row["number"], published=_parse_dt(row["published"]), newsletter=row["newsletter"] or "")


_FTS_PHRASE = re.compile(r'"([^"]*)"')
def _all_words(words: list[str]) -> Callable[[str], bool]:
    """Whether a title has every searched word at the start of one of its words (accents and case aside)."""
    if not words:
        return lambda title: False
    pattern = re.compile("".join(rf"(?=.*?\b{re.escape(word)})" for word in words), re.DOTALL)

    def has(title: str) -> bool:
        return pattern.match(title.lower() if title.isascii() else normalize(title)) is not None

    return has


def _hit(row: dict[str, Any]) -> StoredHit:
    return StoredHit(entry_id=row["entry_id"], section_position=row["section_position"],
                     item_position=row["position"], title=row["title"], text=row["text"],
                     url=row["url"], rank=float(row["rank"]))


_LIKE_SPECIAL = re.compile(r"([%_\\])")


def _escape_like(text: str) -> str:
    return _LIKE_SPECIAL.sub(r"\\\1", text)
