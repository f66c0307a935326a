"""`digestbot run` as a subprocess, its Telegram base URL pointing at the fake Bot API."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

from bot.feeds.ingest import Ingestor
from bot.settings.config import Config, bundled_feed_path
from bot.storage.store import Store
from tests.fakes.telegram import FakeTelegram
from tests.harness.cli import clean_env

TOKEN = "515151:RUN-token_abcdefghijklmnopqrstuvwxyz"
CHANNEL = -1001234


async def test_digestbot_run_posts_the_latest_issue_and_answers_commands(tmp_path: Path) -> None:
    async with FakeTelegram(TOKEN, time_scale=0.01) as fake:
        fake.add_chat(CHANNEL, "channel", username="digest_fr")
        fake.add_chat(4242, "private")
        config = tmp_path / "config.toml"
        config.write_text(
            f'[storage]\npath = "{tmp_path / "bot.db"}"\n\n'
            f'[[feeds]]\nname = "nlp"\nurl = "{bundled_feed_path()}"\npoll_interval = "1h"\n\n'
            f'[telegram]\napi_base_url = "{fake.base_url}"\ntime_scale = 0.01\n\n'
            '[[destinations]]\nname = "fr-channel"\nplatform = "telegram"\nchat = "@digest_fr"\n'
            'languages = ["fr"]\n', encoding="utf-8")
        env = clean_env(TELEGRAM_BOT_TOKEN=TOKEN)
        stderr = tmp_path / "stderr.log"
        with stderr.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "app.cli", "-v", "run", "--config", str(config),
                env=env, cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL, stderr=err)
            try:
                await fake.wait_for(lambda: any(m.text.startswith("📚") for m in fake.sent(CHANNEL)), timeout=30)
                await fake.wait_for(lambda: fake.pollers, timeout=10)
                fake.user_says(4242, "/section outils", user_id=4242, language_code="fr")
                await fake.wait_for(lambda: fake.sent(4242), timeout=10)
            finally:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                stopping = asyncio.get_running_loop().time()
                code = await asyncio.wait_for(proc.wait(), 20)
                stop_time = asyncio.get_running_loop().time() - stopping
        log = stderr.read_text(encoding="utf-8", errors="replace")
        assert code == 0, log[-3000:]
        assert stop_time < 5, f"SIGTERM took {stop_time:.1f}s"
        messages = fake.sent(CHANNEL)
        store = Store(":memory:")
        Ingestor(store, Config()).ingest_bytes(bundled_feed_path().read_bytes(), "nlp")
        latest = store.latest("fr")
        assert latest is not None and "#7 (FR)" in messages[0].text
        assert messages[-1].text.startswith("📚")  # the index comes last
        headers = [m.text.split("\n")[0] for m in messages[:-1]]
        assert len(headers) == len(set(headers))  # no message twice
        sections = [re.sub(r" \(\d+/\d+\)$", "", h) for h in headers]
        sections = [h for n, h in enumerate(sections) if n == 0 or sections[n - 1] != h]
        assert len(sections) == len(latest.sections)  # each section once (its parts numbered)
        assert all(s.title in h for s, h in zip(latest.sections, sections, strict=True))  # in order
        assert "Outils" in fake.sent(4242)[0].text
        assert fake.rejected() == [] and not any(r.status == 429 for r in fake.requests)
        assert "getUpdates" in log or "sendMessage" in log or "telegram" in log
        assert TOKEN not in log and TOKEN.split(":")[1] not in log
