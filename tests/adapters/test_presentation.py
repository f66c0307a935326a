"""Posts that read well on a phone: presentation options through the real clients and the strict fakes."""

from __future__ import annotations

import pytest

from adapters.discord import DiscordAdapter
from adapters.telegram import TelegramAdapter
from adapters.telegram.layout import ITEM, Flow, pack
from adapters.telegram.markup import Fragment
from bot.core.messages import DigestPost, SectionPost
from bot.core.models import Block, Issue, IssueRef, Item, Section, Span
from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram
from tests.harness.channels import CHAT, send_discord, send_telegram, strict_telegram

ISSUE = IssueRef("e", "https://example.org/issue", "Garden Weekly #4", "en", 4, newsletter="Garden Weekly")


def _item(n: int, words: int = 40, *, title: bool = True, image: bool = False) -> Item:
    text = " ".join(f"Sentence {n}.{k} is about tomatoes and basil." for k in range(words // 6 + 1))
    return Item(title=f"Story {n}" if title else "", body=(Block("paragraph", (Span(text),)),),
                images=(f"https://img.example/{n}.png",) if image else (),
                links=(f"https://example.org/{n}",), sources=(f"https://example.org/{n}",))


def _section(*items: Item) -> Section:
    return Section("tools", "Tools 🛠️", "Tools", "🛠️", 0, tuple(items))


def _issue(section: Section) -> Issue:
    return Issue(entry_id="e", link=ISSUE.link, title=ISSUE.title, published=None, updated=None, language="en",
                 number=4, sections=(section,), newsletter="Garden Weekly")


# --------------------------------------------------------------------------- Telegram


def test_balanced_pack_evens_parts_where_greedy_leaves_a_stub() -> None:
    flow = Flow()
    for n in range(11):
        flow.add(Fragment.plain(f"item {n} " + "x" * 390), ITEM)
    greedy = [p.size for p in pack(flow, 3864, balanced=False)]
    balanced = [p.size for p in pack(flow, 3864)]
    assert len(greedy) == len(balanced) == 2 and min(greedy) < 0.25 * max(greedy)
    assert min(balanced) > 0.75 * max(balanced)


async def test_telegram_long_section_splits_into_parts_of_similar_length(
        telegram_channel: tuple[FakeTelegram, TelegramAdapter]) -> None:
    fake, platform = telegram_channel
    section = _section(*(_item(n, 60) for n in range(11)))  # ≈ 4.4k characters
    await send_telegram(platform, SectionPost(ISSUE, section))
    sizes = [len(m.text) for m in fake.sent(CHAT)]
    assert len(sizes) == 2 and min(sizes) > 0.7 * max(sizes), sizes
    assert all(m.text.split("\n\n", 1)[1].startswith("Story") for m in fake.sent(CHAT))  # cut between items
    strict_telegram(fake)


async def test_telegram_first_image_is_a_photo_only_when_the_section_fits_its_caption(
        telegram_channel: tuple[FakeTelegram, TelegramAdapter]) -> None:
    """A short section is one photo captioned with it; a long one keeps its two text messages, the first
    previewing the picture above the text (no photo plus a second message, no cut at 1,024 characters)."""
    fake, platform = telegram_channel
    short = _section(_item(1, 12, image=True), _item(2, 12))
    await send_telegram(platform, SectionPost(ISSUE, short), images="first")
    [photo] = fake.sent(CHAT)
    assert photo.method == "sendPhoto" and photo.photo == "https://img.example/1.png"
    assert "Story 1" in photo.text and "Story 2" in photo.text
    long = _section(*(_item(n, 60, image=n == 0) for n in range(11)))
    await send_telegram(platform, SectionPost(ISSUE, long), images="first")
    first, *rest = fake.sent(CHAT)[1:]
    assert first.method == "sendMessage" and first.text.startswith("🛠️ Tools (1/2)") and len(first.text) > 1024
    assert first.preview_url == "https://img.example/0.png" and first.preview_disabled is False
    assert len(rest) == 1 and rest[0].method == "sendMessage" and rest[0].preview_url is None
    strict_telegram(fake)


async def test_telegram_compact_and_max_item_chars(telegram_channel: tuple[FakeTelegram, TelegramAdapter]) -> None:
    fake, platform = telegram_channel
    section = _section(_item(1, 60), _item(2, 60, title=False))
    await send_telegram(platform, SectionPost(ISSUE, section), compact=True)
    lines = fake.sent(CHAT)[0].text.split("\n")
    assert lines[3:] == ["• Story 1", f"• {lines[4][2:]}"] and lines[4].startswith("• Sentence 2.0 is about")
    assert lines[4].endswith("…") and len(lines[4]) <= 84
    await send_telegram(platform, SectionPost(ISSUE, section), max_item_chars=120)
    text = fake.sent(CHAT)[1].text
    assert "Sentence 1.0 is about tomatoes and basil. Sentence 1.1 is about tomatoes and basil. …" in text
    assert "Sentence 1.5" not in text and text.count("🔗") == 2
    links = [e["url"] for e in fake.sent(CHAT)[1].entities if e["type"] == "text_link"]
    assert "https://example.org/1" in links
    strict_telegram(fake)


async def test_telegram_digest_names_untitled_items_by_their_first_words(
        telegram_channel: tuple[FakeTelegram, TelegramAdapter]) -> None:
    fake, platform = telegram_channel
    await send_telegram(platform, DigestPost(ISSUE, (_section(_item(1, 30, title=False), _item(2, 30)),)))
    text = fake.sent(CHAT)[0].text
    assert "• Sentence 1.0 is about tomatoes and basil." in text and "• Story 2" in text
    strict_telegram(fake)


# --------------------------------------------------------------------------- Discord
@pytest.mark.parametrize(("images", "field", "absent"), [
    ({}, "thumbnail", "image"), ({"images": "thumbnail"}, "thumbnail", "image"),
    ({"images": "full"}, "image", "thumbnail"), ({"images": "none"}, None, "image")])
async def test_discord_images_and_one_footer_per_message(discord_platform: DiscordAdapter, fake_discord: FakeDiscord,
                                                         images: dict[str, str], field: str | None,
                                                         absent: str) -> None:
    section = _section(*(_item(n, 30, image=True) for n in range(13)))
    messages = await send_discord(discord_platform, fake_discord, SectionPost(ISSUE, section), **images)
    assert len(messages) == 2
    for message in messages:
        embeds = message["embeds"]
        assert isinstance(embeds, list)
        assert [bool(e.get("footer")) for e in embeds] == [False] * (len(embeds) - 1) + [True]
        assert all(not e.get(absent) for e in embeds)
        if field is None:
            assert all(not e.get("thumbnail") for e in embeds)
        else:
            assert all(e[field]["url"].startswith("https://img.example/") for e in embeds)
    assert fake_discord.rejected == [] and fake_discord.rate_limited == []


async def test_discord_compact_max_item_chars_and_digest(discord_platform: DiscordAdapter,
                                                         fake_discord: FakeDiscord) -> None:
    section = _section(_item(1, 60), _item(2, 60, title=False))
    [compact] = await send_discord(discord_platform, fake_discord, SectionPost(ISSUE, section), compact=True)
    lines = str(compact["content"]).split("\n")
    assert lines[0].startswith("**🛠️ Tools — Garden Weekly #4 (EN)**") and len(lines) == 3
    assert lines[1] == "- [Story 1](<https://example.org/1>)" and lines[2].startswith("- [Sentence 2.0 is about")
    assert not compact["embeds"]
    [short] = await send_discord(discord_platform, fake_discord, SectionPost(ISSUE, section), max_item_chars=150)
    descriptions = [e["description"] for e in short["embeds"]]
    assert all(len(d) <= 150 and "…" in d and "(https://example.org/" in d for d in descriptions)
    [digest] = await send_discord(discord_platform, fake_discord, DigestPost(ISSUE, (section,)))
    description = digest["embeds"][0]["description"]
    assert "Sentence 2.0 is about" in description and "2 " not in description.split("\n")[0][:2]
    assert fake_discord.rejected == [] and fake_discord.rate_limited == []


async def test_discord_digest_of_many_long_sections_fits_and_has_one_footer_per_message(
        discord_platform: DiscordAdapter, fake_discord: FakeDiscord) -> None:
    sections = tuple(Section(f"s{n}", f"Part {n}", f"Part {n}", "", n, tuple(_item(k, 6) for k in range(30)))
                     for n in range(10))
    messages = await send_discord(discord_platform, fake_discord, DigestPost(ISSUE, sections))
    assert len(messages) >= 2  # 10 long sections do not fit in one message's 6000 characters
    for message in messages:
        assert [bool(e.get("footer")) for e in message["embeds"]] == [False] * (len(message["embeds"]) - 1) + [True]
    assert fake_discord.rejected == [] and fake_discord.rate_limited == []
