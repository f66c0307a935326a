"""Chat answers scoped to a chat's newsletters, on both fake platforms with the real client libraries.

Two newsletters are stored (the NLP Newsletter corpus as feed "nlp", This Week in Rust as feed
"twir"). A Telegram group is the TWIR destination and a Discord channel the NLP one: there,
/latest, /sections, /section, /search and the autocomplete answer from that destination's feed
only. A private chat (or another channel) answers from every feed, each answer naming its
newsletter; naming a newsletter (`/latest rust`, `/section rust: jobs`, Discord's `newsletter`
option) picks it anywhere.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio

from bot.chat.commands import Latest, Query, SearchCommand, SectionCommand, SectionsCommand, parse_command
from bot.chat.query import QueryEngine
from bot.contract.destination import Destination
from bot.contract.schedule import parse_schedule
from bot.core.messages import ErrorAnswer, SearchResults, SectionAnswer, SectionList
from bot.feeds.ingest import Ingestor
from bot.settings.config import Config
from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram
from tests.harness.corpus import corpus_store
from tests.harness.paths import TWIR_FEED
from tests.harness.serving import PRIVATE, telegram_answering

TWIR = TWIR_FEED
RUST_GROUP = -1001234567001
NLP_CHANNEL_NAME = "nlp-digest"


def _destination(name: str, platform: str, chat: str, feeds: tuple[str, ...]) -> Destination:
    return Destination(name=name, platform=platform, chat=chat, feeds=feeds, schedule=parse_schedule("on_publish"))


def _two_newsletter_engine(nlp_channel: str = "111111111111111111") -> QueryEngine:
    store = corpus_store()
    Ingestor(store, Config()).ingest_bytes(TWIR.read_bytes(), "twir")
    return QueryEngine(store, destinations=[
        _destination("rust-tg", "telegram", str(RUST_GROUP), ("twir",)),
        _destination("nlp-dc", "discord", nlp_channel, ("nlp",)),
    ])


def _ask(engine: QueryEngine, text: str, *, platform: str = "console", chat: str = "") -> Any:
    return engine.answer(Query(parse_command(text), lang="en", platform=platform, chat=chat))


# --------------------------------------------------------------------------- the engine
def test_a_destination_chat_answers_from_its_feeds_and_any_other_chat_from_every_feed() -> None:
    engine = _two_newsletter_engine()
    rust = str(RUST_GROUP)
    latest = _ask(engine, "/latest", platform="telegram", chat=rust)
    assert isinstance(latest, SectionList) and latest.issue.label == "This Week in Rust #635 (EN)"
    nlp = _ask(engine, "/latest", platform="discord", chat="111111111111111111")
    assert isinstance(nlp, SectionList) and nlp.issue.newsletter == "NLP Newsletter"
    anywhere = _ask(engine, "/latest", chat="someone")
    assert isinstance(anywhere, SectionList) and anywhere.issue.newsletter == "This Week in Rust"  # the newest
    scoped = _ask(engine, "/search bert", platform="telegram", chat=rust)
    assert isinstance(scoped, SearchResults) and scoped.hits == ()
    everywhere = _ask(engine, "/search bert", chat="someone")
    assert isinstance(everywhere, SearchResults) and everywhere.hits
    assert {hit.issue.newsletter for hit in everywhere.hits} == {"NLP Newsletter"}


def test_a_newsletter_named_in_the_command_picks_it_anywhere() -> None:
    engine = _two_newsletter_engine()
    rust = str(RUST_GROUP)
    assert parse_command("/section rust: jobs 634") == SectionCommand("jobs", 634, "rust")
    assert parse_command("/sections nlp 5") == SectionsCommand(5, "nlp")
    assert parse_command("/search This Week in Rust: async") == SearchCommand("async", "This Week in Rust")
    assert parse_command("/latest twir") == Latest("twir")
    assert parse_command("/search https://arxiv.org/abs/1") == SearchCommand("https://arxiv.org/abs/1")
    assert parse_command("/search 简报：工具") == SearchCommand("简报：工具")  # a full-width colon is text
    nlp_here = _ask(engine, "/latest nlp", platform="telegram", chat=rust)
    assert isinstance(nlp_here, SectionList) and nlp_here.issue.newsletter == "NLP Newsletter"
    jobs = _ask(engine, "/section rust: jobs 634", chat="someone")
    assert isinstance(jobs, SectionAnswer) and jobs.issue.label == "This Week in Rust #634 (EN)"
    assert jobs.section.key == "jobs"
    five = _ask(engine, "/sections NLP Newsletter 5", chat="someone")
    assert isinstance(five, SectionList) and five.issue.label.startswith("NLP Newsletter #5")
    unknown = _ask(engine, "/latest gardening", chat="someone")
    assert isinstance(unknown, ErrorAnswer)
    assert "gardening" in unknown.message and "This Week in Rust" in unknown.message
    assert engine.newsletter_choices("ru") == ["This Week in Rust"]


def test_autocomplete_offers_the_sections_of_the_chats_newsletters() -> None:
    engine = _two_newsletter_engine()
    rust = engine.feeds_for("telegram", str(RUST_GROUP))
    assert rust == ("twir",)
    assert [value for _, value in engine.section_choices("jobs", "en", feeds=rust or ())] == ["jobs"]
    nlp = engine.feeds_for("discord", "111111111111111111") or ()
    assert "jobs" not in [value for _, value in engine.section_choices("jobs", "en", feeds=nlp)]
    assert "tools_datasets" in [value for _, value in engine.section_choices("tools", "en", feeds=nlp)]


# --------------------------------------------------------------------------- Telegram
async def _say(fake: FakeTelegram, chat: int, text: str) -> str:
    before = len(fake.sent(chat))
    fake.user_says(chat, text, user_id=PRIVATE, language_code="en")
    await fake.wait_for(lambda: len(fake.sent(chat)) > before)
    return fake.sent(chat)[before].text


async def test_telegram_group_that_is_the_rust_destination_answers_rust_and_a_private_chat_names_each() -> None:
    engine = _two_newsletter_engine()
    async with telegram_answering(engine) as fake:
        fake.add_chat(RUST_GROUP, "supergroup")
        assert "This Week in Rust #635 (EN)" in await _say(fake, RUST_GROUP, "/latest")
        assert "This Week in Rust #635 (EN)" in await _say(fake, RUST_GROUP, "/sections")
        in_group = await _say(fake, RUST_GROUP, "/section tools")  # NLP has Tools; TWIR does not
        assert "NLP Newsletter" not in in_group
        assert "NLP Newsletter #7" in await _say(fake, PRIVATE, "/latest nlp")
        private = await _say(fake, PRIVATE, "/search bert")
        assert "NLP Newsletter" in private
        assert "This Week in Rust" in await _say(fake, PRIVATE, "/search rust: async")
        help_text = await _say(fake, PRIVATE, "/help")
        assert "/latest rust" in help_text and "/section rust: jobs" in help_text


# --------------------------------------------------------------------------- Discord
@pytest_asyncio.fixture
async def engine(fake_discord: FakeDiscord) -> QueryEngine:
    """The two newsletters, with the fake's default channel as the NLP destination."""
    return _two_newsletter_engine(fake_discord.default_channel)


def _opt(name: str, value: Any, focused: bool = False) -> dict[str, Any]:
    option: dict[str, Any] = {"name": name, "type": 3, "value": value}
    if focused:
        option["focused"] = True
    return option


async def test_discord_channel_that_is_the_nlp_destination_answers_nlp_and_the_newsletter_option_picks(
        discord_serving: FakeDiscord) -> None:
    latest = await discord_serving.interact("latest", locale="en-US")
    assert "NLP Newsletter #7" in latest["data"]["content"]
    rust = await discord_serving.interact("latest", [_opt("newsletter", "rust")], locale="en-US")
    assert "This Week in Rust #635 (EN)" in rust["data"]["content"]
    other = discord_serving.add_channel("general")
    elsewhere = await discord_serving.interact("latest", channel=other, locale="en-US")
    assert "This Week in Rust #635 (EN)" in elsewhere["data"]["content"]
    here = await discord_serving.interact("section", [_opt("name", "job", focused=True), _opt("language", "en")],
                                          kind=4)
    assert "jobs" not in [c["value"] for c in here["data"]["choices"]]
    there = await discord_serving.interact("section", [_opt("name", "job", focused=True), _opt("language", "en")],
                                           kind=4, channel=other)
    assert "jobs" in [c["value"] for c in there["data"]["choices"]]
    named = await discord_serving.interact("latest", [_opt("newsletter", "ru", focused=True)], kind=4)
    assert [c["value"] for c in named["data"]["choices"]] == ["This Week in Rust"]
    options = {c["name"]: c for c in discord_serving.commands}["latest"]["options"]
    assert any(o["name"] == "newsletter" and o["autocomplete"] for o in options)


@pytest.mark.parametrize("lang", ["en", "fr", "es", "pt-br", "tr", "zh", "ar"])
def test_help_says_how_to_name_a_newsletter_in_every_language(lang: str) -> None:
    from bot.core.i18n import t

    text = t("query.help", lang, name="X")
    assert "/latest rust" in text and "/section rust: jobs" in text and "/search rust: async" in text
    unknown = t("query.newsletter_unknown", lang, name="Qq", known="Kk")
    english = t("query.newsletter_unknown", "en", name="Qq", known="Kk")
    assert "Qq" in unknown and "Kk" in unknown and (unknown != english or lang == "en")


def test_a_chat_subscribed_at_runtime_answers_from_its_subscriptions_feeds() -> None:
    engine = _two_newsletter_engine()
    engine.store.save_subscription(_destination("telegram:-1009", "telegram", "-1009", ("nlp",)))
    answer = _ask(engine, "/latest", platform="telegram", chat="-1009")
    assert isinstance(answer, SectionList) and answer.issue.newsletter == "NLP Newsletter"
    assert engine.feeds_for("telegram", "-1010") == ()
