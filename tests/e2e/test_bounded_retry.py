"""Bounded waits: a platform asking for `retry_after = 999999999` parks a post for `max_retry_wait`
(1 h by default), not 31 years; `status` shows the failed row and its next attempt; `retry DEST`
makes it due now, beside the running bot, and it goes out."""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.settings.config import bundled_feed_path
from tests.fakes.telegram import FakeTelegram
from tests.harness.cli import run_cli_on_async, start_run_async

TOKEN = "616161:RETRY-token_abcdefghijklmnopqrstuvwxyz"
CHANNEL = -1005151
HUGE = 999_999_999


async def _status(config: Path, env: dict[str, str]) -> dict[str, Any]:
    code, out, err = await run_cli_on_async(config, "status", "--json", env=env)
    assert code == 0, err
    destinations = json.loads(out)["destinations"]
    return next(d for d in destinations if d["name"] == "fr-channel")


async def test_a_huge_retry_after_waits_at_most_max_retry_wait_and_retry_releases_it(tmp_path: Path) -> None:
    async with FakeTelegram(TOKEN, time_scale=0.001) as fake:
        fake.add_chat(CHANNEL, "channel", username="digest_fr")
        fake.flood_storm(1, retry_after=HUGE, chat_id=CHANNEL)
        config = tmp_path / "config.toml"
        config.write_text(
            f'[storage]\npath = "{tmp_path / "bot.db"}"\n\n'
            f'[[feeds]]\nname = "nlp"\nurl = "{bundled_feed_path()}"\npoll_interval = "1h"\n\n'
            f'[telegram]\napi_base_url = "{fake.base_url}"\ncommands = false\ntime_scale = 0.001\n\n'
            '[delivery]\nmax_retry_wait = "30m"\n\n'
            '[[destinations]]\nname = "fr-channel"\nplatform = "telegram"\nchat = "@digest_fr"\n'
            'languages = ["fr"]\n', encoding="utf-8")
        env = {"TELEGRAM_BOT_TOKEN": TOKEN}
        stderr = tmp_path / "stderr.log"
        with stderr.open("wb") as err:
            proc = await start_run_async("run", "--config", str(config), env=env, cwd=tmp_path, stderr=err)
            try:
                await fake.wait_for(lambda: any(r.status == 429 for r in fake.requests), timeout=30)
                blocked_at = asyncio.get_running_loop().time()
                deadline = asyncio.get_running_loop().time() + 30
                while not (dest := await _status(config, env))["failed"]:
                    assert asyncio.get_running_loop().time() < deadline, "status never showed the failed row"
                    await asyncio.sleep(0.1)
                failed = dest["failed"][0]
                assert dest["outbox"]["failed"] == 1 and failed["attempts"] == 1
                wait = datetime.fromisoformat(failed["next_attempt_at"]).timestamp() - datetime.now().timestamp()
                assert 25 * 60 < wait <= 30 * 60, f"next attempt in {wait:.0f}s"
                assert "429" in (failed["error"] or "")
                assert fake.sent(CHANNEL) == []

                # The flood limiter keeps the chat blocked for at most an hour (3.6 s at this time scale),
                # refusing sends at once meanwhile; once that is over, `retry` sends the parked post now.
                await asyncio.sleep(max(0.0, blocked_at + 3600 * 0.001 + 0.5 - asyncio.get_running_loop().time()))
                code, out, _ = await run_cli_on_async(config, "retry", "fr-channel", env=env)
                assert code == 0 and out.strip() == "fr-channel: 1 post re-queued", out
                await fake.wait_for(lambda: any(m.text.startswith("📚") for m in fake.sent(CHANNEL)), timeout=60)
                assert (await _status(config, env))["failed"] == []
            finally:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(proc.wait(), 20)
        assert code == 0, stderr.read_text(errors="replace")[-3000:]
        texts = [m.text.split("\n")[0] for m in fake.sent(CHANNEL)]
        assert len(texts) == len(set(texts))  # the parked post went out once, then the rest in order


async def test_max_retry_wait_is_range_checked(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    env: dict[str, str] = {}
    for value, ok in (('"30d"', False), ('"0s"', False), ('"2h"', True)):
        config.write_text(f'[delivery]\nmax_retry_wait = {value}\n', encoding="utf-8")
        code, out, err = await run_cli_on_async(config, "check-config", env=env)
        if ok:
            assert code == 0, err
        else:
            assert code == 2 and "delivery.max_retry_wait: must be between 1s and 7d" in err.splitlines(), err
            assert "Traceback" not in err
