"""check-config names every reader option's bad value, one line each, and accepts the documented ones."""

from __future__ import annotations

from pathlib import Path

from bot.settings.config import bundled_feed_path
from tests.harness.cli import check_config

HEAD = f"""
[[feeds]]
name = "nlp"
url = "{bundled_feed_path()}"
"""


def test_bad_reader_options_are_named(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(HEAD + """
[[destinations]]
name = "dc"
platform = "discord"
channel = "123456789012345678"
images = "first"
max_item_chars = 10
per_tick = 0
include = ["!!!"]
[[destinations]]
name = "tg"
platform = "telegram"
chat = "@somechannel"
images = "thumbnail"
""", encoding="utf-8")
    result = check_config(config)
    assert result.returncode == 2
    for line in ('destinations.dc.images: \'first\' is not a discord image mode: use "thumbnail", "full", "none"',
                 "destinations.dc.max_item_chars: ", "destinations.dc.per_tick: ",
                 "destinations.dc.include: filter term '!!!' has no letter or digit",
                 "destinations.tg.images: 'thumbnail' is not a telegram image mode"):
        assert line in result.stderr, result.stderr


def test_mentions_are_discord_only_and_section_keys_are_checked(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(HEAD + """
[[destinations]]
name = "dc"
platform = "discord"
channel = "123456789012345678"
mention_roles = { outilz = "234567890123456789" }
[[destinations]]
name = "tg"
platform = "telegram"
chat = "@somechannel"
mention_role = "234567890123456789"
""", encoding="utf-8")
    result = check_config(config)
    assert result.returncode == 2
    assert "destinations.tg: mention_role and mention_roles are Discord options" in result.stderr
    config.write_text(HEAD + """
[[destinations]]
name = "dc"
platform = "discord"
channel = "123456789012345678"
mention_roles = { outilz = "234567890123456789" }
""", encoding="utf-8")
    result = check_config(config, env={"DISCORD_BOT_TOKEN": "x" * 59})
    assert "destinations.dc.mention_roles.outilz: unknown section key" in result.stderr


def test_every_documented_option_is_accepted(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(HEAD + """
[[destinations]]
name = "dc"
platform = "discord"
channel = "123456789012345678"
images = "full"
compact = true
max_item_chars = 600
mention_role = "234567890123456789"
mention_roles = { tools_datasets = "345678901234567890" }
include = ["bert", "speech recognition"]
exclude = ["crypto"]
[[destinations]]
name = "tg"
platform = "telegram"
chat = "@somechannel"
schedule = "cron 0 9,18 * * *"
per_tick = 2
images = "first"
""", encoding="utf-8")
    result = check_config(config, env={"DISCORD_BOT_TOKEN": "x" * 59, "TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35})
    assert result.returncode == 0, result.stderr
