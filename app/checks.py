"""`check-config` beyond the file itself: what the config names must exist where it points.

`bot.settings.config.config_problems` judges each value on its own; here we judge it against
the world the bot will run in — feed files on disk, the section keys each destination's
own feeds really have (their stored issues, else the split of a local feed file, else with
`--online` a fetch), topic keys, alias keys, token variables — and, with `--online`,
against the platforms and feeds themselves. What cannot be checked yet is one warning. Every problem is a
`ConfigError` naming its key path, so the CLI prints them all, one line each.
"""

from __future__ import annotations

import contextlib
import difflib
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from bot.core.errors import ConfigError, FeedError
from bot.core.models import Section
from bot.core.redact import looks_like_token
from bot.feeds.fetch import fetch_feed, parse_feed
from bot.feeds.ingest import split_entries
from bot.settings.config import Config, DestinationConfig, FeedConfig, bundled_feed_path, did_you_mean
from bot.splitting.section_names import SectionMatcher
from bot.splitting.sections import SectionAliases

__all__ = ["FeedSections", "OnlineProbe", "feed_sections", "fetch_feeds", "key_warnings", "newsletter_warnings",
           "offline_problems", "online_problems", "platform_problems", "stored_section_keys"]

#: One platform's live check: (config, its destinations) → problems. Adapters provide them.
OnlineProbe = Callable[[Config, Sequence[DestinationConfig]], Awaitable[list[ConfigError]]]

#: Per feed, the sections its issues have (as name-only `Section`s), or None when not known yet.
FeedSections = dict[str, list[Section] | None]

_SHOWN_KEYS = 12  # section keys listed in a line saying what a feed has
_MAX_SPLIT = 300  # entries of a feed document split to learn its sections (a 20 MB archive needs no more)


def stored_section_keys(db_path: str, feed: str | None = None) -> set[str]:
    """Section keys the database has seen (of one feed's issues, if named), read-only."""
    return {s.key for s in _stored_sections(db_path, feed)}


def _stored_sections(db_path: str, feed: str | None) -> list[Section]:
    """One name-only `Section` per (key, title, heading) the database has for `feed`'s issues (read-only:
    check-config never creates a database)."""
    path = Path(db_path)
    if db_path == ":memory:" or not path.is_file():
        return []
    sql = ("select distinct s.key, s.title, s.heading from sections s join issues i on i.entry_id = s.entry_id"
           " where i.is_newsletter = 1")
    params: tuple[str, ...] = ()
    if feed is not None:
        sql, params = sql + " and i.feed = ?", (feed,)
    with contextlib.suppress(sqlite3.Error):
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            return [_named(key, title, heading) for key, title, heading in conn.execute(sql, params)]
        finally:
            conn.close()
    return []


def _named(key: str, title: str, heading: str) -> Section:
    return Section(key=key, heading=heading or "", title=title or "", emoji="", position=0, items=())


def feed_sections(config: Config, fetched: Mapping[str, bytes] | None = None) -> FeedSections:
    """What each feed's issues are made of: their stored issues, else the split of its local file, else of
    the body `check-config --online` fetched; None for a feed none of these tells about yet."""
    found: FeedSections = {}
    aliases = SectionAliases(config.sections.aliases)
    canonical = set(SectionAliases().known_keys())
    every = any(key not in canonical for key in config.sections.aliases)  # alias keys are checked against all
    needed = {feed for dest in config.destinations if _wants_keys(dest) for feed in _feeds_of(config, dest)}
    for feed in _feeds(config):
        if not every and feed.name not in needed:
            found[feed.name] = None  # no key of this feed's to check: nothing to read
            continue
        sections = _stored_sections(config.storage.path, feed.name)
        body = (fetched or {}).get(feed.name)
        if not sections and body is None and "://" not in feed.url and Path(feed.url).is_file():
            with contextlib.suppress(OSError):
                body = Path(feed.url).read_bytes()
        if not sections and body is not None:
            sections = _split_sections(config, feed.name, feed.url, body, aliases)
        found[feed.name] = sections or None
    return found


def _split_sections(config: Config, name: str, url: str, body: bytes, aliases: SectionAliases) -> list[Section]:
    """The sections of a feed document's issues, split as a poll would (nothing stored)."""

    try:
        entries = parse_feed(name, body, url).entries[:_MAX_SPLIT]
    except FeedError:
        return []  # the feed's own problem is reported by the fetch, or at the first poll
    seen: dict[tuple[str, str, str], Section] = {}
    for issue in split_entries(entries, config, aliases):
        if issue.is_newsletter:
            for section in issue.sections:
                seen.setdefault((section.key, section.title, section.heading),
                                _named(section.key, section.title, section.heading))
    return list(seen.values())


def offline_problems(config: Config, produced: FeedSections | None = None) -> list[ConfigError]:
    """Problems found without any network: files, section/topic/alias keys, storage, tokens.

    Section and topic keys of a destination are checked against the sections its own feeds
    have (`feed_sections`); a destination some of whose feeds are not known yet is left to
    `key_warnings`.
    """
    produced = produced if produced is not None else feed_sections(config)
    problems: list[ConfigError] = []
    problems += _feed_files(config)
    problems += _storage(config)
    problems += _alias_problems(config, produced)
    problems += _destination_problems(config, produced)
    problems += _tokens(config)
    problems += [p for p in [config.web.token_problem()] if p is not None]
    return problems


def _alias_problems(config: Config, produced: FeedSections) -> list[ConfigError]:
    """An alias of a key that is a typo of a known one, or that no feed has (once every feed is known)."""
    canonical = set(SectionAliases().known_keys())
    every_key = {s.key for sections in produced.values() for s in sections or ()}
    all_known = all(sections is not None for sections in produced.values())
    problems = []
    for key in config.sections.aliases:
        if key in canonical or key in every_key:
            continue
        hint = did_you_mean(key, canonical | every_key)
        if hint or (all_known and every_key):  # a typo of a known key, or a key no feed has
            problems.append(ConfigError(f"sections.aliases.{key}", "unknown section key" + hint))
    return problems


def _destination_problems(config: Config, produced: FeedSections) -> list[ConfigError]:
    """Each destination's section and topic keys against its own feeds' sections; topics off Telegram."""
    matcher = SectionMatcher(SectionAliases(config.sections.aliases))
    problems: list[ConfigError] = []
    for dest in config.destinations:
        where = f"destinations.{dest.name}"
        feeds = _feeds_of(config, dest)
        if feeds and all(produced.get(feed) is not None for feed in feeds):
            sections = [s for feed in feeds for s in produced.get(feed) or ()]
            problems += _section_problems(where, dest, feeds, sections, matcher)
        if dest.platform != "telegram" and (dest.topic is not None or dest.topics):
            problems.append(ConfigError(f"{where}.topics", "topics are for Telegram forum groups only"))
    return problems


def key_warnings(config: Config, produced: FeedSections, *, online: bool = False) -> list[str]:
    """One line when some destination's section keys cannot be checked yet (its feeds are not known)."""
    waiting = [dest.name for dest in config.destinations
               if _wants_keys(dest) and any(produced.get(feed) is None for feed in _feeds_of(config, dest))]
    if not waiting:
        return []
    feeds = sorted({feed for dest in config.destinations if dest.name in waiting
                    for feed in _feeds_of(config, dest) if produced.get(feed) is None})
    how = "it could not be fetched" if online else "`check-config --online` fetches it now"
    return [f"destinations {', '.join(waiting)}: section and topic keys will be checked after the first poll "
            f"(nothing stored yet from feed {', '.join(feeds)}, no local feed file to read; {how})"]


def newsletter_warnings(config: Config) -> list[str]:
    """One line when a top-level `[newsletter]` name or title_pattern applies to several feeds at once.

    Each feed is its own newsletter: "NLP Newsletter" as every feed's name labels This Week in
    Rust's issues "NLP Newsletter #635", and one feed's title_pattern drops the other's issues.
    """
    inherit = [f.name for f in config.feeds if not {"name", "title_pattern"} <= f.newsletter.model_fields_set]
    shared = [key for key in ("name", "title_pattern") if getattr(config.newsletter, key)
              and sum(1 for f in config.feeds if key not in f.newsletter.model_fields_set) > 1]
    if len(config.feeds) < 2 or not shared or not inherit:
        return []
    return [f"newsletter.{'/'.join(shared)}: applies to every feed that sets none of its own "
            f"({', '.join(inherit)}); give each feed its own under [feeds.newsletter]"]


def _wants_keys(dest: DestinationConfig) -> bool:
    return any(name != "*" for name in dest.sections) or bool(dest.topics or dest.mention_roles)


def _feeds(config: Config) -> list[FeedConfig]:
    """The configured feeds; with none, the bundled snapshot `digestbot ingest` then reads."""
    return list(config.feeds) or [FeedConfig(name="bundled", url=str(bundled_feed_path()))]


def _feeds_of(config: Config, dest: DestinationConfig) -> list[str]:
    """The feeds a destination takes issues from: those it names, else every feed."""
    names = [feed.name for feed in _feeds(config)]
    if not dest.feeds:
        return names
    # A misspelt feed name (reported on its own line) counts as the feed it is closest to, so that the
    # destination's keys are checked in this same run; with no close one, every feed stands in.
    wanted = {name if name in names else next(iter(difflib.get_close_matches(name, names, n=1, cutoff=0.6)), "")
              for name in dest.feeds}
    return [name for name in names if name in wanted] or names


def _section_problems(where: str, dest: DestinationConfig, feeds: Sequence[str], sections: Sequence[Section],
                      matcher: SectionMatcher) -> list[ConfigError]:
    """The destination's `sections`, `topics` and `mention_roles` against the sections its feeds have."""
    keys = sorted({s.key for s in sections})
    problems: list[ConfigError] = []
    for name in dest.sections:
        if not any(matcher.names_exactly(name, section) for section in sections):
            problems.append(ConfigError(f"{where}.sections",
                                        f"unknown section {name!r}" + _hint(name, sections, keys, feeds, matcher)))
    for field, mapping in (("topics", dest.topics), ("mention_roles", dest.mention_roles)):
        for key in mapping:
            if key not in keys:
                problems.append(ConfigError(f"{where}.{field}.{key}",
                                            "unknown section key" + _hint(key, sections, keys, feeds, matcher)))
    return problems


def _hint(name: str, sections: Sequence[Section], keys: Sequence[str], feeds: Sequence[str],
          matcher: SectionMatcher) -> str:
    """` (did you mean "education"?)` for a near key or name, either side of a typo; else what the feeds have."""
    hint = did_you_mean(name, keys)
    if not hint:
        titles = {s.title.casefold(): s.key for s in sections if s.title}
        close = difflib.get_close_matches(name.casefold(), sorted(titles), n=1, cutoff=0.6)
        if close:
            hint = f' (did you mean "{titles[close[0]]}"?)'
    if not hint:
        guess = matcher.aliases.key_for(name)
        if guess in keys:
            hint = f' (did you mean "{guess}"?)'
    if hint:
        return hint
    shown = ", ".join(keys[:_SHOWN_KEYS]) + (", …" if len(keys) > _SHOWN_KEYS else "")
    return f" (feed{'s' if len(feeds) > 1 else ''} {', '.join(feeds)} ha{'ve' if len(feeds) > 1 else 's'}: {shown})"


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
    problems, _bodies = await fetch_feeds(config)
    return problems + await platform_problems(config, probes)


async def platform_problems(config: Config, probes: Mapping[str, OnlineProbe]) -> list[ConfigError]:
    """One live call per platform in use, with its destinations."""
    problems: list[ConfigError] = []
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


async def fetch_feeds(config: Config) -> tuple[list[ConfigError], dict[str, bytes]]:
    """Fetch and parse each feed once, as a poll would (nothing is stored): its problems, and the bodies
    (which `feed_sections` splits to check section keys)."""

    problems = []
    bodies: dict[str, bytes] = {}
    for feed in config.feeds:
        try:
            fetched = await fetch_feed(feed.name, feed.url, timeout=feed.timeout, max_bytes=feed.max_bytes)
            parsed = parse_feed(feed.name, fetched.body, fetched.url)
        except FeedError as exc:
            problems.append(ConfigError(f"feeds.{feed.name}.url", exc.reason))
            continue
        if not parsed.entries:
            problems.append(ConfigError(f"feeds.{feed.name}.url", "the feed has no entries"))
        bodies[feed.name] = fetched.body
    return problems, bodies


async def fetch_problems(config: Config) -> list[ConfigError]:
    """Fetch and parse each feed once, as a poll would (nothing is stored)."""
    return (await fetch_feeds(config))[0]
