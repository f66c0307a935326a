"""Which issues and which sections a destination receives (pure functions).

Kept apart from the outbox so that "what to send" is testable without a database
and so every schedule (on_publish, cron drip, digest) selects alike.
"""

from __future__ import annotations

from bot.filters import ItemFilter
from bot.models import Issue, IssueRef, Section
from bot.ports import Destination
from bot.section_names import SectionMatcher

__all__ = ["SectionMatcher", "dest_feeds", "matches_issue", "selected_sections", "selection_fingerprint"]


def dest_feeds(dest: Destination) -> tuple[str, ...]:
    """The feeds a destination listens to (empty: every feed)."""
    return tuple(dest.options.get("feeds") or ())


def matches_issue(dest: Destination, ref: IssueRef | Issue, feed: str | None = None) -> bool:
    """True when the edition's language (and feed, if known) is one the destination takes."""
    if dest.languages and ref.language.lower() not in {lang.lower() for lang in dest.languages}:
        return False
    feeds = dest_feeds(dest)
    return not (feeds and feed is not None and feed not in feeds)


_DEFAULT = SectionMatcher()


def selected_sections(dest: Destination, issue: Issue, matcher: SectionMatcher | None = None) -> list[Section]:
    """The issue's non-empty sections the destination asked for, in the order they were published.

    The destination's topic filters (`include`/`exclude`) are applied per item here, so every
    schedule, the digest and the index see the same filtered sections; a section left empty
    is not selected.
    """
    match = matcher or _DEFAULT
    keep = ItemFilter.from_options(dest.options)
    ordered = sorted(issue.sections, key=lambda s: s.position)
    chosen = (keep.section(section) for section in ordered if section.items and match.wanted(section, dest.sections))
    return [section for section in chosen if section is not None]


def selection_fingerprint(dest: Destination) -> str:
    """What decides which *issues* a destination takes; a change re-runs the no-flood backfill rule."""
    langs = ",".join(sorted(lang.lower() for lang in dest.languages))
    return f"langs={langs};feeds={','.join(sorted(dest_feeds(dest)))}"
