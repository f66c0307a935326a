"""Several newsletters in one deployment: each feed has its own newsletter, identity and skip report.

Black-box where a maintainer meets it (`digestbot ingest`, `status`, `ask` as subprocesses on a
real config and database); the store's per-feed identity is checked through `Store.save_issues`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.models import Issue, Item, Section
from bot.feeds.ingest import Ingestor
from bot.settings.config import Config, FeedConfig, NewsletterConfig, config_problems
from bot.storage.store import Store

ROOT = Path(__file__).resolve().parents[2]
TWIR = ROOT / "tests" / "data" / "this-week-in-rust-616-635.xml"


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT", "TELEGRAM", "DISCORD"))}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, timeout=180,
                          env=env, cwd=cwd)


def _stock_plus_twir(tmp: Path) -> Path:
    """The repository's config.toml as shipped, its feed path absolute, plus a bare second [[feeds]] for TWIR."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('url = "bot/data/', f'url = "{ROOT}/bot/data/')
    text = text.replace('path = "digestbot.db"', f'path = "{tmp / "db.sqlite"}"')
    text += f'\n[[feeds]]\nname = "twir"\nurl = "{TWIR}"\n'
    path = tmp / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def two_newsletters(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    tmp = tmp_path_factory.mktemp("two")
    config = _stock_plus_twir(tmp)
    return config, _run("ingest", "--config", str(config))


def test_twir_beside_the_stock_config_is_labelled_with_its_own_name(
        two_newsletters: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """The stock NLP title_pattern and name belong to the NLP feed: TWIR issues are stored, as TWIR."""
    config, ingested = two_newsletters
    assert ingested.returncode == 0, ingested.stderr
    assert "twir: 20 editions (20 new)" in ingested.stdout
    store = Store(str(config.parent / "db.sqlite"), read_only=True)
    try:
        twir = store.list_issues(feed="twir", limit=100)
        nlp = store.list_issues(feed="nlp-newsletter", limit=100)
    finally:
        store.close()
    assert twir[0].label == "This Week in Rust #635 (EN)"
    assert {ref.newsletter for ref in twir} == {"This Week in Rust"}
    assert {ref.newsletter for ref in nlp} == {"NLP Newsletter"}
    answer = _run("ask", "/latest", "--lang", "en", "--config", str(config))
    assert "This Week in Rust #635 (EN)" in answer.stdout and "NLP Newsletter #635" not in answer.stdout


def test_ingest_and_status_say_how_many_entries_were_skipped_and_why(
        two_newsletters: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    config, ingested = two_newsletters
    assert "nlp-newsletter: 19 editions (19 new); 1 entry skipped (fewer sections than min_sections)" \
        in ingested.stdout
    assert "feed nlp-newsletter: 20 entries, 19 issues (19 new); 1 entry skipped (fewer sections than min_sections)" \
        in ingested.stderr  # the poll's log line says it too
    status = json.loads(_run("status", "--json", "--config", str(config)).stdout)
    feeds = {feed["name"]: feed for feed in status["feeds"]}
    assert feeds["nlp-newsletter"]["entries"] == 20
    assert feeds["nlp-newsletter"]["skipped"] == {"fewer sections than min_sections": 1}
    assert feeds["twir"]["skipped"] == {}
    table = _run("status", "--config", str(config)).stdout
    assert "1 (fewer sections than min_sections)" in table


def test_a_feed_whose_entries_are_all_skipped_is_never_reported_as_not_modified(tmp_path: Path) -> None:
    """The TWIR feed under a pattern it never matches: "0 editions; 20 entries skipped (…)", not "not modified"."""
    config = tmp_path / "config.toml"
    config.write_text(f"""
[storage]
path = "{tmp_path / 'db.sqlite'}"
[[feeds]]
name = "twir"
url = "{TWIR}"
title_pattern = "^Garden"
""", encoding="utf-8")
    result = _run("ingest", "--config", str(config))
    out = result.stdout
    assert "twir: 0 editions (none stored); 20 entries skipped (title and sections unlike an issue's)" in out
    assert "not modified" not in out
    assert "WARNING bot.feeds.ingest: feed twir: no entry is an issue" in result.stderr
    assert "title_pattern" in result.stderr


def test_a_feeds_own_newsletter_keys_win_over_the_top_level_defaults() -> None:
    config, problems = config_problems({
        "newsletter": {"name": "Default Name", "min_sections": 4},
        "feeds": [{"name": "a", "url": "https://a.example/feed", "newsletter": {"name": "Alpha"}},
                  {"name": "b", "url": "https://b.example/feed", "title_pattern": "^B", "min_sections": 2},
                  {"name": "c", "url": "https://c.example/feed", "newsletter": "Gamma"}],
    })
    assert problems == [] and config is not None
    assert config.newsletter_for("a") == NewsletterConfig(name="Alpha", min_sections=4)
    assert config.newsletter_for("b") == NewsletterConfig(name="Default Name", title_pattern="^B", min_sections=2)
    assert config.newsletter_for("c").name == "Gamma"
    assert config.newsletter_for("elsewhere") == NewsletterConfig(name="Default Name", min_sections=4)
    _, bad = config_problems({"feeds": [{"name": "d", "url": "https://d.example/", "title_pattern": "(a+)+",
                                         "newsletter": {"min_sections": 0}}]})
    assert [p.key for p in bad] == ["feeds.d.newsletter.title_pattern", "feeds.d.newsletter.min_sections"] or \
        {p.key for p in bad} == {"feeds.d.newsletter.title_pattern", "feeds.d.newsletter.min_sections"}


# --------------------------------------------------------------------------- a numbered series
def _entry(number: int, sections: list[str], when: datetime) -> str:
    body = "".join(f"<h2>{name}</h2><p><strong>Story {number}-{i}</strong></p><p>Text {number} {name}.</p>"
                   f"<p><strong>Other {number}-{i}</strong></p><p>More {number}.</p>"
                   for i, name in enumerate(sections))
    return (f"<entry><title>NLP Newsletter {number} [EN]</title>"
            f"<link href='https://letters.example/{number}/'/><id>urn:letters:{number}</id>"
            f"<published>{when.isoformat()}</published><updated>{when.isoformat()}</updated>"
            f"<content type='html'><![CDATA[{body}]]></content></entry>")


def _series_feed(path: Path) -> Path:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    full = ["Top Stories", "Research", "Tools", "Education", "Noteworthy Mentions"]
    entries = [_entry(n, full, start + timedelta(days=7 * n)) for n in (11, 12, 13)]
    entries.append(_entry(14, ["Top Stories", "Noteworthy Mentions"], start + timedelta(days=7 * 14)))
    path.write_text("<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
                    "<title>Letters</title><id>urn:letters</id>" + "".join(entries) + "</feed>", encoding="utf-8")
    return path


def test_a_numbered_series_entry_with_two_sections_is_stored_and_answered(tmp_path: Path) -> None:
    """"NLP Newsletter 14 [EN]" has two sections (min_sections is 3): its series makes it an issue."""
    feed = _series_feed(tmp_path / "letters.xml")
    config = tmp_path / "config.toml"
    config.write_text(f"""
[storage]
path = "{tmp_path / 'db.sqlite'}"
[[feeds]]
name = "letters"
url = "{feed}"
[feeds.newsletter]
name = "NLP Newsletter"
title_pattern = "(?i)newsletter"
min_sections = 3
""", encoding="utf-8")
    ingested = _run("ingest", "--config", str(config))
    assert "letters: 4 editions (4 new); no entry skipped" in ingested.stdout, ingested.stdout + ingested.stderr
    latest = _run("ask", "/latest", "--lang", "en", "--config", str(config))
    assert "NLP Newsletter #14 (EN)" in latest.stdout and "Noteworthy Mentions" in latest.stdout
    section = _run("ask", "/section top stories", "--lang", "en", "--config", str(config))
    assert section.returncode == 0 and "Story 14-0" in section.stdout


def test_a_lone_entry_with_two_sections_outside_any_series_is_still_skipped(tmp_path: Path) -> None:
    """The series rule needs the series: a two-section post of a feed is no issue by itself."""
    store = Store(":memory:")
    config = Config(feeds=[FeedConfig(name="x", url="unused", newsletter=NewsletterConfig(title_pattern="(?i)letter"))])
    feed = _series_feed(tmp_path / "letters.xml").read_text(encoding="utf-8")
    lone = feed.replace("NLP Newsletter 11 [EN]", "Spring Letter").replace("NLP Newsletter 12 [EN]", "Summer Letter") \
        .replace("NLP Newsletter 13 [EN]", "Autumn Letter")
    results = Ingestor(store, config).ingest_bytes(lone.encode(), "x")
    assert len(results) == 3 and store.feed_state("x").entries is None  # ingest_bytes records no poll
    assert all(ref.number != 14 for ref in store.list_issues(limit=10))


# --------------------------------------------------------------------------- identity per feed
def _issue(feed: str, title: str) -> Issue:
    section = Section(key="news", heading="News", title="News", emoji="", position=0,
                      items=(Item(title=title, body=()),))
    return Issue(entry_id="urn:shared:1", link=f"https://{feed}.example/1/", title=title,
                 published=datetime(2026, 1, 1, tzinfo=UTC), language="en", number=1, sections=(section,),
                 feed=feed, newsletter=feed.title())


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
