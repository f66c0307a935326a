"""Delivery end to end: the real discord.py client against the fake Discord on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from adapters.discord import DiscordAdapter, Pacer
from bot.core.errors import DestinationForbidden, Rejected, RetryLater
from bot.core.messages import SectionPost
from bot.core.models import Block, IssueRef, Item, Section, Span
from bot.ports import Destination, Rendered
from bot.storage.store import Store
from tests.fakes.discord import TOKEN, FakeDiscord, fake_adapter
from tests.harness.corpus import deliver_sections
from tests.harness.destinations import destination

pytestmark = pytest.mark.corpus

def _dest(channel: str, **options: object) -> Destination:
    return destination(f"discord:{channel}", "discord", channel, **options)

_deliver = deliver_sections

async def test_channel_receives_every_section_of_latest_issue_once_in_order(
        discord_platform: DiscordAdapter, fake_discord: FakeDiscord, store: Store) -> None:
    issue = store.latest("fr")
    assert issue is not None
    dest = _dest(fake_discord.default_channel)
    sent = await _deliver(discord_platform, issue, dest)
    messages = fake_discord.channel_messages(fake_discord.default_channel)
    assert len(messages) == len(sent) >= len(issue.sections)
    headers = [m["content"] for m in messages]
    order = [next(n for n, s in enumerate(issue.sections) if h.startswith(
        discord_platform.renderer.section_header(issue.ref, s))) for h in headers]
    assert order == sorted(order) and set(order) == set(range(len(issue.sections)))
    assert messages[0]["flags"] == 0 and all(m["flags"] == 1 << 12 for m in messages[1:])
    assert all(m["allowed_mentions"] == {"parse": []} for m in messages)
    assert fake_discord.rejected == [] and fake_discord.rate_limited == []
    assert sent[0].url == (f"https://discord.com/channels/{fake_discord.guild_id}/"
                           f"{fake_discord.default_channel}/{messages[0]['id']}")
    # A retry of the whole delivery (same outbox keys) duplicates nothing: nonce + enforce_nonce.
    again = await _deliver(discord_platform, issue, dest)
    assert again == sent
    assert len(fake_discord.channel_messages(fake_discord.default_channel)) == len(sent)
    assert all(r.body.get("enforce_nonce") is True for r in fake_discord.requests_to("POST", "/messages"))

@pytest.mark.parametrize("fmt", ["embeds", "text"])
async def test_whole_corpus_zero_rejected(discord_platform: DiscordAdapter, fake_discord: FakeDiscord,
                                          store: Store, fmt: str) -> None:
    issues = [store.get_issue(ref.entry_id) for ref in store.list_issues(limit=100)]
    channels = {i.entry_id: fake_discord.add_channel(f"c{n}") for n, i in enumerate(issues) if i}
    await asyncio.gather(*(_deliver(discord_platform, i, _dest(channels[i.entry_id], format=fmt))
                           for i in issues if i))
    total = sum(len(fake_discord.channel_messages(c)) for c in channels.values())
    assert total >= sum(len(i.sections) for i in issues if i)
    assert fake_discord.rejected == []
    assert fake_discord.rate_limited == []  # the pacer kept every channel under 5 per window

def _section_with(text: str) -> tuple[IssueRef, Section]:
    ref = IssueRef("e", "https://example.org/i", "NLP Newsletter #4", "fr", 4)
    item = Item(title="Alert @everyone", body=(Block("paragraph", (Span(text),)),))
    return ref, Section("publications", "Publications 📙 @here", "Publications @here", "📙", 0, (item,))

@pytest.mark.parametrize("fmt", ["embeds", "text"])
async def test_everyone_in_feed_text_pings_nobody(discord_platform: DiscordAdapter, fake_discord: FakeDiscord,
                                                  fmt: str) -> None:
    ref, section = _section_with("Hello @everyone and @here, read this.")
    dest = _dest(fake_discord.default_channel, format=fmt)
    for n, part in enumerate(discord_platform.renderer.render(SectionPost(ref, section), dest)):
        await discord_platform.sender.send(dest, part, key=f"ping-{fmt}-{n}")
    messages = fake_discord.channel_messages(fake_discord.default_channel)
    assert any("@everyone" in m["content"] or "@here" in m["content"] for m in messages)
    assert fake_discord.pings == [] and not any(m["mention_everyone"] for m in messages)

async def test_429_burst_is_survived_without_duplicates(discord_platform: DiscordAdapter,
                                                        fake_discord: FakeDiscord) -> None:
    dest = _dest(fake_discord.default_channel)
    fake_discord.inject_429(fake_discord.default_channel, count=3, retry_after=0.02)
    fake_discord.inject_429(count=1, retry_after=0.02, is_global=True)
    sent = await discord_platform.sender.send(dest, Rendered("text", "x", {"content": "after the burst"}), key="burst")
    assert len(fake_discord.rate_limited) == 4
    assert [m["content"] for m in fake_discord.channel_messages(fake_discord.default_channel)] == ["after the burst"]
    assert sent.message_ids == (fake_discord.channel_messages(fake_discord.default_channel)[0]["id"],)

async def test_long_rate_limit_becomes_retry_later(fake_discord: FakeDiscord) -> None:
    sender = fake_adapter(fake_discord, pacer=Pacer(global_window=0.1, channel_window=0.5),
                          max_ratelimit_timeout=1.0).sender
    await sender.start()
    try:
        fake_discord.inject_429(fake_discord.default_channel, retry_after=120.0)
        with pytest.raises(RetryLater) as caught:
            await sender.send(_dest(fake_discord.default_channel), Rendered("text", "x", {"content": "x"}), key="k")
        assert caught.value.retry_after == 120.0
    finally:
        await sender.close()

async def test_403_pauses_at_once_without_retry_loop(discord_platform: DiscordAdapter,
                                                     fake_discord: FakeDiscord) -> None:
    channel = fake_discord.add_channel("secret", forbidden=True)
    with pytest.raises(DestinationForbidden):
        await discord_platform.sender.send(_dest(channel), Rendered("text", "x", {"content": "x"}), key="k403")
    assert len(fake_discord.requests_to("POST", f"/channels/{channel}/messages")) == 1
    assert len(fake_discord.forbidden_hits) == 1

async def test_400_is_rejected_and_5xx_retries_later(discord_platform: DiscordAdapter,
                                                     fake_discord: FakeDiscord) -> None:
    dest = _dest(fake_discord.default_channel)
    with pytest.raises(Rejected) as caught:
        await discord_platform.sender.send(dest, Rendered("text", "x", {"content": "x" * 2001}), key="too-long")
    assert "50035" in str(caught.value)
    fake_discord.inject_status(503, fake_discord.default_channel)
    with pytest.raises(RetryLater) as later:
        await discord_platform.sender.send(dest, Rendered("text", "x", {"content": "x"}), key="k503")
    assert later.value.retry_after is None
    assert TOKEN not in str(caught.value) and TOKEN not in str(later.value)

async def test_thread_mode_posts_header_once_and_sections_in_thread(
        discord_platform: DiscordAdapter, fake_discord: FakeDiscord, store: Store) -> None:
    issue = store.latest("en")
    assert issue is not None
    channel = fake_discord.default_channel
    sent = await _deliver(discord_platform, issue, _dest(channel, thread=True))
    in_channel = fake_discord.channel_messages(channel)
    assert len(in_channel) == 1 and issue.ref.label in in_channel[0]["content"]
    thread = in_channel[0]["id"]
    assert fake_discord.threads[thread]["name"] == issue.ref.label
    assert len(fake_discord.channel_messages(thread)) == len(sent)
    assert {s.chat_id for s in sent} == {thread}
    assert fake_discord.rejected == []

async def test_index_is_edited_in_place(discord_platform: DiscordAdapter, fake_discord: FakeDiscord) -> None:
    dest = _dest(fake_discord.default_channel)
    sent = await discord_platform.sender.send(dest, Rendered("text", "v1", {"content": "index v1"}), key="index")
    edited = await discord_platform.sender.edit(dest, sent, Rendered("text", "v2", {"content": "index v2"}))
    assert edited.message_ids == sent.message_ids
    messages = fake_discord.channel_messages(fake_discord.default_channel)
    assert [m["content"] for m in messages] == ["index v2"] and messages[0]["edits"] == 1
