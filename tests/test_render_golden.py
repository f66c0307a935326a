"""Every corpus part rendered for every platform, compared byte for byte with a recorded digest.

What a refactoring must not change: the messages a channel gets. Both corpora (the bundled NLP
Newsletter snapshot and This Week in Rust #616–#635) are split by the real engine; every section,
a digest and an index of every issue are rendered by each platform's renderer under the
presentations a maintainer can choose (Telegram with and without pictures, Discord embeds and
text, compact on and off, a length cap), and the rendered payloads are hashed per issue and face.

A deliberate change of rendering updates the record: `DIGESTBOT_UPDATE_GOLDEN=1 pytest
tests/test_render_golden.py`, and the diff of `tests/data/render-golden.json` shows which issues and
faces changed. Any other difference fails with the list of what differs.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from adapters.console import ConsoleRenderer
from adapters.discord.render import DiscordRenderer
from adapters.telegram.render import TelegramRenderer
from bot.core.messages import DigestPost, IndexEntry, IndexPost, Post, SectionPost
from bot.core.models import Issue
from bot.feeds.fetch import parse_feed
from bot.feeds.ingest import split_entries
from bot.ports import Destination, Rendered
from bot.settings.config import Config
from bot.splitting.sections import SectionAliases
from tests.harness.corpus import corpus_issues
from tests.harness.destinations import destination

GOLDEN = Path(__file__).resolve().parent / "data" / "render-golden.json"
RUST = Path(__file__).resolve().parent / "data" / "this-week-in-rust-616-635.xml"

Render = Callable[[Post, Destination], Sequence[Rendered[Any]]]

# face name → (renderer, destination): every choice that changes what a message looks like
FACES: dict[str, tuple[Render, Destination]] = {
    "telegram": (TelegramRenderer().render, destination("t", "telegram", "-100")),
    "telegram-images": (TelegramRenderer().render, destination("t", "telegram", "-100", images="first",
                                                                 link_preview=True)),
    "telegram-full": (TelegramRenderer().render, destination("t", "telegram", "-100", compact=False)),
    "telegram-compact": (TelegramRenderer().render, destination("t", "telegram", "-100", compact=True,
                                                                  max_item_chars=200)),
    "discord": (DiscordRenderer().render, destination("d", "discord", "1")),
    "discord-text": (DiscordRenderer().render, destination("d", "discord", "1", format="text")),
    "discord-mention": (DiscordRenderer().render, destination("d", "discord", "1", images="none",
                                                                mention_role="123456789012345678")),
    "console": (ConsoleRenderer().render, destination("c", "console", "c")),
}


def _rust_issues() -> list[Issue]:
    parsed = parse_feed("twir", RUST.read_bytes())
    return [issue for issue in split_entries(parsed.entries, Config(), SectionAliases()) if issue.is_newsletter]


def _posts(issue: Issue) -> Iterator[Post]:
    for number, section in enumerate(issue.sections):
        yield SectionPost(issue=issue.ref, section=section, notify=number == 0)
    yield DigestPost(issue=issue.ref, sections=issue.sections)
    links = enumerate(issue.sections)
    entries = (IndexEntry(section=s.ref, url=f"https://example.org/m/{n}") for n, s in links)
    yield IndexPost(issue=issue.ref, entries=tuple(entries))


def _digests() -> dict[str, str]:
    """`<newsletter> <entry id> <face>` → sha256 of every rendered message of that issue, in order."""
    found: dict[str, str] = {}
    for corpus, issues in (("nlp", list(corpus_issues())), ("rust", _rust_issues())):
        for issue in issues:
            for face, (render, dest) in FACES.items():
                digest = hashlib.sha256()
                for post in _posts(issue):
                    for part in render(post, dest):
                        digest.update(json.dumps(part.to_json(), sort_keys=True, ensure_ascii=False).encode())
                        digest.update(b"\0")
                found[f"{corpus} {issue.entry_id} {face}"] = digest.hexdigest()
    return found


def test_every_corpus_part_renders_as_recorded() -> None:
    rendered = _digests()
    if os.environ.get("DIGESTBOT_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(rendered, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        pytest.skip("render-golden.json rewritten")
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert len(rendered) >= 8 * 30  # both corpora, every face: nothing silently left out
    changed = sorted(key for key in recorded.keys() | rendered.keys() if recorded.get(key) != rendered.get(key))
    assert not changed, f"{len(changed)} renderings differ from tests/data/render-golden.json: {changed[:10]}"
