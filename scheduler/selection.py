"""Which issues and which sections a destination receives (pure functions).

Kept apart from the outbox so that "what to send" is testable without a database
and so every schedule (on_publish, cron drip, digest) selects alike.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from bot.models import Issue, IssueRef, Section
from bot.ports import Destination

__all__ = ["dest_feeds", "matches_issue", "normalize", "selected_sections", "selection_fingerprint"]


def normalize(text: str) -> str:
    """Case-, accent- and emoji-insensitive form of a section key or name ("Outils et jeux" → "outilsetjeux")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


def dest_feeds(dest: Destination) -> tuple[str, ...]:
    """The feeds a destination listens to (empty: every feed)."""
    return tuple(dest.options.get("feeds") or ())


def matches_issue(dest: Destination, ref: IssueRef | Issue, feed: str | None = None) -> bool:
    """True when the edition's language (and feed, if known) is one the destination takes."""
    if dest.languages and ref.language.lower() not in {lang.lower() for lang in dest.languages}:
        return False
    feeds = dest_feeds(dest)
    return not (feeds and feed is not None and feed not in feeds)


def _wanted(section: Section, wanted: Iterable[str]) -> bool:
    if "*" in wanted or section.key in wanted:
        return True
    names = {normalize(section.key), normalize(section.title), normalize(section.heading)}
    for entry in wanted:
        if entry == "*" or entry == section.key:
            return True
        norm = normalize(entry)
        if norm and (norm in names or normalize(section.title).startswith(norm)):
            return True
    return False


def selected_sections(dest: Destination, issue: Issue) -> list[Section]:
    """The issue's sections the destination asked for, in the order they were published."""
    ordered = sorted(issue.sections, key=lambda s: s.position)
    wanted = tuple(dest.sections) or ("*",)
    return [section for section in ordered if section.items and _wanted(section, wanted)]


def selection_fingerprint(dest: Destination) -> str:
    """What decides which *issues* a destination takes; a change re-runs the no-flood backfill rule."""
    langs = ",".join(sorted(lang.lower() for lang in dest.languages))
    return f"langs={langs};feeds={','.join(sorted(dest_feeds(dest)))}"
