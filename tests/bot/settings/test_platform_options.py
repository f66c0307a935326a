"""An option of another platform on a destination is named by check-config, never silently ignored."""

from __future__ import annotations

from pathlib import Path

from bot.settings.config import config_problems


def test_an_option_of_another_platform_is_named_not_ignored(tmp_path: Path) -> None:
    """`format` on a Telegram destination or `link_preview` on a Discord one would do nothing: one line each."""
    raw = {"destinations": [
        {"name": "tg", "platform": "telegram", "chat": "@digest_fr", "format": "text", "thread": True},
        {"name": "dc", "platform": "discord", "channel": "123456789012345678", "link_preview": True},
        {"name": "ok", "platform": "discord", "channel": "123456789012345678", "images": "full", "index": False},
    ]}
    _, problems = config_problems(raw, tmp_path)
    lines = [str(problem) for problem in problems]
    assert any(line.startswith("destinations.tg") and "format, thread: discord options" in line
               and "platform is telegram" in line for line in lines), lines
    assert any(line.startswith("destinations.dc") and "link_preview: telegram option" in line for line in lines), lines
    assert not any("destinations.ok" in line for line in lines), lines
