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
import os
import signal
import sqlite3
import sys
from pathlib import Path

from bot.settings.config import bundled_feed_path
from tests.fakes.discord import running_fake
from tests.fakes.telegram import FakeTelegram
from tests.harness.probes import wait_until

ROOT = Path(__file__).resolve().parents[2]
GOOD = "616161:GOOD-token_abcdefghijklmnopqrstuvwxyz"
REFUSED_TELEGRAM = "626262:REFUSED-token_abcdefghijklmnopqrstuv"
REFUSED_DISCORD = "refused-discord-token-0123456789abcdef"
CHANNEL = -1001234


def _config(tmp_path: Path, platform: str, base: str, gateway: str = "", channel: str = "") -> Path:
    section = (f'[telegram]\napi_base_url = "{base}"\ntime_scale = 0.01\n' if platform == "telegram"
               else f'[discord]\napi_base_url = "{base}"\ngateway_url = "{gateway}"\n')
    chat = f'chat = "{CHANNEL}"' if platform == "telegram" else f'channel = "{channel}"'
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\npath = "{tmp_path / "bot.db"}"\n\n'
        f'[console]\nlog = "{tmp_path / "console.jsonl"}"\n\n'
        f'[[feeds]]\nname = "nlp"\nurl = "{bundled_feed_path()}"\npoll_interval = "1h"\n\n{section}\n'
        f'[[destinations]]\nname = "remote"\nplatform = "{platform}"\n{chat}\nlanguages = ["fr"]\n\n'
        '[[destinations]]\nname = "local"\nplatform = "console"\nlanguages = ["fr"]\n', encoding="utf-8")
    return config


def _env(**tokens: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "DISCORD", "DIGESTBOT"))}
    return {**env, **tokens, "PYTHONPATH": str(ROOT)}


async def _cli(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", *args, "--config", str(tmp_path / "config.toml"), env=env,
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


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
        code, out, err = await _cli(tmp_path, env, *args)
        lines = [line for line in err.splitlines() if line.startswith("error:")]
        assert code == 2, err
        assert len(lines) == 1 and key in lines[0] and variable in lines[0], err
        assert "Traceback" not in err
        _assert_nowhere(token, tmp_path, out, err)


async def test_refused_telegram_token_is_a_config_error_for_send_and_run_once(tmp_path: Path) -> None:
    async with FakeTelegram(GOOD, time_scale=0.01) as fake:
        fake.add_chat(CHANNEL, "channel")
        _config(tmp_path, "telegram", fake.base_url)
        await _one_line_exit_2(tmp_path, _env(TELEGRAM_BOT_TOKEN=REFUSED_TELEGRAM), "telegram.token_env",
                               "TELEGRAM_BOT_TOKEN", REFUSED_TELEGRAM)
        assert fake.sent(CHANNEL) == []


async def test_refused_discord_token_is_a_config_error_for_send_and_run_once(tmp_path: Path) -> None:
    async with running_fake() as fake:
        _config(tmp_path, "discord", fake.api_base, fake.gateway_url, fake.default_channel)
        await _one_line_exit_2(tmp_path, _env(DISCORD_BOT_TOKEN=REFUSED_DISCORD), "discord.token_env",
                               "DISCORD_BOT_TOKEN", REFUSED_DISCORD)
        assert fake.channel_messages(fake.default_channel) == []


async def _run_with_refused(tmp_path: Path, env: dict[str, str], token: str, variable: str) -> None:
    """`run`: the console delivers everything, the refused platform's destination is paused, attempts kept."""
    db = tmp_path / "bot.db"
    log = tmp_path / "console.jsonl"
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app.cli", "run", "--config", str(tmp_path / "config.toml"), env=env,
            cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL, stderr=err)
        try:
            await wait_until(lambda: (_paused(db, "remote") or "").startswith("token refused"), timeout=60)
            await wait_until(lambda: log.exists() and len(log.read_text(encoding="utf-8").splitlines()) >= 3)
            assert proc.returncode is None, "a refused token must not stop the bot"
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 30)
    assert code == 0
    _, status, _ = await _cli(tmp_path, env, "status", "--json")
    remote = next(d for d in json.loads(status)["destinations"] if d["name"] == "remote")
    assert remote["paused"].startswith("token refused") and variable in remote["paused"]
    _, table, _ = await _cli(tmp_path, env, "status")
    assert "token refused" in table
    with sqlite3.connect(db) as conn:
        attempts = conn.execute("select count(*), max(attempts) from outbox where destination = 'remote'").fetchone()
    assert attempts[0] > 0 and attempts[1] == 0  # queued, and not one attempt burnt
    _assert_nowhere(token, tmp_path, stderr.read_text(encoding="utf-8"), status, table)


async def test_run_with_a_refused_telegram_token_keeps_the_console_going(tmp_path: Path) -> None:
    async with FakeTelegram(GOOD, time_scale=0.01) as fake:
        fake.add_chat(CHANNEL, "channel")
        _config(tmp_path, "telegram", fake.base_url)
        await _run_with_refused(tmp_path, _env(TELEGRAM_BOT_TOKEN=REFUSED_TELEGRAM), REFUSED_TELEGRAM,
                                "TELEGRAM_BOT_TOKEN")
        # the token fixed: the pause lifts by itself and the posts kept for it go out
        code, _, err = await _cli(tmp_path, _env(TELEGRAM_BOT_TOKEN=GOOD), "run", "--once")
        assert code == 0, err
        assert _paused(tmp_path / "bot.db", "remote") is None
        assert fake.sent(CHANNEL)


async def test_run_with_a_refused_discord_token_keeps_the_console_going(tmp_path: Path) -> None:
    async with running_fake() as fake:
        _config(tmp_path, "discord", fake.api_base, fake.gateway_url, fake.default_channel)
        await _run_with_refused(tmp_path, _env(DISCORD_BOT_TOKEN=REFUSED_DISCORD), REFUSED_DISCORD,
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

        env = _env(TELEGRAM_BOT_TOKEN=GOOD)
        stderr = tmp_path / "stderr.log"
        with stderr.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "app.cli", "-v", "run", "--config", str(tmp_path / "config.toml"), env=env,
                cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL, stderr=err)
            try:
                await wait_until(failed_with_error, timeout=60)
            finally:
                proc.send_signal(signal.SIGTERM)
                assert await asyncio.wait_for(proc.wait(), 30) == 0
        assert any(GOOD in r.description for r in fake.requests if r.status == 502)  # the page did echo it
        _, status, _ = await _cli(tmp_path, env, "status", "--json")
        _assert_nowhere(GOOD, tmp_path, stderr.read_text(encoding="utf-8"), status)
