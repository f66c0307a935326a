# ruff: noqa: E501  (the expectation table keeps one section per line)
"""A second, unrelated newsletter from its feed URL alone: This Week in Rust #616–#635.

The feed (tests/data/this-week-in-rust-616-635.xml, CC-BY-SA 4.0, the rust-lang/this-week-in-rust
contributors) says nothing digestbot was tuned to: no "newsletter" in any title, no emoji, no
language marker, `<h2>` sections plus one `<h1>`, `<h3>`–`<h5>` sub-heads and long lists of links.

The expectation table was checked against an independent reading of the raw HTML with the
standard library's `html.parser` (the splitter uses selectolax/lexbor): each issue's `<h1>`/`<h2>`
texts in document order are its sections, and per section the list entries that start with a
link (after optional "[video]"-style tags) are counted with their link texts. The number is the
title's trailing integer. `test_table_matches_an_independent_reading` recomputes those columns
from the feed; the splitter must give the same headings and title an item by each link text.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner

from app.cli import main
from bot.core.models import Issue
from bot.feeds.fetch import parse_feed
from bot.feeds.ingest import split_entries
from bot.settings.config import Config
from bot.splitting.sections import SectionAliases
from tests.harness.paths import TWIR_FEED

FEED = TWIR_FEED

# issue number → [(heading, key, item count, list entries that start with a link), …]
EXPECTED: dict[int, list[tuple[str, str, int, int]]] = {
    635: [
        ('Updates from Rust Community', 'updates_from_rust_community', 22, 22),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 6, 1),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 1),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 53, 42),
        ('Upcoming Events', 'upcoming_events', 62, 60),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 18, 11),
    ],
    634: [
        ('Updates from Rust Community', 'updates_from_rust_community', 29, 29),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 3, 0),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 12),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 90, 81),
        ('Upcoming Events', 'upcoming_events', 56, 54),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 18, 11),
    ],
    633: [
        ('Updates from Rust Community', 'updates_from_rust_community', 22, 22),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 4, 0),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 2),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 58, 47),
        ('Upcoming Events', 'upcoming_events', 54, 52),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 18, 11),
    ],
    632: [
        ('Updates from Rust Community', 'updates_from_rust_community', 13, 13),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 7, 1),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 6),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 64, 52),
        ('Upcoming Events', 'upcoming_events', 40, 38),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 18, 11),
    ],
    631: [
        ('Updates from Rust Community', 'updates_from_rust_community', 21, 21),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 4, 0),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 2),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 71, 59),
        ('Upcoming Events', 'upcoming_events', 27, 25),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 18, 11),
    ],
    630: [
        ('Updates from Rust Community', 'updates_from_rust_community', 19, 19),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 4, 0),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 2),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 86, 73),
        ('Upcoming Events', 'upcoming_events', 26, 24),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 18, 11),
    ],
    629: [
        ('Updates from Rust Community', 'updates_from_rust_community', 25, 25),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 4, 0),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 1),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 54, 42),
        ('Upcoming Events', 'upcoming_events', 41, 39),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 18, 11),
    ],
    628: [
        ('Updates from Rust Community', 'updates_from_rust_community', 21, 21),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 4, 0),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 4),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 85, 73),
        ('Upcoming Events', 'upcoming_events', 49, 47),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 18, 11),
    ],
    627: [
        ('Updates from Rust Community', 'updates_from_rust_community', 19, 19),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 7, 0),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 3),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 101, 91),
        ('Upcoming Events', 'upcoming_events', 58, 56),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 18, 11),
    ],
    626: [
        ('Updates from Rust Community', 'updates_from_rust_community', 28, 28),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 7, 0),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 7),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 49, 38),
        ('Upcoming Events', 'upcoming_events', 64, 62),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 18, 11),
    ],
    625: [
        ('Updates from Rust Community', 'updates_from_rust_community', 21, 21),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 7, 0),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 1),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 61, 52),
        ('Upcoming Events', 'upcoming_events', 61, 59),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 7, 0),
    ],
    624: [
        ('Updates from Rust Community', 'updates_from_rust_community', 30, 30),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 7, 0),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 5),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 81, 68),
        ('Upcoming Events', 'upcoming_events', 66, 63),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 18, 11),
    ],
    623: [
        ('Updates from Rust Community', 'updates_from_rust_community', 33, 33),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 7, 0),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 1),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 96, 84),
        ('Upcoming Events', 'upcoming_events', 67, 63),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 7, 0),
    ],
    622: [
        ('Updates from Rust Community', 'updates_from_rust_community', 33, 33),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 8, 0),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 3),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 72, 61),
        ('Upcoming Events', 'upcoming_events', 66, 62),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 7, 0),
    ],
    621: [
        ('Updates from Rust Community', 'updates_from_rust_community', 32, 32),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 4, 0),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 4),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 67, 54),
        ('Upcoming Events', 'upcoming_events', 65, 63),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 9, 0),
    ],
    620: [
        ('Updates from Rust Community', 'updates_from_rust_community', 31, 31),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 7, 0),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 1),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 63, 52),
        ('Upcoming Events', 'upcoming_events', 65, 63),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 7, 0),
    ],
    619: [
        ('Updates from Rust Community', 'updates_from_rust_community', 24, 24),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 7, 2),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 5),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 78, 69),
        ('Upcoming Events', 'upcoming_events', 61, 59),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 7, 0),
    ],
    618: [
        ('Updates from Rust Community', 'updates_from_rust_community', 26, 26),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 4, 0),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 4),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 61, 51),
        ('Upcoming Events', 'upcoming_events', 61, 59),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 7, 0),
    ],
    617: [
        ('Updates from Rust Community', 'updates_from_rust_community', 30, 30),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 4, 0),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 1),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 69, 59),
        ('Upcoming Events', 'upcoming_events', 51, 49),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 7, 0),
    ],
    616: [
        ('Updates from Rust Community', 'updates_from_rust_community', 12, 12),
        ('Crate of the Week', 'crate_of_the_week', 3, 0),
        ('Calls for Testing', 'calls_for_testing', 7, 0),
        ('Call for Participation; projects and speakers', 'call_for_participation_projects_and_speakers', 2, 0),
        ('Updates from the Rust Project', 'updates_from_the_rust_project', 37, 29),
        ('Upcoming Events', 'upcoming_events', 46, 44),
        ('Jobs', 'jobs', 1, 0),
        ('Quote of the Week', 'quote_of_the_week', 7, 0),
    ],
}


class HeadingsAndLinkEntries(HTMLParser):
    """html.parser's view of one entry: its <h1>/<h2> texts in order, and per heading the link
    texts of list entries that start with a link (after optional "[tag]" text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[tuple[str, list[str]]] = []
        self._heading: list[str] | None = None
        self._entry = False  # inside an <li>, before anything but tags and wrappers
        self._link: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h1", "h2"):
            self._heading = []
        elif tag == "li":
            self._entry = True
        elif tag == "a" and self._entry and dict(attrs).get("href"):
            self._link, self._entry = [], False
        elif tag not in ("p", "strong", "b", "em", "i", "span"):
            self._entry = False

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2") and self._heading is not None:
            self.sections.append((" ".join("".join(self._heading).split()), []))
            self._heading = None
        elif tag == "a" and self._link is not None:
            if self.sections:
                self.sections[-1][1].append(" ".join("".join(self._link).split()))
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)
        if self._link is not None:
            self._link.append(data)
        elif self._entry and data.strip() and not re.fullmatch(r"\s*(?:\[[^\]]*\]\s*)*", data):
            self._entry = False


def independent_view(html: str) -> list[tuple[str, list[str]]]:
    parser = HeadingsAndLinkEntries()
    parser.feed(html)
    parser.close()
    return parser.sections


@pytest.fixture(scope="module")
def issues() -> dict[int, Issue]:
    parsed = parse_feed("twir", FEED.read_bytes())
    split = split_entries(parsed.entries, Config(), SectionAliases())
    assert all(issue.number is not None for issue in split)
    return {issue.number: issue for issue in split if issue.number is not None}


def test_every_entry_is_an_issue_with_its_number(issues: dict[int, Issue]) -> None:
    assert sorted(issues) == list(range(616, 636))
    assert all(issue.is_newsletter for issue in issues.values())
    assert {issue.newsletter for issue in issues.values()} == {"This Week in Rust"}
    assert {issue.language for issue in issues.values()} == {"en"}


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_sections_and_items(issues: dict[int, Issue], number: int) -> None:
    issue = issues[number]
    assert [(s.heading, s.key, len(s.items)) for s in issue.sections] == [row[:3] for row in EXPECTED[number]]


def test_table_matches_an_independent_reading() -> None:
    for entry in feedparser.parse(FEED.read_bytes()).entries:
        match = re.search(r"(\d+)$", entry.title)
        assert match is not None
        view = independent_view(entry.content[0].value)
        table = EXPECTED[int(match.group(1))]
        assert [(heading, len(links)) for heading, links in view] == [(row[0], row[3]) for row in table]


def test_list_entries_that_start_with_a_link_are_items_titled_by_it(issues: dict[int, Issue]) -> None:
    titled = total = 0
    for entry in feedparser.parse(FEED.read_bytes()).entries:
        number = int(entry.title.rsplit(" ", 1)[1])
        for (heading, links), section in zip(independent_view(entry.content[0].value), issues[number].sections,
                                             strict=True):
            assert heading == section.heading
            titles = [item.title for item in section.items]
            total += len(links)
            titled += sum(1 for text in links if text in titles)
    assert total > 2500
    assert titled / total >= 0.95


def test_keys_are_the_same_in_every_issue(issues: dict[int, Issue]) -> None:
    keys = {tuple(s.key for s in issue.sections) for issue in issues.values()}
    assert len(keys) == 1
    assert {"jobs", "crate_of_the_week", "quote_of_the_week"} <= set(next(iter(keys)))


# --------------------------------------------------------------------------- from its URL alone, as a user runs it
@pytest.fixture(scope="module")
def feed_url() -> Iterator[str]:
    handler = partial(SimpleHTTPRequestHandler, directory=str(FEED.parent))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{FEED.name}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def config(feed_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("twir")
    path = root / "config.toml"
    path.write_text(f'[storage]\npath = "{root / "twir.db"}"\n\n[[feeds]]\nname = "twir"\nurl = "{feed_url}"\n',
                    encoding="utf-8")
    result = CliRunner().invoke(main, ["ingest", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "20 new" in result.output
    return path


def test_preview_json_gives_each_issues_headings_as_sections(config: Path) -> None:
    result = CliRunner().invoke(main, ["preview", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert sorted(edition["number"] for edition in data) == list(range(616, 636))
    for edition in data:
        headings = [section["heading"] for section in edition["sections"]]
        assert headings == [row[0] for row in EXPECTED[edition["number"]]]


@pytest.mark.parametrize(("command", "expected"), [
    ("/latest", "This Week in Rust #635 (EN)"),
    ("/sections", "Quote of the Week"),
    ("/section jobs", "Jobs — This Week in Rust #635 (EN)"),
    ("/section crate", "Crate of the Week — This Week in Rust #635 (EN)"),
    ("/search tokio", "This Week in Rust #"),
    ("/help", "I split This Week in Rust into sections"),
])
def test_chat_commands_answer_with_the_newsletters_name(config: Path, command: str, expected: str) -> None:
    result = CliRunner().invoke(main, ["ask", command, "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert expected in result.output
    assert "This Week in Rust" in result.output
    assert "NLP" not in result.output


def test_subscribe_takes_a_section_key_that_exists_in_every_issue(config: Path) -> None:
    result = CliRunner().invoke(main, ["ask", "/subscribe jobs", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "Subscribed" in result.output and "Jobs" in result.output  # the name readers know, not the key
