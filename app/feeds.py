"""Which feed a command reads (`--feed URL|PATH` or the configured ones), and what `preview` shows of it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from app.context import Context
from bot.core.models import Issue
from bot.feeds.fetch import fetch_feed, parse_feed
from bot.feeds.ingest import split_entries
from bot.settings.config import FeedConfig, bundled_feed_path

__all__ = ["PreviewRequest", "feed_for", "issue_json", "preview_issues", "read_issues"]


def feed_for(ctx: Context, feed: str | None) -> FeedConfig:
    """The feed `--feed URL|PATH` names: a configured feed at that address keeps its name (and so its
    newsletter settings and its issues' identity), any other is the feed "cli"."""
    if feed:
        url = feed if "://" in feed else str(Path(feed).resolve())
        configured = next((f for f in ctx.config.feeds
                           if (f.url if "://" in f.url else str(Path(f.url).resolve())) == url), None)
        return configured or FeedConfig(name="cli", url=url)
    if ctx.config.feeds:
        return ctx.config.feeds[0]
    return FeedConfig(name="bundled", url=str(bundled_feed_path()))


async def read_issues(ctx: Context, feed: FeedConfig) -> list[Issue]:
    """The feed's issues as they would be stored, without storing them (`preview`)."""
    fetched = await fetch_feed(feed.name, feed.url, timeout=feed.timeout, max_bytes=feed.max_bytes)
    parsed = parse_feed(feed.name, fetched.body, fetched.url)
    return split_entries(parsed.entries, ctx.config, ctx.aliases())


def issue_json(issue: Issue) -> dict[str, Any]:
    return {
        "id": issue.entry_id, "link": issue.link, "title": issue.title, "language": issue.language,
        "number": issue.number,
        "sections": [
            {"key": s.key, "heading": s.heading,
             "items": [{"title": i.title, "text": i.text, "images": list(i.images), "links": list(i.links)}
                       for i in s.items]}
            for s in issue.sections
        ],
    }


@dataclass(frozen=True, slots=True)
class PreviewRequest:
    """What `preview` shows: a feed (None: the first configured), and optionally one issue number,
    one language, one section key."""

    feed: str | None = None
    issue: int | None = None
    lang: str | None = None
    section: str | None = None


async def preview_issues(ctx: Context, request: PreviewRequest) -> list[Issue]:
    """The newsletter issues `request` asks for, split as they would be stored; nothing is stored."""
    issues = [i for i in await read_issues(ctx, feed_for(ctx, request.feed)) if i.is_newsletter]
    if request.issue is not None:
        issues = [i for i in issues if i.number == request.issue]
    if request.lang:
        lang = request.lang.lower()
        issues = [i for i in issues if i.language == lang]
    if request.section:
        key = request.section
        issues = [replace(i, sections=tuple(s for s in i.sections if s.key == key)) for i in issues]
    return issues
