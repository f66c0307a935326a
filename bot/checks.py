"""`check-config` beyond the file itself: what the config names must exist where it points.

`bot.config.config_problems` judges each value on its own; here we judge it against
the world the bot will run in — feed files on disk, section keys the feed really has
(from the database when there is one), topic keys, alias keys, token variables — and,
with `--online`, against the platforms and feeds themselves. Every problem is a
`ConfigError` naming its key path, so the CLI prints them all, one line each.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from bot.config import Config, DestinationConfig, did_you_mean, looks_like_token
from bot.errors import ConfigError, FeedError
from bot.sections import SectionAliases

__all__ = ["OnlineProbe", "offline_problems", "online_problems", "stored_section_keys"]

#: One platform's live check: (config, its destinations) → problems. Adapters provide them.
OnlineProbe = Callable[[Config, Sequence[DestinationConfig]], Awaitable[list[ConfigError]]]


def stored_section_keys(db_path: str) -> set[str]:
    """Section keys the database has seen, read-only (check-config never creates a database)."""
    path = Path(db_path)
    if db_path == ":memory:" or not path.is_file():
        return set()
    with contextlib.suppress(sqlite3.Error):
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            return {row[0] for row in conn.execute("select distinct key from sections")}
        finally:
            conn.close()
    return set()


def offline_problems(config: Config, stored_keys: Iterable[str] = ()) -> list[ConfigError]:
    """Problems found without any network: files, section/topic/alias keys, storage, tokens."""
    aliases = SectionAliases(config.sections.aliases)
    canonical = set(SectionAliases().known_keys())
    stored = set(stored_keys)
    known = set(aliases.known_keys()) | stored
    problems: list[ConfigError] = []
    problems += _feed_files(config)
    problems += _storage(config)
    for key in config.sections.aliases:
        if key in canonical or key in stored:
            continue
        hint = did_you_mean(key, canonical)
        if hint or stored:  # a typo of a known key, or a key the feed never had
            problems.append(ConfigError(f"sections.aliases.{key}", "unknown section key" + hint))
    for dest in config.destinations:
        where = f"destinations.{dest.name}"
        for name in dest.sections:
            if name == "*" or name in known or aliases.key_for(name) in known:
                continue
            problems.append(ConfigError(f"{where}.sections", f"unknown section {name!r}" + did_you_mean(name, known)))
        for field, keys in (("topics", dest.topics), ("mention_roles", dest.mention_roles)):
            for key in keys:
                if key not in known:
                    problems.append(ConfigError(f"{where}.{field}.{key}",
                                                "unknown section key" + did_you_mean(key, known)))
        if dest.platform != "telegram" and (dest.topic is not None or dest.topics):
            problems.append(ConfigError(f"{where}.topics", "topics are for Telegram forum groups only"))
    problems += _tokens(config)
    problems += [p for p in [config.web.token_problem()] if p is not None]
    return problems


def _feed_files(config: Config) -> list[ConfigError]:
    problems = []
    for feed in config.feeds:
        if "://" in feed.url:
            continue
        path = Path(feed.url)
        if not path.exists():
            problems.append(ConfigError(f"feeds.{feed.name}.url", f"no such file: {path}"))
        elif not path.is_file():
            problems.append(ConfigError(f"feeds.{feed.name}.url", f"not a file: {path}"))
    return problems


def _storage(config: Config) -> list[ConfigError]:
    path = Path(config.storage.path)
    if config.storage.path == ":memory:":
        return []
    if path.is_dir():
        return [ConfigError("storage.path", f"{path} is a folder; name the database file inside it")]
    return []


def _tokens(config: Config) -> list[ConfigError]:
    """Every platform in use without its token, each on its own line (not just the first)."""
    platforms: tuple[Literal["telegram", "discord"], ...] = ("telegram", "discord")
    problems = []
    for platform in platforms:
        if platform not in config.platforms_in_use():
            continue
        try:
            config.secret(platform)
        except ConfigError as exc:
            problems.append(exc)
    return problems


async def online_problems(config: Config, probes: Mapping[str, OnlineProbe]) -> list[ConfigError]:
    """One live call per platform in use (with its destinations) and one fetch per feed."""
    problems = await fetch_problems(config)
    for platform, probe in probes.items():
        dests = [d for d in config.destinations if d.platform == platform]
        if not dests:
            continue
        try:
            problems += await probe(config, dests)
        except ConfigError as exc:
            problems.append(exc)
        except Exception as exc:  # a library surprise is one line, not a traceback
            reason = f"online check failed: {type(exc).__name__}: {exc}"
            problems.append(ConfigError(platform, "online check failed" if looks_like_token(reason) else reason))
    return problems


async def fetch_problems(config: Config) -> list[ConfigError]:
    """Fetch and parse each feed once, as a poll would (nothing is stored)."""
    from bot.feed import fetch_feed, parse_feed

    problems = []
    for feed in config.feeds:
        try:
            fetched = await fetch_feed(feed.name, feed.url, timeout=feed.timeout, max_bytes=feed.max_bytes)
            parsed = parse_feed(feed.name, fetched.body, fetched.url)
        except FeedError as exc:
            problems.append(ConfigError(f"feeds.{feed.name}.url", exc.reason))
            continue
        if not parsed.entries:
            problems.append(ConfigError(f"feeds.{feed.name}.url", "the feed has no entries"))
    return problems
