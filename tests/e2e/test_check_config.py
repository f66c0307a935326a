"""`digestbot check-config` as a maintainer runs it: every mistake at once, one line each, key path first."""

from __future__ import annotations

from pathlib import Path

from tests.harness.cli import check_config, run_cli
from tests.harness.corpus import CORPUS

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


MISTAKES = f"""
default_language = "xx"
[storage]
path = "db.sqlite"
[sections.aliases]
tools_dataset = ["Outillage"]
[[feeds]]
name = "main"
url = "htps://example.org/feed.xml"
poll_interval = "99999999999d"
[[feeds]]
name = "ftp"
url = "ftp://example.org/feed.xml"
max_bytes = 99999999999999
[[feeds]]
name = "local"
url = "missing-feed.xml"
[[feeds]]
name = "bundled"
url = "{CORPUS}"
[newsletter]
title_pattern = "(a+)+$"
[telegram]
token_env = "{TOKEN}"
[discord]
api_base_url = "https://discord.com/api/v10?token=MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"
answers = "private"
[[destinations]]
name = "fr-telegram"
platform = "telegram"
chat = "not a chat"
languages = ["french"]
timzone = "Europe/Paris"
[[destinations]]
name = "forum"
platform = "console"
sections = ["tools_datasetz"]
[[destinations]]
name = "forum"
platform = "console"
[[destinations]]
name = "en-discord"
platform = "discord"
channel = "general"
languages = ["klingon"]
[[destinations]]
name = ""
platform = "console"
[[destinations]]
name = "drip"
platform = "console"
schedule = "cron 0 25 * * *"
backfill = 5000
"""


def test_a_dozen_mistakes_are_all_listed_with_their_key_paths(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(MISTAKES, encoding="utf-8")
    result = check_config(config)
    assert result.returncode == 2
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("warning: ")]
    expected = {
        "default_language": "xx",
        "sections.aliases.tools_dataset": 'did you mean "tools_datasets"',
        "feeds.main.url": "htps",
        "feeds.main.poll_interval": "out of range",
        "feeds.ftp.url": "ftp",
        "feeds.ftp.max_bytes": "1073741824",
        "feeds.local.url": "no such file",
        "newsletter.title_pattern": "nested quantifiers",
        "telegram.token_env": "looks like a bot token",
        "discord.api_base_url": "token",
        "discord.answers": "'ephemeral' or 'public'",
        "destinations.fr-telegram.chat": "not a Telegram chat",
        "destinations.fr-telegram.languages": "french",
        "destinations.fr-telegram.timzone": 'unknown key (did you mean "timezone"?)',
        "destinations[2].name": "used twice",
        "destinations.en-discord.channel": "Discord id",
        "destinations.en-discord.languages": "klingon",
        "destinations[4].name": "must not be empty",
        "destinations.drip.backfill": "1000",
    }
    for key, words in expected.items():
        hits = [line for line in lines if line.startswith(f"{key}: ")]
        assert hits and words in hits[0], f"{key}: {words!r} not in\n" + result.stderr
    assert lines[-1].endswith(f"{len(lines) - 1} problems")
    assert TOKEN not in result.stderr and TOKEN.split(":")[1] not in result.stderr
    assert "Cl2FMQ" not in result.stderr
    assert "Traceback" not in result.stderr


def test_valid_tables_beside_broken_ones_are_still_checked(tmp_path: Path) -> None:
    """Section, topic and schedule problems of valid destinations show up next to field errors elsewhere."""
    config = tmp_path / "config.toml"
    config.write_text(f"""
[[feeds]]
name = "n"
url = "{CORPUS}"
poll_interval = "soon"
[[destinations]]
name = "forum"
platform = "telegram"
chat = -1001234567
topics = {{ tools_datasets = 3, outilz = 4 }}
sections = ["nonsense"]
[[destinations]]
name = "drip"
platform = "console"
schedule = "cron 0 25 * * *"
""", encoding="utf-8")
    result = check_config(config)
    assert result.returncode == 2
    assert "feeds.n.poll_interval: " in result.stderr
    assert "destinations.forum.topics.outilz: unknown section key" in result.stderr
    assert "destinations.forum.sections: unknown section 'nonsense'" in result.stderr
    assert "destinations.drip.schedule: " in result.stderr
    assert "telegram.token_env: environment variable TELEGRAM_BOT_TOKEN is not set" in result.stderr


def test_numbers_where_platforms_use_numbers(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"""
[[feeds]]
name = "n"
url = "{CORPUS}"
[[destinations]]
name = "tg"
platform = "telegram"
chat = -1001234567890
topic = 7
[[destinations]]
name = "dc"
platform = "discord"
channel = 123456789012345678
""", encoding="utf-8")
    result = check_config(config, env={"TELEGRAM_BOT_TOKEN": "1:x" * 4, "DISCORD_BOT_TOKEN": "y" * 20})
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_every_missing_token_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("""
[[destinations]]
name = "tg"
platform = "telegram"
chat = "@some_channel"
[[destinations]]
name = "dc"
platform = "discord"
channel = "123456789012345678"
""", encoding="utf-8")
    result = check_config(config)
    assert result.returncode == 2
    assert "telegram.token_env: environment variable TELEGRAM_BOT_TOKEN" in result.stderr
    assert "discord.token_env: environment variable DISCORD_BOT_TOKEN" in result.stderr


def test_run_refuses_an_out_of_range_duration_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[[feeds]]\nname = "n"\nurl = "x.xml"\npoll_interval = "99999999999d"\n', encoding="utf-8")
    result = run_cli("run", "--once", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: config: feeds.n.poll_interval: is out of range: at most 365d"]
