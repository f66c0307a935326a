"""Several newsletters in one deployment: each feed has its own newsletter, identity and skip report.

Black-box where a maintainer meets it (`digestbot ingest`, `status`, `ask` as subprocesses on a
real config and database); the store's per-feed identity is checked through `Store.save_issues`.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bot.storage.store import Store
from tests.harness.cli import run_cli
from tests.harness.editions import series_feed
from tests.harness.paths import ROOT, TWIR_FEED

TWIR = TWIR_FEED


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
    return config, run_cli("ingest", "--config", str(config))


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
    answer = run_cli("ask", "/latest", "--lang", "en", "--config", str(config))
    assert "This Week in Rust #635 (EN)" in answer.stdout and "NLP Newsletter #635" not in answer.stdout


def test_ingest_and_status_say_how_many_entries_were_skipped_and_why(
        two_newsletters: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    config, ingested = two_newsletters
    assert "nlp-newsletter: 19 editions (19 new); 1 entry skipped (fewer sections than min_sections)" \
        in ingested.stdout
    assert "feed nlp-newsletter: 20 entries, 19 issues (19 new); 1 entry skipped (fewer sections than min_sections)" \
        in ingested.stderr  # the poll's log line says it too
    status = json.loads(run_cli("status", "--json", "--config", str(config)).stdout)
    feeds = {feed["name"]: feed for feed in status["feeds"]}
    assert feeds["nlp-newsletter"]["entries"] == 20
    assert feeds["nlp-newsletter"]["skipped"] == {"fewer sections than min_sections": 1}
    assert feeds["twir"]["skipped"] == {}
    table = run_cli("status", "--config", str(config)).stdout
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
    result = run_cli("ingest", "--config", str(config))
    out = result.stdout
    assert "twir: 0 editions (none stored); 20 entries skipped (title and sections unlike an issue's)" in out
    assert "not modified" not in out
    assert "WARNING bot.feeds.ingest: feed twir: no entry is an issue" in result.stderr
    assert "title_pattern" in result.stderr


# --------------------------------------------------------------------------- a numbered series
def test_a_numbered_series_entry_with_two_sections_is_stored_and_answered(tmp_path: Path) -> None:
    """"NLP Newsletter 14 [EN]" has two sections (min_sections is 3): its series makes it an issue."""
    feed = series_feed(tmp_path / "letters.xml")
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
    ingested = run_cli("ingest", "--config", str(config))
    assert "letters: 4 editions (4 new); no entry skipped" in ingested.stdout, ingested.stdout + ingested.stderr
    latest = run_cli("ask", "/latest", "--lang", "en", "--config", str(config))
    assert "NLP Newsletter #14 (EN)" in latest.stdout and "Noteworthy Mentions" in latest.stdout
    section = run_cli("ask", "/section top stories", "--lang", "en", "--config", str(config))
    assert section.returncode == 0 and "Story 14-0" in section.stdout


# --------------------------------------------------------------------------- identity per feed
