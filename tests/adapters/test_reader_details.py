"""The small things a reader notices, on every face: the console, Telegram and Discord fakes (`ask` as a
process: tests/e2e/test_cli.py)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import pytest
import pytest_asyncio

from adapters.console import ConsoleRenderer
from adapters.discord.render import DiscordRenderer
from bot.chat.commands import Query, parse_command
from bot.chat.query import QueryEngine
from bot.core.messages import DigestPost, IndexEntry, IndexPost, SectionPost
from bot.core.models import SectionRef
from bot.ports import Destination
from bot.storage.store import Store
from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram
from tests.harness.corpus import corpus_issues
from tests.harness.serving import PRIVATE, telegram_answering

COMMANDS = ("/help", "/latest", "/sections", "/section outils", "/issues", "/search bert", "/section zzzz")
pytestmark = pytest.mark.corpus
_EMOJI = r"[\U0001F300-\U0001FAFF\u2600-\u27BF]\ufe0f?"


@pytest.fixture
def engine(store: Store) -> QueryEngine:
    return QueryEngine(store, default_lang="en")


def _doubled(text: str) -> list[str]:
    """Lines showing one emoji twice around a name ("📙 Publications 📙")."""
    found = []
    for line in text.split("\n"):
        emoji = re.findall(_EMOJI, line)
        if len(emoji) >= 2 and len(set(emoji)) < len(emoji):
            found.append(line)
    return found


# --------------------------------------------------------------------------- console
def test_console_replies_and_posts(engine: QueryEngine) -> None:
    console = ConsoleRenderer()
    for command in COMMANDS:
        for part in console.render_answer(engine.answer(Query(parse_command(command), lang="fr"))):
            assert part.text == part.text.lstrip(), (command, part.text[:40])
            assert not _doubled(part.text), command
    latest = "\n".join(p.text for p in console.render_answer(engine.answer(Query(parse_command("/latest"), lang="fr"))))
    assert latest.count("NLP Newsletter #7 (FR)") == 1
    for issue in corpus_issues()[:3]:
        for section in issue.sections:
            for part in console.render(SectionPost(issue.ref, section), Destination("c", "console", "")):
                assert not _doubled(part.text), part.text.split("\n")[0]
        index = IndexPost(issue.ref, tuple(
            IndexEntry(SectionRef(key=s.key, heading=s.heading, emoji=s.emoji, position=n), f"console://{s.key}")
            for n, s in enumerate(issue.sections)))
        digest = DigestPost(issue.ref, issue.sections)
        for post in (index, digest):
            for part in console.render(post, Destination("c", "console", "")):
                assert not _doubled(part.text), part.text


# --------------------------------------------------------------------------- Telegram
@pytest_asyncio.fixture
async def telegram(engine: QueryEngine) -> AsyncIterator[FakeTelegram]:
    async with telegram_answering(engine, time_scale=0.01) as fake:
        yield fake


def _has_reply(fake: FakeTelegram, chat: int) -> bool:
    return bool(fake.sent(chat))


async def test_telegram_replies(telegram: FakeTelegram) -> None:
    for n, command in enumerate(COMMANDS):  # one chat per command: the spam throttle allows 5 per 10 s
        chat = PRIVATE + 1 + n
        telegram.add_chat(chat, "private")
        telegram.user_says(chat, command, user_id=chat, language_code="fr")
        await telegram.wait_for(partial(_has_reply, telegram, chat))
        text = telegram.sent(chat)[0].text
        assert text == text.lstrip() and not _doubled(text), (command, text[:60])
        if command in ("/latest", "/sections"):
            assert text.count("NLP Newsletter #7 (FR)") == 1, text[:200]  # the issue is named once
    assert not telegram.rejected()


# --------------------------------------------------------------------------- Discord
def _opt(name: str, value: Any) -> dict[str, Any]:
    return {"name": name, "type": 3, "value": value}


async def test_discord_replies(discord_serving: FakeDiscord) -> None:
    for name, options in (("help", []), ("latest", []), ("sections", []), ("section", [_opt("name", "outils")]),
                          ("issues", [])):
        callback = await discord_serving.interact(name, options)
        content = callback["data"]["content"]
        assert content == content.lstrip() and not _doubled(content), (name, content[:60])
        if name in ("latest", "sections"):
            assert content.count("NLP Newsletter #7 (FR)") == 1, content[:200]
    help_ = await discord_serving.interact("help", locale="en-US")
    assert "\n/latest" in help_["data"]["content"]  # one command per line, not folded into one
    subscribed = await discord_serving.interact("subscribe", [_opt("sections", "outils +bert")], admin=True)
    assert "Outils et jeux de données" in subscribed["data"]["content"]
    assert "tools_datasets" not in subscribed["data"]["content"]
    assert discord_serving.rejected == []


def test_discord_posts_show_each_emoji_once() -> None:
    renderer = DiscordRenderer()
    for issue in corpus_issues()[:3]:
        for section in issue.sections:
            for part in renderer.render(SectionPost(issue.ref, section), Destination("d", "discord", "1")):
                assert not _doubled(str(part.payload.get("content", ""))), part.payload.get("content")
