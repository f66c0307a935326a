"""Topic filters (`include`/`exclude`) from config and from `/subscribe`, through the real pipeline and clients.

The planner → outbox → worker path posts only the items that pass; a section left empty is
not posted and the index lists exactly what was. Expected sections are found with a plain
word search of the stored text, independent of the filter's own code.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.discord import DiscordAdapter
from adapters.telegram import telegram_adapter
from bot.chat.commands import Query, Subscribe, parse_command
from bot.chat.query import QueryEngine
from bot.contract.filters import ItemFilter
from bot.core.messages import ErrorAnswer, Notice, Subscribed
from bot.core.models import Block, Issue, Item, Span
from bot.feeds.ingest import Ingestor
from bot.ports import Destination
from bot.settings.config import Config, DestinationConfig, FeedConfig
from bot.storage.store import Store
from scheduler.service import DeliveryService
from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram
from tests.harness.corpus import CORPUS

TOKEN = "424242:AAH-secret_token_value_0123456789"
SCALE = 0.002
CHANNEL = -1001234


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


def _mentions(issue: Issue, word: str) -> list[str]:
    """Titles of the sections having an item whose title or text has `word` as a whole word."""
    pattern = re.compile(rf"(?<!\w){re.escape(_plain(word))}(?!\w)")
    return [s.title for s in issue.sections
            if any(pattern.search(_plain(f"{i.title} {i.text}")) for i in s.items)]


def _item(title: str, text: str) -> Item:
    return Item(title=title, body=(Block("paragraph", (Span(text),)),))


# --------------------------------------------------------------------------- the filter itself
@pytest.mark.parametrize(("include", "exclude", "kept"), [
    (("bert",), (), [True, False, True, False]),
    (("BÉRT",), (), [True, False, True, False]),  # case and accents do not matter
    (("modele de langue",), (), [False, False, False, True]),  # a phrase, accents and spaces folded
    ((), ("crypto",), [True, True, True, False]),
    (("bert",), ("gpu",), [True, False, False, False]),
])
def test_item_filter_words_and_phrases(include: tuple[str, ...], exclude: tuple[str, ...], kept: list[bool]) -> None:
    items = [_item("BERT, again", "A model."), _item("RoBERTa", "Not the same word."),
             _item("", "Fine-tuning bert on one GPU."), _item("Un modèle  de langue", "crypto tokens")]
    keep = ItemFilter(include, exclude)
    assert [keep.keeps(item) for item in items] == kept


def test_item_filter_terms_are_not_patterns() -> None:
    keep = ItemFilter(include=("(a+)+$",))
    assert not keep.keeps(_item("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", ""))
    assert keep.keeps(_item("the (a+)+$ regex", ""))  # the folded words "a" match as words


# --------------------------------------------------------------------------- Telegram pipeline
@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN, time_scale=SCALE) as fake:
        fake.add_chat(CHANNEL, "channel", username="digest_fr")
        yield fake


async def _run(service: DeliveryService, rounds: int = 4) -> None:
    for _ in range(rounds):  # the index is queued once the last section is out
        await service.run_once()


async def test_telegram_include_posts_only_matching_sections_and_indexes_them(fake: FakeTelegram,
                                                                             tmp_path: Path) -> None:
    config = Config(feeds=[FeedConfig(name="nlp", url=str(CORPUS))],
                    destinations=[DestinationConfig(name="fr-bert", platform="telegram", chat="@digest_fr",
                                                    languages=["fr"], include=["Bert"])])
    store = Store(tmp_path / "bot.db")
    platform = telegram_adapter(TOKEN, base_url=fake.base_url, time_scale=SCALE)
    service = DeliveryService(config, store, {"telegram": platform}, Ingestor(store, config))
    await platform.sender.start()
    try:
        await _run(service)
    finally:
        await platform.close()
    latest = store.latest("fr")
    assert latest is not None
    expected = _mentions(latest, "bert")
    assert 2 <= len(expected) < len(latest.sections)
    messages = fake.sent(CHANNEL)
    posted = [t for t in (s.title for s in latest.sections) if any(t in m.text.split("\n")[0] for m in messages[:-1])]
    assert posted == expected
    index = messages[-1]
    assert index.text.startswith("📚")
    assert [e for e in index.entities if e["type"] == "text_link" and "t.me" in e["url"]].__len__() == len(expected)
    assert all("bert" in _plain(m.text) for m in messages[:-1])
    assert fake.rejected() == [] and not any(r.status == 429 for r in fake.requests)
    store.close()


# --------------------------------------------------------------------------- Discord pipeline
async def test_discord_exclude_drops_items_and_empty_sections(discord_platform: DiscordAdapter,
                                                              fake_discord: FakeDiscord, tmp_path: Path) -> None:
    channel = fake_discord.default_channel
    config = Config(feeds=[FeedConfig(name="nlp", url=str(CORPUS))],
                    destinations=[DestinationConfig(name="fr-no-bert", platform="discord", channel=channel,
                                                    languages=["fr"], exclude=["bert"], index=False)])
    store = Store(tmp_path / "bot.db")
    service = DeliveryService(config, store, {"discord": discord_platform}, Ingestor(store, config))
    await _run(service, 2)
    latest = store.latest("fr")
    assert latest is not None
    messages = fake_discord.channel_messages(channel)
    text = "\n".join(m["content"] + " ".join(str(e) for e in m.get("embeds") or ()) for m in messages)
    assert messages and "bert" not in [w for w in re.findall(r"\w+", _plain(text))]
    assert fake_discord.rejected == [] and fake_discord.rate_limited == []
    store.close()


# --------------------------------------------------------------------------- /subscribe
def _engine(store: Store, *dests: Destination) -> QueryEngine:
    return QueryEngine(store, default_lang="en", destinations=dests)


@pytest.mark.corpus
def test_subscribe_parses_filters_and_names_sections(store: Store) -> None:
    engine = _engine(store)
    command = parse_command('/subscribe outils +bert -"crypto  monnaie" | cron 0 9 * * 1')
    assert command == Subscribe(("outils",), "cron 0 9 * * 1", ("bert",), ("crypto monnaie",))
    answer = engine.answer(Query(command, lang="fr", platform="telegram", chat="42", user="7"))
    assert isinstance(answer, Subscribed)
    assert "Outils et jeux de données" in answer.message and "tools_datasets" not in answer.message
    assert "« bert »" in answer.message or "“bert”" in answer.message
    [sub] = store.subscriptions("telegram")
    assert sub.filters.include == ("bert",) and sub.filters.exclude == ("crypto monnaie",)
    bad = engine.answer(Query(parse_command("/subscribe +!!!"), lang="en", platform="telegram", chat="42"))
    assert isinstance(bad, ErrorAnswer) and "filter" in bad.message


async def test_subscribe_in_a_configured_chat_updates_it_without_reposting(
        discord_platform: DiscordAdapter, fake_discord: FakeDiscord, tmp_path: Path) -> None:
    channel = fake_discord.default_channel
    config = Config(feeds=[FeedConfig(name="nlp", url=str(CORPUS))],
                    destinations=[DestinationConfig(name="fr-discord", platform="discord", channel=channel,
                                                    languages=["fr"], index=False)])
    store = Store(tmp_path / "bot.db")
    service = DeliveryService(config, store, {"discord": discord_platform}, Ingestor(store, config))
    await _run(service, 2)
    before = len(fake_discord.channel_messages(channel))
    assert before > 0
    engine = _engine(store, *service.destinations().values())
    answer = engine.answer(Query(parse_command("/subscribe outils +bert"), lang="en", platform="discord",
                                 chat=channel, user="9", is_admin=True, is_private=False))
    assert isinstance(answer, Subscribed) and answer.destination == "fr-discord"
    assert answer.message.startswith("Updated:") and "French" in answer.message
    assert [d.name for d in store.subscriptions()] == ["fr-discord"]
    service = DeliveryService(config, store, {"discord": discord_platform}, Ingestor(store, config))  # as running
    await _run(service, 2)
    updated = service.destinations()["fr-discord"]
    assert updated.sections == ("tools_datasets",) and updated.filters.include == ("bert",)
    assert updated.languages == ("fr",) and len(service.destinations()) == 1
    assert len(fake_discord.channel_messages(channel)) == before  # what it just received is not posted again
    undone = engine.answer(Query(parse_command("/unsubscribe"), lang="en", platform="discord", chat=channel,
                                 is_admin=True, is_private=False))
    assert isinstance(undone, Notice) and "config.toml" in undone.message
    assert store.subscriptions() == []  # back to the configured selection
    store.close()


async def test_subscribe_with_filters_on_telegram(tmp_path: Path) -> None:
    store = Store(tmp_path / "bot.db")
    Ingestor(store, Config()).ingest_bytes(CORPUS.read_bytes(), "nlp")
    engine = _engine(store)
    async with FakeTelegram(TOKEN, time_scale=0.01) as fake:
        fake.add_chat(1001, "private")
        platform = telegram_adapter(TOKEN, base_url=fake.base_url, time_scale=0.01, poll_timeout=0.5)
        task = asyncio.create_task(platform.commands.serve(engine))
        await fake.wait_for(lambda: fake.pollers)
        try:
            fake.user_says(1001, '/subscribe tools -"crypto coin" +BERT', user_id=1001, language_code="en")
            await fake.wait_for(lambda: bool(fake.sent(1001)))
            reply: Any = fake.sent(1001)[0].text
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await platform.close()
    assert reply.startswith("Subscribed:") and "Tools" in reply and "tools_datasets" not in reply
    assert "“BERT”" in reply and "“crypto coin”" in reply
    [sub] = store.subscriptions("telegram")
    assert sub.filters.include == ("BERT",) and sub.filters.exclude == ("crypto coin",)
    assert fake.rejected() == []
    store.close()


async def test_telegram_subscribe_in_a_channel_configured_by_username_updates_it(tmp_path: Path) -> None:
    config = Config(feeds=[FeedConfig(name="nlp", url=str(CORPUS))],
                    destinations=[DestinationConfig(name="fr-channel", platform="telegram", chat="@digest_fr",
                                                    languages=["fr"])])
    store = Store(tmp_path / "bot.db")
    Ingestor(store, config).ingest_bytes(CORPUS.read_bytes(), "nlp")
    service = DeliveryService(config, store, {}, Ingestor(store, config))
    engine = _engine(store, *service.destinations().values())
    async with FakeTelegram(TOKEN, time_scale=0.01) as fake:
        fake.add_chat(CHANNEL, "channel", username="digest_fr")
        platform = telegram_adapter(TOKEN, base_url=fake.base_url, time_scale=0.01, poll_timeout=0.5)
        task = asyncio.create_task(platform.commands.serve(engine))
        await fake.wait_for(lambda: fake.pollers)
        try:
            fake.user_says(CHANNEL, "/subscribe outils -crypto")
            await fake.wait_for(lambda: bool(fake.sent(CHANNEL)))
            reply = fake.sent(CHANNEL)[0].text
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await platform.close()
    assert reply.startswith("Mis à jour") and "Outils et jeux de données" in reply  # the channel's language: fr
    assert [d.name for d in store.subscriptions()] == ["fr-channel"]
    assert fake.rejected() == []
    store.close()
