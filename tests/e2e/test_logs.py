"""Logs an operator can read: one line per delivered post, JSON on request, no notices they cannot act on."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fakes.discord import TOKEN, running_fake
from tests.harness.corpus import CORPUS

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT", "TELEGRAM", "DISCORD"))}
    clean.update(env)
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, timeout=120,
                          env=clean, cwd=ROOT)


def _config(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f"""
[storage]
path = "{tmp_path / 'bot.db'}"
[[feeds]]
name = "nlp"
url = "{CORPUS}"
[[destinations]]
name = "fr-drip"
platform = "console"
languages = ["fr"]
{extra}""", encoding="utf-8")
    return config


def test_one_json_line_per_delivered_post(tmp_path: Path) -> None:
    config = _config(tmp_path)
    result = _cli("--log-format", "json", "send", "fr-drip", "--issue", "4", "--section", "publications",
                  "--config", str(config))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    delivered = [r["message"] for r in records if "←" in r["message"]]
    assert len(delivered) == 1
    assert delivered[0].startswith("fr-drip ← Publications") and "#4 (FR)" in delivered[0]
    assert delivered[0].endswith("message)") or delivered[0].endswith("messages)")
    polls = [r["message"] for r in records if r["logger"] == "bot.feeds.ingest"]
    assert len(polls) == 1 and "entries" in polls[0]  # the poll (an empty store is ingested first), with counts


def test_ask_prints_the_answer_without_info_noise(tmp_path: Path) -> None:
    result = _cli("ask", "/section outils", "--lang", "fr", "--config", str(_config(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert "Outils" in result.stdout
    assert " INFO " not in result.stderr


async def test_no_voice_notice_from_discord_at_start(tmp_path: Path) -> None:
    """discord.py warns about voice support at every client start; an operator can do nothing about it."""
    async with running_fake() as fake:
        config = _config(tmp_path, f'[discord]\napi_base_url = "{fake.api_base}"\n'
                                   f'gateway_url = "{fake.gateway_url}"\ncommands = false\n'
                                   f'[[destinations]]\nname = "dc"\nplatform = "discord"\n'
                                   f'channel = "{fake.default_channel}"\nlanguages = ["en"]\n')
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT", "TELEGRAM", "DISCORD"))}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app.cli", "send", "dc", "--issue", "6", "--section", "publications",
            "--config", str(config), env={**clean, "DISCORD_BOT_TOKEN": TOKEN}, cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    assert fake.channel_messages(fake.default_channel)  # the client really started and posted
    assert b"dc \xe2\x86\x90 Publications" in err  # "dc ← Publications …" logged once delivered
    assert b"PyNaCl" not in err and b"davey" not in err
