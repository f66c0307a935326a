"""Two newsletters in one deployment, through the real scheduler pipeline to both fake platforms.

The NLP Newsletter snapshot (feed "nlp", a mixed blog feed with its own title_pattern) and This
Week in Rust (feed "twir", no settings at all) are polled by the delivery service and posted to
destinations limited to one feed or taking both. Every post names its own newsletter, none crosses
feeds, and the chat commands in a destination's chat answer from that destination's feeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

from adapters.discord import DiscordAdapter
from adapters.telegram import telegram_adapter
from bot.chat.query import QueryEngine
from bot.feeds.ingest import Ingestor
from bot.settings.config import Config, DestinationConfig, FeedConfig, NewsletterConfig
from bot.storage.store import Store
from scheduler.service import DeliveryService
from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram
from tests.harness.corpus import CORPUS
from tests.harness.paths import TWIR_FEED

TOKEN = "424242:AAH-secret_token_value_0123456789"
TWIR = TWIR_FEED
NLP_CHANNEL = -1001000000001
RUST_GROUP = -1001000000002
BOTH_CHANNEL = -1001000000003


async def test_two_newsletters_each_post_and_answer_names_its_own(discord_platform: DiscordAdapter,
                                                                  fake_discord: FakeDiscord, tmp_path: Path) -> None:
    rust_channel = fake_discord.default_channel
    config = Config(
        feeds=[FeedConfig(name="nlp", url=str(CORPUS),
                          newsletter=NewsletterConfig(name="NLP Newsletter", title_pattern="(?i)newsletter|简报")),
               FeedConfig(name="twir", url=str(TWIR))],
        destinations=[
            DestinationConfig(name="tg-nlp", platform="telegram", chat=str(NLP_CHANNEL), feeds=["nlp"],
                              languages=["fr"], backfill=1),
            DestinationConfig(name="tg-rust", platform="telegram", chat=str(RUST_GROUP), feeds=["twir"],
                              sections=["jobs", "crate_of_the_week"], backfill=2),
            DestinationConfig(name="tg-both", platform="telegram", chat=str(BOTH_CHANNEL), languages=["en"],
                              sections=["*"], backfill=1, index=False),
            DestinationConfig(name="dc-rust", platform="discord", channel=rust_channel, feeds=["twir"],
                              backfill=1, index=False)])
    store = Store(tmp_path / "bot.db")
    async with FakeTelegram(TOKEN, time_scale=0.002) as fake:
        for chat in (NLP_CHANNEL, BOTH_CHANNEL):
            fake.add_chat(chat, "channel")
        fake.add_chat(RUST_GROUP, "supergroup")
        telegram = telegram_adapter(TOKEN, base_url=fake.base_url, time_scale=0.002, poll_timeout=0.5)
        await telegram.sender.start()
        service = DeliveryService(config, store, {"telegram": telegram, "discord": discord_platform},
                                  Ingestor(store, config))
        try:
            for _ in range(4):
                await service.run_once()
            engine = QueryEngine(store, destinations=tuple(service.destinations().values()))
            task = asyncio.create_task(telegram.commands.serve(engine))
            await fake.wait_for(lambda: fake.pollers)
            before = len(fake.sent(RUST_GROUP))
            fake.user_says(RUST_GROUP, "/latest", user_id=1001, language_code="en")
            await fake.wait_for(lambda: len(fake.sent(RUST_GROUP)) > before)
            rust_answer = fake.sent(RUST_GROUP)[before].text
            fake.add_chat(1001, "private")
            fake.user_says(1001, "/latest nlp", user_id=1001, language_code="fr")
            await fake.wait_for(lambda: bool(fake.sent(1001)))
            private_answer = fake.sent(1001)[0].text
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            await telegram.close()
        nlp_posts = [m.text for m in fake.sent(NLP_CHANNEL)]
        rust_posts = [m.text for m in fake.sent(RUST_GROUP)][:before]
        both_posts = [m.text for m in fake.sent(BOTH_CHANNEL)]
        assert nlp_posts and all("This Week in Rust" not in text for text in nlp_posts)
        assert any("NLP Newsletter #7 (FR)" in text for text in nlp_posts)
        assert rust_posts and all("NLP Newsletter" not in text for text in rust_posts)
        assert {"This Week in Rust #635 (EN)", "This Week in Rust #634 (EN)"} <= {
            label for text in rust_posts for label in ("This Week in Rust #635 (EN)", "This Week in Rust #634 (EN)")
            if label in text}
        assert any("This Week in Rust #635 (EN)" in text for text in both_posts)
        assert any("NLP Newsletter #7 (EN)" in text for text in both_posts)
        assert not any("NLP Newsletter #635" in text or "This Week in Rust #7 " in text for text in both_posts)
        assert "This Week in Rust #635 (EN)" in rust_answer and "NLP Newsletter" not in rust_answer
        assert "NLP Newsletter #7" in private_answer
        assert fake.rejected() == []
    discord_posts = [json.dumps(m, ensure_ascii=False) for m in fake_discord.channel_messages(rust_channel)]
    assert discord_posts and all("NLP Newsletter" not in text for text in discord_posts)
    assert any("This Week in Rust #635 (EN)" in text for text in discord_posts)
    store.close()
