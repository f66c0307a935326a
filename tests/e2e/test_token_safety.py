"""Secrets never leave, as a user meets it: `digestbot` as a subprocess against the fake platforms.

A refused token is a configuration error (one line naming where the token comes from, exit 2
for `send` and `run --once`); under `run` only that platform stops, its destinations are
paused with the reason (posts keep their attempts) and the console keeps delivering. The
token appears in no output, no log line and no byte of the database, even when an API error
page echoes the request path.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from pathlib import Path

from bot.settings.config import bundled_feed_path
from tests.fakes.discord import running_fake
from tests.fakes.telegram import FakeTelegram
from tests.harness.cli import run_cli_on_async, start_run_async
from tests.harness.config import ConfigFile
from tests.harness.poll import until
from tests.harness.probes import console_log

GOOD = "616161:GOOD-token_abcdefghijklmnopqrstuvwxyz"
REFUSED_TELEGRAM = "626262:REFUSED-token_abcdefghijklmnopqrstuv"
REFUSED_DISCORD = "refused-discord-token-0123456789abcdef"
CHANNEL = -1001234


def _config(tmp_path: Path, platform: str, base: str, gateway: str = "", channel: str = "") -> Path:
    config = (ConfigFile(tmp_path).storage().table("console", log=tmp_path / "console.jsonl")
              .feed("nlp", bundled_feed_path(), poll_interval="1h"))
    if platform == "telegram":
        config.table("telegram", api_base_url=base, time_scale=0.01).destination(
            "remote", platform, chat=str(CHANNEL), languages=["fr"])
    else:
        config.table("discord", api_base_url=base, gateway_url=gateway).destination(
            "remote", platform, channel=channel, languages=["fr"])
    return config.destination("local", "console", languages=["fr"]).write()


def _assert_nowhere(token: str, tmp_path: Path, *texts: str) -> None:
    """Neither the token nor its secret half in any text or any byte of any file the bot wrote."""
    forms = [token, *([half] if (half := token.partition(":")[2]) else [])]
    for text in texts:
        assert not any(form in text for form in forms), text[-2000:]
    files = [p for p in tmp_path.iterdir() if p.is_file() and p.name != "config.toml"]
    assert any(p.name.startswith("bot.db") for p in files)
    for path in files:
        data = path.read_bytes()
        assert not any(form.encode() in data for form in forms), path.name


def _paused(db: Path, name: str) -> str | None:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute("select paused_reason from dest_state where name = ?", [name]).fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


async def _one_line_exit_2(tmp_path: Path, env: dict[str, str], key: str, variable: str, token: str) -> None:
    for args in (("send", "remote"), ("run", "--once")):
        code, out, err = await run_cli_on_async(tmp_path / "config.toml", *args, env=env)
        lines = [line for line in err.splitlines() if line.startswith("error:")]
        assert code == 2, err
        assert len(lines) == 1 and key in lines[0] and variable in lines[0], err
        assert "Traceback" not in err
        _assert_nowhere(token, tmp_path, out, err)


async def test_refused_telegram_token_is_a_config_error_for_send_and_run_once(tmp_path: Path) -> None:
    async with FakeTelegram(GOOD, time_scale=0.01) as fake:
        fake.add_chat(CHANNEL, "channel")
        _config(tmp_path, "telegram", fake.base_url)
        await _one_line_exit_2(tmp_path, {"TELEGRAM_BOT_TOKEN": REFUSED_TELEGRAM}, "telegram.token_env",
                               "TELEGRAM_BOT_TOKEN", REFUSED_TELEGRAM)
        assert fake.sent(CHANNEL) == []


async def test_refused_discord_token_is_a_config_error_for_send_and_run_once(tmp_path: Path) -> None:
    async with running_fake() as fake:
        _config(tmp_path, "discord", fake.api_base, fake.gateway_url, fake.default_channel)
        await _one_line_exit_2(tmp_path, {"DISCORD_BOT_TOKEN": REFUSED_DISCORD}, "discord.token_env",
                               "DISCORD_BOT_TOKEN", REFUSED_DISCORD)
        assert fake.channel_messages(fake.default_channel) == []


async def _run_with_refused(tmp_path: Path, env: dict[str, str], token: str, variable: str) -> None:
    """`run`: the console delivers everything, the refused platform's destination is paused, attempts kept."""
    db = tmp_path / "bot.db"
    log = tmp_path / "console.jsonl"
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as err:
        proc = await start_run_async("run", "--config", str(tmp_path / "config.toml"), env=env, cwd=tmp_path,
                                     stderr=err)
        try:
            await until(lambda: (_paused(db, "remote") or "").startswith("token refused"), "remote paused",
                        timeout=60, proc=proc)
            await until(lambda: len(console_log(log)) >= 3, "three console deliveries", proc=proc)
            assert proc.returncode is None, "a refused token must not stop the bot"
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 30)
    assert code == 0
    _, status, _ = await run_cli_on_async(tmp_path / "config.toml", "status", "--json", env=env)
    remote = next(d for d in json.loads(status)["destinations"] if d["name"] == "remote")
    assert remote["paused"].startswith("token refused") and variable in remote["paused"]
    _, table, _ = await run_cli_on_async(tmp_path / "config.toml", "status", env=env)
    assert "token refused" in table
    with sqlite3.connect(db) as conn:
        attempts = conn.execute("select count(*), max(attempts) from outbox where destination = 'remote'").fetchone()
    assert attempts[0] > 0 and attempts[1] == 0  # queued, and not one attempt burnt
    _assert_nowhere(token, tmp_path, stderr.read_text(encoding="utf-8"), status, table)


async def test_run_with_a_refused_telegram_token_keeps_the_console_going(tmp_path: Path) -> None:
    async with FakeTelegram(GOOD, time_scale=0.01) as fake:
        fake.add_chat(CHANNEL, "channel")
        _config(tmp_path, "telegram", fake.base_url)
        await _run_with_refused(tmp_path, {"TELEGRAM_BOT_TOKEN": REFUSED_TELEGRAM}, REFUSED_TELEGRAM,
                                "TELEGRAM_BOT_TOKEN")
        # the token fixed: the pause lifts by itself and the posts kept for it go out
        code, _, err = await run_cli_on_async(tmp_path / "config.toml", "run", "--once",
                                              env={"TELEGRAM_BOT_TOKEN": GOOD})
        assert code == 0, err
        assert _paused(tmp_path / "bot.db", "remote") is None
        assert fake.sent(CHANNEL)


async def test_run_with_a_refused_discord_token_keeps_the_console_going(tmp_path: Path) -> None:
    async with running_fake() as fake:
        _config(tmp_path, "discord", fake.api_base, fake.gateway_url, fake.default_channel)
        await _run_with_refused(tmp_path, {"DISCORD_BOT_TOKEN": REFUSED_DISCORD}, REFUSED_DISCORD,
                                "DISCORD_BOT_TOKEN")


async def test_an_error_page_echoing_the_request_path_leaks_nothing(tmp_path: Path) -> None:
    async with FakeTelegram(GOOD, time_scale=0.01) as fake:
        fake.add_chat(CHANNEL, "channel")
        fake.fail(502, "Bad Gateway: upstream failed for {path}", methods=("sendMessage", "sendPhoto"), times=10_000)
        _config(tmp_path, "telegram", fake.base_url)
        db = tmp_path / "bot.db"

        def failed_with_error() -> bool:
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                    row = conn.execute("select count(*) from outbox where destination = 'remote' "
                                       "and error like '%Bad Gateway%'").fetchone()
            except sqlite3.OperationalError:
                return False
            return bool(row[0])

        env = {"TELEGRAM_BOT_TOKEN": GOOD}
        stderr = tmp_path / "stderr.log"
        with stderr.open("wb") as err:
            proc = await start_run_async("-v", "run", "--config", str(tmp_path / "config.toml"), env=env,
                                         cwd=tmp_path, stderr=err)
            try:
                await until(failed_with_error, "a failed send with its error", timeout=60)
            finally:
                proc.send_signal(signal.SIGTERM)
                assert await asyncio.wait_for(proc.wait(), 30) == 0
        assert any(GOOD in r.description for r in fake.requests if r.status == 502)  # the page did echo it
        _, status, _ = await run_cli_on_async(tmp_path / "config.toml", "status", "--json", env=env)
        _assert_nowhere(GOOD, tmp_path, stderr.read_text(encoding="utf-8"), status)
