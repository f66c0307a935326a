"""Logs an operator can read: one line per delivered post, JSON on request, no notices they cannot act on."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakes.discord import TOKEN, running_fake
from tests.harness.cli import run_cli, run_cli_async
from tests.harness.config import ConfigFile
from tests.harness.corpus import CORPUS


def _config(tmp_path: Path, extra: str = "") -> Path:
    return (ConfigFile(tmp_path).storage().feed("nlp", CORPUS)
            .destination("fr-drip", "console", languages=["fr"]).raw(extra).write())


def test_one_json_line_per_delivered_post(tmp_path: Path) -> None:
    config = _config(tmp_path)
    result = run_cli("--log-format", "json", "send", "fr-drip", "--issue", "4", "--section", "publications",
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
    result = run_cli("ask", "/section outils", "--lang", "fr", "--config", str(_config(tmp_path)))
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
        code, _, err = await run_cli_async("send", "dc", "--issue", "6", "--section", "publications",
                                           "--config", str(config), env={"DISCORD_BOT_TOKEN": TOKEN})
    assert code == 0, err
    assert fake.channel_messages(fake.default_channel)  # the client really started and posted
    assert "dc ← Publications" in err  # "dc ← Publications …" logged once delivered
    assert "PyNaCl" not in err and "davey" not in err
