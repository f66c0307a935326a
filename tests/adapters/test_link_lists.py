"""Link lists read as lists: a section of links without text ("Updates from Rust Community") is compact by
default on both platforms, items with text keep the full layout, and everything stays within the strict fakes'
limits."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.console.render import render_post_text
from adapters.discord import DiscordAdapter
from adapters.discord.render import DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT, EMBEDS_PER_MESSAGE, embed_length
from adapters.telegram import TelegramAdapter
from bot.contract.presentation import Compact
from bot.core.messages import SectionAnswer, SectionPost
from bot.core.models import Block, Issue, IssueRef, Item, Section, Span
from bot.feeds.fetch import parse_feed
from bot.feeds.ingest import split_entries
from bot.settings.config import Config
from bot.splitting.sections import SectionAliases
from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram
from tests.harness.channels import CHAT, send_discord, send_telegram, strict_telegram
from tests.harness.destinations import destination
from tests.harness.paths import TWIR_FEED

FEED = TWIR_FEED


@pytest.fixture(scope="module")
def twir() -> Issue:
    parsed = parse_feed("twir", FEED.read_bytes())
    return max(split_entries(parsed.entries, Config(), SectionAliases()), key=lambda issue: issue.number or 0)


def _community(issue: Issue) -> Section:
    return next(s for s in issue.sections if s.heading == "Updates from Rust Community")


def _link(n: int, title_words: int = 8) -> Item:
    title = f"Link {n} " + " ".join(f"word{k}" for k in range(title_words))
    return Item(title=title, body=(), links=(f"https://example.org/{n}",))


def _story(n: int) -> Item:
    text = f"Story {n} is a paragraph of text about gardens and tomatoes."
    return Item(title=f"Story {n}", body=(Block("paragraph", (Span(text),)),), links=(f"https://example.org/s{n}",),
                sources=(f"https://example.org/s{n}",))


ISSUE = IssueRef("e", "https://example.org/issue", "Garden Weekly #4", "en", 4, newsletter="Garden Weekly")


def _section(*items: Item) -> Section:
    return Section("links", "Links 🔗", "Links", "🔗", 0, tuple(items))


# --------------------------------------------------------------------------- Telegram


async def test_telegram_community_links_are_one_message_of_linked_titles(
        telegram_channel: tuple[FakeTelegram, TelegramAdapter], twir: Issue) -> None:
    fake, platform = telegram_channel
    section = _community(twir)
    assert len(section.items) == 22
    await send_telegram(platform, SectionPost(twir.ref, section))
    [message] = fake.sent(CHAT)
    links = [e for e in message.entities if e["type"] == "text_link"]
    titles = {item.title for item in section.items}
    units = message.text.encode("utf-16-le")  # entity offsets count UTF-16 code units
    linked = {units[2 * e["offset"]:2 * (e["offset"] + e["length"])].decode("utf-16-le") for e in links}
    assert titles <= linked  # every title is the link
    assert "source" not in message.text
    assert sum(line.startswith("• ") for line in message.text.split("\n")) == 22
    await send_telegram(platform, SectionPost(twir.ref, section), compact=False)  # today's layout, forced
    full = fake.sent(CHAT)[1:]
    assert sum(m.text.count("🔗 source") for m in full) == 22
    strict_telegram(fake)


async def test_telegram_items_with_text_keep_their_layout_between_list_lines(
        telegram_channel: tuple[FakeTelegram, TelegramAdapter]) -> None:
    fake, platform = telegram_channel
    await send_telegram(platform, SectionPost(ISSUE, _section(_story(1), _link(1), _link(2), _story(2), _link(3))))
    [message] = fake.sent(CHAT)
    body = message.text.split("\n\n", 1)[1]
    assert body.split("\n\n") == [
        "Story 1\nStory 1 is a paragraph of text about gardens and tomatoes.\n🔗 source",
        "• Link 1 word0 word1 word2 word3 word4 word5 word6 word7\n"
        "• Link 2 word0 word1 word2 word3 word4 word5 word6 word7",
        "Story 2\nStory 2 is a paragraph of text about gardens and tomatoes.\n🔗 source",
        "• Link 3 word0 word1 word2 word3 word4 word5 word6 word7"]
    strict_telegram(fake)


async def test_telegram_a_long_link_list_fills_messages_within_the_limit(
        telegram_channel: tuple[FakeTelegram, TelegramAdapter]) -> None:
    fake, platform = telegram_channel
    await send_telegram(platform, SectionPost(ISSUE, _section(*(_link(n, 20) for n in range(300)))))
    messages = fake.sent(CHAT)
    assert all(len(m.text) <= 4096 for m in messages)
    lines = sum(line.startswith("• ") for m in messages for line in m.text.split("\n"))
    assert lines == 300
    assert len(messages) <= 300 * 150 // 3500 + 2  # many links per message
    strict_telegram(fake)


# --------------------------------------------------------------------------- Discord
def _within_limits(messages: list[dict[str, Any]]) -> None:
    for message in messages:
        embeds = message["embeds"]
        assert len(embeds) <= EMBEDS_PER_MESSAGE
        assert sum(map(embed_length, embeds)) <= EMBED_TOTAL_LIMIT
        assert all(len(e.get("description", "")) <= DESCRIPTION_LIMIT for e in embeds)


async def test_discord_community_links_are_one_embed(discord_platform: DiscordAdapter, fake_discord: FakeDiscord,
                                                     twir: Issue) -> None:
    section = _community(twir)
    [message] = await send_discord(discord_platform, fake_discord, SectionPost(twir.ref, section))
    [embed] = message["embeds"]
    lines = embed["description"].split("\n")
    assert len(lines) == 22
    first = section.items[0]
    assert lines[0] == f"- [{first.title}]({first.url})"
    full = await send_discord(discord_platform, fake_discord, SectionPost(twir.ref, section), compact=False)
    assert len(full) == 3 and sum(len(m["embeds"]) for m in full) == 22  # today's layout: one embed per link
    assert fake_discord.rejected == [] and fake_discord.rate_limited == []


async def test_discord_text_items_keep_their_embed_and_links_between_them_are_listed(
        discord_platform: DiscordAdapter, fake_discord: FakeDiscord) -> None:
    section = _section(_story(1), _link(1), _link(2), _story(2), _link(3))
    [message] = await send_discord(discord_platform, fake_discord, SectionPost(ISSUE, section))
    embeds = message["embeds"]
    assert [e.get("title") for e in embeds] == ["Story 1", None, "Story 2", None]
    assert embeds[1]["description"].count("\n- [Link") == 1 and embeds[3]["description"].startswith("- [Link 3")
    assert fake_discord.rejected == [] and fake_discord.rate_limited == []


async def test_discord_a_long_link_list_stays_within_every_limit(discord_platform: DiscordAdapter,
                                                                 fake_discord: FakeDiscord) -> None:
    messages = await send_discord(discord_platform, fake_discord,
                                   SectionPost(ISSUE, _section(*(_link(n, 20) for n in range(300)))))
    _within_limits(messages)
    descriptions = [e["description"] for m in messages for e in m["embeds"]]
    assert sum(d.count("- [Link") for d in descriptions) == 300
    assert len(messages) <= sum(map(len, descriptions)) // 5000 + 1  # messages filled, not one embed each
    assert fake_discord.rejected == [] and fake_discord.rate_limited == []


def test_section_answers_show_link_lists_compactly_on_both_platforms(twir: Issue) -> None:
    from adapters.discord.render import DiscordRenderer
    from adapters.telegram.render import TelegramRenderer

    section = _community(twir)
    answer = SectionAnswer(lang="en", issue=twir.ref, section=section, sections=(), page=1, page_count=1)
    [telegram] = TelegramRenderer().render_answer(answer)
    assert telegram.text.count("\n• ") == 22
    [discord] = DiscordRenderer().render_answer(answer)
    assert len(discord.payload["embeds"]) == 1


def test_console_lists_links_one_per_line(twir: Issue) -> None:
    [text] = render_post_text(SectionPost(twir.ref, _community(twir)), 10_000)
    assert text.count("\n• ") == 22 and "\n\n• " in text and "\n\n\n" not in text


@pytest.mark.parametrize(("written", "compact"), [({}, Compact.AUTO), ({"compact": "auto"}, Compact.AUTO),
                                                  ({"compact": True}, Compact.ALWAYS),
                                                  ({"compact": False}, Compact.NEVER)])
def test_compact_is_three_way_and_survives_a_stored_round_trip(written: dict[str, Any], compact: Compact) -> None:
    from bot.contract.destination import destination_from_json, destination_to_json

    dest = destination("d", "telegram", "-1001", **written)
    assert dest.presentation.compact is compact
    assert destination_from_json(destination_to_json(dest)).presentation.compact is compact
