"""`digestbot run` as a subprocess, its Discord REST and gateway URLs pointing at the fake."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from bot.settings.config import bundled_feed_path
from tests.fakes.discord import TOKEN, running_fake
from tests.harness.cli import clean_env
from tests.harness.corpus import corpus_store


async def test_digestbot_run_posts_the_latest_issue_and_answers_slash_commands(tmp_path: Path) -> None:
    async with running_fake(channel_window=5.0, global_window=1.0) as fake:
        channel = fake.default_channel
        config = tmp_path / "config.toml"
        config.write_text(
            f'[storage]\npath = "{tmp_path / "bot.db"}"\n\n'
            f'[[feeds]]\nname = "nlp"\nurl = "{bundled_feed_path()}"\npoll_interval = "1h"\n\n'
            f'[discord]\napi_base_url = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n\n'
            f'[[destinations]]\nname = "fr-discord"\nplatform = "discord"\nchannel = "{channel}"\n'
            'languages = ["fr"]\n', encoding="utf-8")
        env = clean_env(DISCORD_BOT_TOKEN=TOKEN)
        stderr = tmp_path / "stderr.log"
        latest = corpus_store().latest("fr")
        assert latest is not None
        expected = len(latest.sections)
        with stderr.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "app.cli", "-v", "run", "--config", str(config),
                env=env, cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL, stderr=err)
            try:
                await fake.wait_for(lambda: len(fake.channel_messages(channel)) > expected, timeout=45)
                await fake.wait_for(lambda: bool(fake.commands), timeout=10)
                answer = await fake.interact("section", [{"name": "name", "type": 3, "value": "outils"}])
            finally:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(proc.wait(), 30)
        log = stderr.read_text(encoding="utf-8", errors="replace")
        assert code == 0, log[-3000:]
        headers = [m["content"].split("\n")[0] for m in fake.channel_messages(channel) if m["content"]]
        assert len(headers) == len(set(headers)), "a message was posted twice"
        starts = [f"{s.emoji} {s.title}".strip() for s in latest.sections]
        order = [n for h in headers for n, start in enumerate(starts) if h.startswith(start)]
        assert sorted(set(order)) == list(range(expected)) and order == sorted(order)  # every section, in order
        assert fake.rejected == [] and fake.rate_limited == []
        assert "Outils" in str(answer)
        assert TOKEN not in log
