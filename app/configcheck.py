"""`check-config`'s pass over a file: every problem in one list, then the warnings.

Each check runs on the valid parts too (a key already wrong in the file is not judged again
against the world); `--online` adds one fetch per feed and one call per platform whose own
section (and token) has no problem. `app.cli` only prints the result.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from app import build
from app.checks import (
    feed_sections,
    fetch_feeds,
    key_warnings,
    newsletter_warnings,
    offline_problems,
    platform_problems,
)
from app.context import Context
from app.logs import setup_logging
from bot.core.errors import ConfigError
from bot.settings.config import Config, config_problems, default_config, partial_config, read_raw

__all__ = ["ConfigReport", "check_config_file"]


@dataclass(frozen=True, slots=True)
class ConfigReport:
    """What `check-config` says of a file: its name, the config when valid, problems and warnings."""

    source: Path | str
    config: Config | None
    problems: tuple[ConfigError, ...]
    warnings: tuple[str, ...]


def check_config_file(ctx: Context, online: bool) -> ConfigReport:
    """The file `--config` names (or the built-in defaults), checked; nothing is printed."""
    path = ctx.config_path
    if path is None:
        config: Config | None = default_config()
        problems: list[ConfigError] = []
    else:
        config, problems = config_problems(read_raw(path), path.parent)
    usable = config if config is not None else partial_config(read_raw(path), path.parent) if path else None
    warnings: list[str] = []
    if usable is not None:  # every later check runs on the valid parts too: all problems in one list
        # before any platform is called: its libraries' log lines pass the redaction, without traceback
        setup_logging(usable, ctx.verbose, ctx.log_format, quiet=True)
        warnings = _check_usable(usable, problems, online)
    return ConfigReport(path or "built-in defaults", config, tuple(problems), tuple(warnings))


def _check_usable(usable: Config, problems: list[ConfigError], online: bool) -> list[str]:
    """Add the problems of the (valid parts of the) config to `problems`; return the warnings."""
    bodies: dict[str, bytes] = {}
    if online:
        fetch_errors, bodies = asyncio.run(fetch_feeds(usable))
        problems += fetch_errors
    produced = feed_sections(usable, bodies)
    said = {p.key for p in problems}  # a key already wrong in the file is not judged again against the world
    problems += [p for p in offline_problems(usable, produced) if p.key not in said]
    warnings = key_warnings(usable, produced, online=online) + newsletter_warnings(usable)
    if online:  # the valid parts, on each platform whose own section (and token) has no problem
        broken = {p.key.split(".")[0] for p in problems}
        probes = {k: v for k, v in build.online_probes(usable).items() if k not in broken}
        problems += asyncio.run(platform_problems(usable, probes))
    return warnings
