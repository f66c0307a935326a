"""Feed → issues → store, as one atomic step per poll.

A poll either stores every entry of the feed (in one transaction) or nothing:
a broken feed leaves yesterday's data, and the scheduler's work, untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import httpx

from bot.config import Config, FeedConfig
from bot.detect import classify_feed
from bot.edition import assign_numbers, number_series
from bot.errors import FeedError
from bot.feed import fetch_feed, parse_feed
from bot.models import Issue, RawEntry
from bot.sections import SectionAliases
from bot.split import split_entry
from bot.store import SaveResult, Store

__all__ = ["Ingestor", "split_entries"]

log = logging.getLogger(__name__)


def split_entries(entries: Sequence[RawEntry], config: Config, aliases: SectionAliases,
                  store: Store | None = None) -> list[Issue]:
    """Split every entry; one entry that cannot be split is logged and skipped, never fatal."""
    issues: list[Issue] = []
    for entry in entries:
        try:
            issues.append(split_entry(entry, aliases=aliases, newsletter=config.newsletter))
        except Exception:  # the splitter promises not to raise; a bug must not stop the feed
            log.exception("could not split entry %r of feed %r; skipped", entry.entry_id, entry.feed)
    issues = classify_feed(number_series(issues), config.newsletter, aliases, entries[0].feed if entries else "")
    known = store.list_issues(limit=500) if store is not None else []
    return assign_numbers(issues, known)


class Ingestor:
    """Polls feeds and stores their issues; the only writer of issue data."""

    def __init__(self, store: Store, config: Config, client: httpx.AsyncClient | None = None,
                 aliases: SectionAliases | None = None) -> None:
        self.store = store
        self.config = config
        self.client = client
        self.aliases = aliases or SectionAliases(config.sections.aliases)

    async def poll(self, feed: FeedConfig) -> list[SaveResult]:
        """Fetch (conditional GET), split and store one feed.

        Raises:
            FeedError: the feed could not be used; the error is recorded on the feed
                and the stored issues are unchanged.
        """
        state = self.store.feed_state(feed.name)
        same_url = state.url == feed.url
        try:
            fetched = await fetch_feed(
                feed.name, feed.url, client=self.client,
                etag=state.etag if same_url else None,
                last_modified=state.last_modified if same_url else None,
                timeout=feed.timeout, max_bytes=feed.max_bytes,
            )
            if fetched.not_modified:
                self.store.record_feed_not_modified(feed.name, feed.url)
                log.info("feed %s: not modified", feed.name)
                return []
            results = self.ingest_bytes(fetched.body, feed.name, base_url=fetched.url)
        except FeedError as exc:
            self.store.record_feed_error(feed.name, feed.url, exc.reason)
            log.error("%s", exc)
            raise
        self.store.record_feed_success(feed.name, feed.url, etag=fetched.etag, last_modified=fetched.last_modified)
        return results

    def ingest_bytes(self, data: bytes, feed_name: str, base_url: str = "") -> list[SaveResult]:
        """Parse, split and store a feed document in one transaction."""
        parsed = parse_feed(feed_name, data, base_url)
        issues = split_entries(parsed.entries, self.config, self.aliases, self.store)
        newsletters = [issue for issue in issues if issue.is_newsletter]
        results = self.store.save_issues(newsletters)
        counts: dict[str, int] = {}
        for result in results:
            counts[result.status] = counts.get(result.status, 0) + 1
        skipped = len(issues) - len(newsletters)
        log.info("feed %s: %d entries (%s; %d skipped: not newsletters)", feed_name, len(results),
                 ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none", skipped)
        return results
