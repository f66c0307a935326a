"""Crash safety on Telegram: `digestbot run` SIGKILLed mid-delivery to the fake Bot API.

Telegram has no idempotency key, so the README promises at most one duplicate per
destination per crash (the message in flight) and no loss. This checks it with the
real adapter, not only the console.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from bot.core.models import Issue
from bot.settings.config import bundled_feed_path
from tests.fakes.telegram import FakeMessage, FakeTelegram
from tests.harness.cli import clean_env
from tests.harness.corpus import corpus_store
from tests.harness.poll import until
from tests.harness.probes import outbox_settled

TOKEN = "616161:CRASH-token_abcdefghijklmnopqrstuvwxyz"
CHATS = [-1001000 - n for n in range(4)]
KILLS = 4


async def test_sigkill_mid_delivery_loses_nothing_and_duplicates_at_most_one_per_chat_per_kill(
        tmp_path: Path) -> None:
    latest = corpus_store().latest("fr")
    assert latest is not None
    async with FakeTelegram(TOKEN, time_scale=0.05) as fake:
        lines = [f'[storage]\npath = "{tmp_path / "bot.db"}"\n',
                 f'[[feeds]]\nname = "nlp"\nurl = "{bundled_feed_path()}"\npoll_interval = "1h"\n',
                 f'[telegram]\napi_base_url = "{fake.base_url}"\ncommands = false\ntime_scale = 0.05\n']
        for chat in CHATS:
            fake.add_chat(chat, "channel", username=f"digest{-chat}")
            lines.append(f'[[destinations]]\nname = "tg{-chat}"\nplatform = "telegram"\nchat = "{chat}"\n'
                         'languages = ["fr"]\nindex = false\n')
        config = tmp_path / "config.toml"
        config.write_text("\n".join(lines), encoding="utf-8")
        env = clean_env(TELEGRAM_BOT_TOKEN=TOKEN)
        command = [sys.executable, "-m", "app.cli", "run", "--config", str(config)]

        async def start() -> asyncio.subprocess.Process:
            return await asyncio.create_subprocess_exec(*command, env=env, cwd=tmp_path,
                                                        stdout=asyncio.subprocess.DEVNULL,
                                                        stderr=asyncio.subprocess.DEVNULL)

        step = 3
        for _ in range(KILLS):
            target = len(fake.sent()) + step
            proc = await start()
            await fake.wait_for(lambda: len(fake.sent()) >= target, timeout=60)  # noqa: B023 - awaited here
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
        assert not all(_section_count(fake.sent(c), latest) == len(latest.sections) for c in CHATS), \
            "the kills came too late to matter"
        proc = await start()
        try:
            await fake.wait_for(lambda: all(_section_count(fake.sent(c), latest) == len(latest.sections)
                                            for c in CHATS), timeout=90)
            # every row recorded sent: nothing else is still to come
            await until(lambda: outbox_settled(tmp_path / "bot.db"), "every outbox row sent", timeout=30, every=0.02)
        finally:
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 30) == 0
        duplicates = 0
        for chat in CHATS:
            texts = [m.text for m in fake.sent(chat)]
            unique = list(dict.fromkeys(texts))
            duplicates += len(texts) - len(unique)
            headers = [t.split("\n")[0] for t in unique]
            order = [n for h in headers for n, s in enumerate(latest.sections) if s.title in h]
            assert order == sorted(order) and set(order) == set(range(len(latest.sections))), chat
        assert duplicates <= KILLS * len(CHATS)
        assert fake.rejected() == []


def _section_count(messages: list[FakeMessage], issue: Issue) -> int:
    """How many of the issue's sections have at least one message in the chat."""
    headers = {m.text.split("\n")[0] for m in messages}
    return sum(1 for s in issue.sections if any(s.title in h for h in headers))
