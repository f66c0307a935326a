"""Opt-in mentions on Discord: one role, on the first message of an issue (or of a section), nothing else."""

from __future__ import annotations

import pytest

from adapters.discord import DiscordAdapter
from bot.core.messages import IndexEntry, IndexPost, SectionPost
from bot.core.models import Block, IssueRef, Item, Section, SectionRef, Span
from tests.fakes.discord import FakeDiscord
from tests.harness.destinations import destination

ROLE = "234567890123456789"
TOOLS_ROLE = "345678901234567890"
OTHER = "456789012345678901"
ISSUE = IssueRef("e", "https://example.org/issue", "Garden Weekly #4", "en", 4, newsletter="Garden Weekly")


def _section(key: str, position: int) -> Section:
    hostile = f"Hello @everyone, @here and <@&{OTHER}> and <@{OTHER}>: read this."
    item = Item(title=f"{key} news", body=(Block("paragraph", (Span(hostile),)),), links=("https://example.org/a",))
    return Section(key, key.title(), key.title(), "", position, (item,))


SECTIONS = (_section("publications", 0), _section("tools", 1), _section("education", 2))


async def _deliver(platform: DiscordAdapter, fake: FakeDiscord, **options: object) -> list[dict[str, object]]:
    channel = fake.default_channel
    dest = destination("dc", "discord", channel, **options)
    posts: list[SectionPost | IndexPost] = [SectionPost(ISSUE, s, notify=n == 0) for n, s in enumerate(SECTIONS)]
    posts.append(IndexPost(ISSUE, tuple(IndexEntry(SectionRef(s.key, s.heading, "", s.position), None)
                                        for s in SECTIONS)))
    for n, post in enumerate(posts):
        for m, part in enumerate(platform.renderer.render(post, dest)):
            await platform.sender.send(dest, part, key=f"{options}-{n}-{m}")
    return fake.channel_messages(channel)


@pytest.mark.parametrize("fmt", ["embeds", "text"])
async def test_mention_role_pings_that_role_once_per_issue(discord_platform: DiscordAdapter,
                                                           fake_discord: FakeDiscord, fmt: str) -> None:
    messages = await _deliver(discord_platform, fake_discord, mention_role=ROLE, format=fmt)
    assert [roles for _, roles in fake_discord.role_pings] == [[ROLE]]  # exactly one role, exactly once
    first, *rest = messages
    assert fake_discord.role_pings[0][0]["id"] == first["id"]
    assert str(first["content"]).startswith(f"<@&{ROLE}> ")
    assert first["allowed_mentions"] == {"parse": [], "roles": [int(ROLE)]}  # this role only
    assert first["flags"] == 0  # the ping notifies
    assert all(m["allowed_mentions"] == {"parse": []} and not m["mention_roles"] for m in rest)
    assert fake_discord.pings == []  # the feed's @everyone/@here and role mention ping nobody
    assert fake_discord.rejected == [] and fake_discord.rate_limited == []


async def test_mention_roles_per_section(discord_platform: DiscordAdapter, fake_discord: FakeDiscord) -> None:
    messages = await _deliver(discord_platform, fake_discord, mention_roles={"tools": TOOLS_ROLE})
    assert [roles for _, roles in fake_discord.role_pings] == [[TOOLS_ROLE]]
    [tools] = [m for m in messages if str(m["content"]).startswith(f"<@&{TOOLS_ROLE}> Tools")]
    assert tools["flags"] == 0  # a section's ping notifies even though it is not the issue's first post
    assert fake_discord.pings == [] and fake_discord.rejected == []


async def test_no_option_no_ping(discord_platform: DiscordAdapter, fake_discord: FakeDiscord) -> None:
    messages = await _deliver(discord_platform, fake_discord)
    assert fake_discord.role_pings == [] and fake_discord.pings == []
    assert all(m["allowed_mentions"] == {"parse": []} for m in messages)
