"""Feed → issues → store, as one atomic step per poll, off the event loop.

A poll either stores every entry of the feed (in one transaction) or nothing:
a broken feed leaves yesterday's data, and the scheduler's work, untouched. The
feed's cache validators (ETag, Last-Modified) are saved in that same transaction,
and not at all when an entry could not be split, so the next poll reads the whole
feed again instead of being told "304: nothing new" about entries never stored.

Parsing, splitting and storing a large feed takes seconds to minutes of CPU. It runs
in a worker thread with its own SQLite connection, so the event loop keeps answering
commands and delivering posts meanwhile, and a shutdown does not wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import httpx

from bot.core.cleantext import clean_issue
from bot.core.errors import FeedError, StorageError
from bot.core.i18n import plural_en
from bot.core.models import Issue, RawEntry
from bot.feeds.fetch import FetchResult, fetch_feed, parse_feed
from bot.settings.config import Config, FeedConfig
from bot.splitting.detect import judge_feed
from bot.splitting.edition import assign_numbers, number_series
from bot.splitting.sections import SectionAliases
from bot.splitting.split import split_entry
from bot.storage.fault import is_storage_fault
from bot.storage.store import FeedState, SaveResult, Store

__all__ = ["IngestStopped", "Ingestor", "SizeLimits", "poll_summary", "skipped_words", "split_entries"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Saves a poll's outcome (validators, counts) given its results, failed entry ids and skipped counts.
_Record = Callable[[list[SaveResult], list[str], dict[str, int]], None]

_CHECK_EVERY = 256  # entries split between two looks at the stop flag
_HELD_LOG_LINES = 5  # held issues named one by one in the log, per poll; the rest are counted


class IngestStopped(FeedError):
    """The bot is shutting down: the ingest in progress stopped before storing anything."""


@dataclass(frozen=True, slots=True)
class SizeLimits:
    """Above these, an issue is stored but not delivered: 10,000 headings must not become 10,000 posts."""

    max_sections: int = 40
    max_items: int = 400

    def over(self, issue: Issue) -> str | None:
        """Why `issue` is too large to deliver, or None."""
        sections = len(issue.sections)
        if sections > self.max_sections:
            return f"{sections:,} sections, over the limit of {self.max_sections:,} (feeds.max_sections)"
        items = sum(len(section.items) for section in issue.sections)
        if items > self.max_items:
            return f"{items:,} items, over the limit of {self.max_items:,} (feeds.max_items)"
        return None


@dataclass(frozen=True, slots=True)
class _Split:
    issues: list[Issue]
    failed: list[str]  # entry ids the splitter could not handle
    skipped: dict[str, int]  # entries that are not issues, by reason (bot.splitting.detect.Reason's words)


def _split(entries: Sequence[RawEntry], config: Config, aliases: SectionAliases, store: Store | None,
           stop: Callable[[], bool] | None = None, *, consume: bool = False) -> _Split:
    """Split one feed's entries with that feed's own newsletter settings (`Config.newsletter_for`).

    `consume`: `entries` is a list nobody reads afterwards, emptied as it is split (see `_consumed`).
    """
    feed = entries[0].feed if entries else ""
    newsletter = config.newsletter_for(feed)
    issues: list[Issue] = []
    failed: list[str] = []
    for n, entry in enumerate(_consumed(entries) if consume else entries):
        if stop is not None and n % _CHECK_EVERY == 0 and stop():
            raise IngestStopped(entry.feed, "stopped by shutdown before anything was stored")
        try:
            issues.append(split_entry(entry, aliases=aliases, newsletter=newsletter))
        except Exception:  # the splitter promises not to raise; a bug must not stop the feed
            log.exception("could not split entry %r of feed %r; skipped", entry.entry_id, entry.feed)
            failed.append(entry.entry_id)
        del entry
    verdicts = judge_feed(number_series(issues), newsletter, aliases, feed)
    known = store.list_issues(feed=feed, limit=500) if store is not None and feed else []  # this feed's editions only
    return _Split([clean_issue(issue) for issue in assign_numbers(verdicts.issues, known)], failed,
                  verdicts.skipped)


def _consumed(entries: Sequence[RawEntry]) -> Iterator[RawEntry]:
    """The entries in order; a list is emptied as it is read, so each entry's HTML (often 4 bytes a
    character: one emoji makes a whole str UCS-4) is freed once split, not held to the end of the feed."""
    if not isinstance(entries, list):
        yield from entries
        return
    entries.reverse()  # then pop() from the end: O(1) each
    while entries:
        yield entries.pop()


def split_entries(entries: Sequence[RawEntry], config: Config, aliases: SectionAliases,
                  store: Store | None = None) -> list[Issue]:
    """Split every entry and clean its text; one entry that cannot be split is logged and skipped."""
    return _split(entries, config, aliases, store).issues


class Ingestor:
    """Polls feeds and stores their issues; the only writer of issue data."""

    def __init__(self, store: Store, config: Config, client: httpx.AsyncClient | None = None,
                 aliases: SectionAliases | None = None) -> None:
        self.store = store
        self.config = config
        self.client = client
        self.aliases = aliases or SectionAliases(config.sections.aliases)
        self._lock = threading.Lock()  # one ingest at a time through the worker's connection
        self._worker_store: Store | None = None

    # ------------------------------------------------------------------ worker thread
    def close(self) -> None:
        """Close the worker's connection, unless an ingest still holds it (it dies with the process)."""
        if self._worker_store is not None and self._lock.acquire(blocking=False):
            try:
                self._worker_store.close()
                self._worker_store = None
            finally:
                self._lock.release()

    def _connection(self) -> Store:
        """The worker's own connection to the database (SQLite transactions are per connection).

        An in-memory database exists only through its one connection, which is then shared.
        """
        if self.store.path == ":memory:":
            return self.store
        if self._worker_store is None:
            self._worker_store = self.store.reopen()
        return self._worker_store

    async def _offload(self, work: Callable[[Store], T], cancelled: threading.Event | None = None) -> T:
        """Run `work` in a daemon thread: the loop stays free, and a shutdown never waits for it.

        A shutdown cancels the awaiting task (APScheduler cancels its running jobs); `cancelled`
        then tells the work to stop at its next step, and the process exits without joining it.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def settle(result: T | None, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)  # type: ignore[arg-type]

        def run() -> None:
            try:
                with self._lock:
                    result = work(self._connection())
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
                with contextlib.suppress(RuntimeError):  # the loop is gone: we are shutting down
                    loop.call_soon_threadsafe(settle, None, exc)
            else:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(settle, result, None)

        threading.Thread(target=run, name="digestbot-ingest", daemon=True).start()
        try:
            return await future
        except asyncio.CancelledError:
            if cancelled is not None:
                cancelled.set()  # the awaiting task is gone (a shutdown): the work stops at its next step
            raise

    # ------------------------------------------------------------------ polling
    async def poll(self, feed: FeedConfig) -> list[SaveResult]:
        """Fetch (conditional GET), split and store one feed.

        Raises:
            FeedError: the feed could not be used; the error is recorded on the feed
                and the stored issues are unchanged.
        """
        state = await self._offload(lambda store: store.feed_state(feed.name))
        same_url = state.url == feed.url
        try:
            fetched = await fetch_feed(
                feed.name, feed.url, client=self.client,
                etag=state.etag if same_url else None,
                last_modified=state.last_modified if same_url else None,
                timeout=feed.timeout, max_bytes=feed.max_bytes,
            )
            if fetched.not_modified:
                await self._offload(lambda store: store.record_feed_not_modified(feed.name, feed.url))
                log.info("feed %s: not modified", feed.name)
                return []
            cancelled = threading.Event()
            return await self._offload(lambda store: self._store_fetch(
                store, feed, fetched, cancelled.is_set), cancelled)
        except IngestStopped:
            raise
        except FeedError as exc:
            error = exc
        except StorageError as exc:  # opening the worker's connection: the disk, as below
            cause = exc.__cause__
            raise (cause if isinstance(cause, sqlite3.Error | OSError) else exc) from None
        except (sqlite3.Error, OSError) as exc:
            if is_storage_fault(exc):
                raise  # the disk (full, read-only): the service waits it out and polls again
            error = FeedError(feed.name, f"could not store the feed: {type(exc).__name__}: {exc}")
        with contextlib.suppress(sqlite3.Error, OSError):
            await self._offload(lambda store: store.record_feed_error(feed.name, feed.url, error.reason))
        log.error("%s", error)
        raise error

    def _store_fetch(self, store: Store, feed: FeedConfig, fetched: FetchResult,
                     stop: Callable[[], bool]) -> list[SaveResult]:
        """Worker thread: parse, split, then store the issues and the validators in one transaction."""

        def record(results: list[SaveResult], failed: list[str], skipped: dict[str, int]) -> None:
            warning = None
            if failed:
                warning = (f"{len(failed)} entr{'y' if len(failed) == 1 else 'ies'} could not be split (first:"
                           f" {failed[0]!r}); the whole feed is read again at the next poll")
                log.warning("feed %s: %s", feed.name, warning)
            keep = not failed
            store.record_feed_success(feed.name, feed.url, etag=fetched.etag if keep else None,
                                      last_modified=fetched.last_modified if keep else None, warning=warning,
                                      entries=len(results) + sum(skipped.values()), skipped=skipped)

        return self._ingest(store, fetched.body, feed.name, fetched.url, stop, record)[0]

    def ingest_bytes(self, data: bytes, feed_name: str, base_url: str = "") -> list[SaveResult]:
        """Parse, split and store a feed document in one transaction (in the caller's thread)."""
        return self._ingest(self.store, data, feed_name, base_url)[0]

    def _ingest(self, store: Store, data: bytes, feed_name: str, base_url: str,
                stop: Callable[[], bool] | None = None, record: _Record | None = None,
                ) -> tuple[list[SaveResult], list[str], dict[str, int]]:
        with _cyclic_gc_paused():
            return self._ingest_now(store, data, feed_name, base_url, stop, record)

    def _ingest_now(self, store: Store, data: bytes, feed_name: str, base_url: str,
                    stop: Callable[[], bool] | None,
                    record: _Record | None) -> tuple[list[SaveResult], list[str], dict[str, int]]:
        """Parse and split (no lock held: that is the long part), then store the issues and, through
        `record`, the poll's outcome in one write transaction: both are kept, or neither is."""
        entries = parse_feed(feed_name, data, base_url).entries  # consumed by the split (see `_consumed`)
        split = _split(entries, self.config, self.aliases, store, stop, consume=True)
        newsletters = [issue for issue in split.issues if issue.is_newsletter]
        if stop is not None and stop():
            raise IngestStopped(feed_name, "stopped by shutdown before anything was stored")
        limits = self._limits(feed_name)
        with store.transaction():
            results = store.save_issues(newsletters, held=limits.over, feeds=self._feed_names())
            if record is not None:
                record(results, split.failed, split.skipped)
        counts: dict[str, int] = {}
        for result in results:
            counts[result.status] = counts.get(result.status, 0) + 1
        log.info("feed %s: %s, %s (%s); %s", feed_name,
                 plural_en(len(results) + sum(split.skipped.values()), "entry", "entries"),
                 plural_en(len(results), "issue"), ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none",
                 skipped_words(split.skipped))
        if not newsletters and split.skipped:  # a whole feed skipped is a setting, rarely a feed without issues
            log.warning("feed %s: no entry is an issue (%s): check this feed's title_pattern and min_sections "
                        "([feeds.newsletter] in config.toml)", feed_name, skipped_words(split.skipped))
        _log_held(feed_name, results)
        return results, split.failed, split.skipped

    def _feed_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.config.feeds)

    def _limits(self, feed_name: str) -> SizeLimits:
        feed = next((f for f in self.config.feeds if f.name == feed_name), None)
        if feed is None:
            return SizeLimits()
        return SizeLimits(max_sections=feed.max_sections, max_items=feed.max_items)


def poll_summary(results: Sequence[SaveResult], state: FeedState) -> str:
    """One poll in words: "20 editions (2 new, 18 unchanged); 3 entries skipped (…)", or "not modified"."""
    if state.not_modified and not results:
        return "not modified (the server said nothing changed since the last read)"
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none stored"
    return f"{plural_en(len(results), 'edition')} ({summary}); {skipped_words(state.skipped)}"


def skipped_words(skipped: dict[str, int]) -> str:
    """"3 entries skipped (2: fewer sections than min_sections; 1: …)", or "no entry skipped"."""
    total = sum(skipped.values())
    if not total:
        return "no entry skipped"
    why = next(iter(skipped)) if len(skipped) == 1 else "; ".join(f"{n}: {reason}" for reason, n in skipped.items())
    return f"{plural_en(total, 'entry', 'entries')} skipped ({why})"


_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = True


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a feed is ingested.

    A large ingest makes millions of young objects; every full collection walks all of
    them with the GIL held, stopping the event loop thread for up to a second each time
    (measured with `bench/responsiveness.py`). What an ingest allocates is acyclic and
    freed by reference counting, so pausing the collector costs nothing meanwhile.
    """
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        _gc_pausers += 1
        if _gc_pausers == 1:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


def _log_held(feed_name: str, results: Sequence[SaveResult]) -> None:
    held = [r for r in results if r.held]  # every poll: it stays a problem until someone acts
    for result in held[:_HELD_LOG_LINES]:
        log.warning("feed %s: issue %r has %s: stored, not delivered", feed_name, result.entry_id, result.held)
    if len(held) > _HELD_LOG_LINES:
        log.warning("feed %s: %d more issues over a size limit: stored, not delivered (see `digestbot status`)",
                    feed_name, len(held) - _HELD_LOG_LINES)
