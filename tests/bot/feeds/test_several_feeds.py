"""Several newsletters in one deployment, in process: each feed's own newsletter keys, skip counts and
identity per feed in the store (the CLI on them, as a process: tests/e2e/test_several_feeds.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bot.core.models import Issue, Item, Section
from bot.feeds.ingest import Ingestor
from bot.settings.config import Config, FeedConfig, NewsletterConfig
from bot.storage.store import Store
from tests.harness.editions import series_feed


def _issue(feed: str, title: str) -> Issue:
    section = Section(key="news", heading="News", title="News", emoji="", position=0,
                      items=(Item(title=title, body=()),))
    return Issue(entry_id="urn:shared:1", link=f"https://{feed}.example/1/", title=title,
                 published=datetime(2026, 1, 1, tzinfo=UTC), language="en", number=1, sections=(section,),
                 feed=feed, newsletter=feed.title())


def test_a_lone_entry_with_two_sections_outside_any_series_is_still_skipped(tmp_path: Path) -> None:
    """The series rule needs the series: a two-section post of a feed is no issue by itself."""
    store = Store(":memory:")
    config = Config(feeds=[FeedConfig(name="x", url="unused", newsletter=NewsletterConfig(title_pattern="(?i)letter"))])
    feed = series_feed(tmp_path / "letters.xml").read_text(encoding="utf-8")
    lone = feed.replace("NLP Newsletter 11 [EN]", "Spring Letter").replace("NLP Newsletter 12 [EN]", "Summer Letter") \
        .replace("NLP Newsletter 13 [EN]", "Autumn Letter")
    results = Ingestor(store, config).ingest_bytes(lone.encode(), "x")
    assert len(results) == 3 and store.feed_state("x").entries is None  # ingest_bytes records no poll
    assert all(ref.number != 14 for ref in store.list_issues(limit=10))


def test_the_same_guid_in_two_feeds_is_two_issues_and_each_feed_updates_its_own() -> None:
    store = Store(":memory:")
    first = store.save_issues([_issue("alpha", "Alpha one")], feeds={"alpha", "beta"})
    second = store.save_issues([_issue("beta", "Beta one")], feeds={"alpha", "beta"})
    assert first[0].status == "new" and second[0].status == "new"
    assert {(ref.newsletter, ref.title) for ref in store.list_issues(limit=10)} == {("Alpha", "Alpha one"),
                                                                                    ("Beta", "Beta one")}
    again = store.save_issues([_issue("beta", "Beta one")], feeds={"alpha", "beta"})
    assert again[0].status == "unchanged" and again[0].entry_id == second[0].entry_id
    edited = store.save_issues([_issue("alpha", "Alpha one, edited")], feeds={"alpha", "beta"})
    assert edited[0].status == "changed" and edited[0].entry_id == "urn:shared:1"
    assert {ref.title for ref in store.list_issues(feed="beta", limit=10)} == {"Beta one"}


def test_a_renamed_feed_takes_over_its_stored_issues_instead_of_publishing_them_again() -> None:
    store = Store(":memory:")
    store.save_issues([_issue("old-name", "One")], feeds={"old-name"})
    moved = store.save_issues([_issue("new-name", "One")], feeds={"new-name"})
    assert moved[0].entry_id == "urn:shared:1" and len(store.list_issues(limit=10)) == 1
    assert [ref.title for ref in store.list_issues(feed="new-name", limit=10)] == ["One"]


def test_a_database_from_before_skip_counts_opens_and_records_them(tmp_path: Path) -> None:
    """The feeds table of an older release (no entries/skipped/not_modified columns) is extended in place."""
    import sqlite3

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("create table feeds (name text primary key, url text, etag text, last_modified text,"
                 " last_polled text, last_ok text, last_error text, error_count integer)")
    conn.execute("insert into feeds (name, url, error_count) values ('old', 'https://old.example/', 0)")
    conn.commit()
    conn.close()
    store = Store(path)
    try:
        assert store.feed_state("old").entries is None and store.feed_state("old").skipped == {}
        store.record_feed_success("old", "https://old.example/", etag=None, last_modified=None, entries=3,
                                  skipped={"fewer sections than min_sections": 1})
        state = store.feed_state("old")
        assert (state.entries, state.skipped, state.not_modified) == (3, {"fewer sections than min_sections": 1},
                                                                      False)
        store.record_feed_not_modified("old", "https://old.example/")
        assert store.feed_state("old").not_modified and store.feed_state("old").entries == 3
    finally:
        store.close()


def test_an_entry_of_another_feed_is_never_matched_to_a_stored_issue_by_number_or_link() -> None:
    """Edition matching stays within a feed: beta's #1 (EN) with a new id is not alpha's #1 (EN) renamed."""
    store = Store(":memory:")
    store.save_issues([_issue("alpha", "Alpha one")], feeds={"alpha", "beta"})
    other = replace(_issue("beta", "Beta one"), entry_id="urn:beta:1", link="https://alpha.example/1/")
    saved = store.save_issues([other], feeds={"alpha", "beta"})
    assert saved[0].status == "new" and saved[0].entry_id == "urn:beta:1"
    assert len(store.list_issues(limit=10)) == 2
    moved = replace(_issue("alpha", "Alpha one"), entry_id="urn:alpha:new-id")
    assert store.save_issues([moved], feeds={"alpha", "beta"})[0].entry_id == "urn:shared:1"  # same feed: matched
