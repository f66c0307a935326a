"""Crash safety on Discord: `digestbot run` SIGKILLed mid-delivery to the fake Discord.

A part resent after a crash carries the same nonce (the outbox row key) with
`enforce_nonce`, so Discord returns the first message instead of posting again:
no duplicates at all, and nothing lost.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from bot.core.models import Issue
from bot.settings.config import bundled_feed_path
from tests.fakes.discord import TOKEN, FakeDiscord, running_fake
from tests.harness.cli import clean_env
from tests.harness.corpus import corpus_store
from tests.harness.poll import until
from tests.harness.probes import outbox_settled

KILLS = 3


def _sections_seen(fake: FakeDiscord, channel: str, issue: Issue) -> int:
    headers = {m["content"].split("\n")[0] for m in fake.channel_messages(channel) if m["content"]}
    return sum(1 for s in issue.sections if any(h.startswith(f"{s.emoji} {s.title}".strip()) for h in headers))


async def test_sigkill_mid_delivery_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    latest = corpus_store().latest("fr")
    assert latest is not None
    async with running_fake() as fake:
        fake.response_delay = 0.3  # slow answers: kills land while messages are posted but unconfirmed
        channels = [fake.default_channel, fake.add_channel("digest-2")]
        lines = [f'[storage]\npath = "{tmp_path / "bot.db"}"\n',
                 f'[[feeds]]\nname = "nlp"\nurl = "{bundled_feed_path()}"\npoll_interval = "1h"\n',
                 f'[discord]\napi_base_url = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n'
                 'commands = false\n']
        for n, channel in enumerate(channels):
            lines.append(f'[[destinations]]\nname = "discord-{n}"\nplatform = "discord"\nchannel = "{channel}"\n'
                         'languages = ["fr"]\nindex = false\n')
        config = tmp_path / "config.toml"
        config.write_text("\n".join(lines), encoding="utf-8")
        env = clean_env(DISCORD_BOT_TOKEN=TOKEN)
        command = [sys.executable, "-m", "app.cli", "run", "--config", str(config)]

        def delivered() -> int:
            return sum(len(fake.channel_messages(c)) for c in channels)

        runs: list[Path] = []

        async def start() -> asyncio.subprocess.Process:
            runs.append(tmp_path / f"run-{len(runs)}.log")
            with runs[-1].open("wb") as log:
                return await asyncio.create_subprocess_exec(*command, env=env, cwd=tmp_path,
                                                            stdout=asyncio.subprocess.DEVNULL, stderr=log)

        for _ in range(KILLS):
            target = delivered() + 1
            proc = await start()
            try:
                await fake.wait_for(lambda: delivered() >= target, timeout=30)  # noqa: B023 - awaited here
            except TimeoutError:
                proc.send_signal(signal.SIGABRT)
                await proc.wait()

                raise AssertionError(runs[-1].read_text(errors="replace").split("Fatal Python")[0][-4000:]) from None
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
        assert not all(_sections_seen(fake, c, latest) == len(latest.sections) for c in channels), \
            "the kills came too late to matter"
        proc = await start()
        try:
            try:
                await fake.wait_for(lambda: all(_sections_seen(fake, c, latest) == len(latest.sections)
                                                for c in channels), timeout=60)
            except TimeoutError:
                raise AssertionError(runs[-1].read_text(errors="replace").split("Fatal Python")[0][-4000:]) from None
            # every row recorded sent: nothing else is still to come
            await until(lambda: outbox_settled(tmp_path / "bot.db"), "every outbox row sent", timeout=30, every=0.02)
        finally:
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 30) == 0
        for channel in channels:
            messages = fake.channel_messages(channel)
            contents = [m["content"] for m in messages]
            assert len(contents) == len(set(contents)), f"duplicate message in {channel}"
            headers = [c.split("\n")[0] for c in contents]
            starts = [f"{s.emoji} {s.title}".strip() for s in latest.sections]
            order = [n for h in headers for n, start in enumerate(starts) if h.startswith(start)]
            assert order == sorted(order) and set(order) == set(range(len(latest.sections)))
        assert fake.rejected == []
        nonces = [r.body.get("nonce") for r in fake.requests_to("POST", "/messages") if isinstance(r.body, dict)]
        assert len(nonces) > len(set(nonces)), "no part was resent: the crash scenario did not happen"
