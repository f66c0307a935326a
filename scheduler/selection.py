"""Which issues and which sections a destination receives (pure functions).

Kept apart from the outbox so that "what to send" is testable without a database
and so every schedule (on_publish, cron drip, digest) selects alike.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from bot.models import Issue, IssueRef, Section
from bot.ports import Destination
from bot.sections import SectionAliases

__all__ = ["SectionMatcher", "dest_feeds", "matches_issue", "normalize", "selected_sections", "selection_fingerprint"]


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


class SectionMatcher:
    """Decides whether a section is one a destination asked for, by key or by name in any language.

    Names are resolved to canonical keys with `SectionAliases` ("tools", "outils" →
    "tools_datasets"), then compared loosely with the section's own key and title.
    """

    def __init__(self, aliases: SectionAliases | None = None) -> None:
        self._aliases = aliases
        self._keys: dict[str, str] = {}

    def _key_for(self, name: str) -> str:
        if name not in self._keys:
            if self._aliases is None:
                self._aliases = SectionAliases()
            self._keys[name] = self._aliases.key_for(name)
        return self._keys[name]

    def wanted(self, section: Section, wanted: Iterable[str]) -> bool:
        wanted = tuple(wanted) or ("*",)
        if "*" in wanted or section.key in wanted:
            return True
        if any(self._key_for(entry) == section.key for entry in wanted):
            return True
        names = {normalize(section.key), normalize(section.title), normalize(section.heading)}
        for entry in wanted:
            norm = normalize(entry)
            if norm and (norm in names or normalize(section.title).startswith(norm)):
                return True
        return False


_DEFAULT = SectionMatcher()


def selected_sections(dest: Destination, issue: Issue, matcher: SectionMatcher | None = None) -> list[Section]:
    """The issue's non-empty sections the destination asked for, in the order they were published."""
    match = matcher or _DEFAULT
    ordered = sorted(issue.sections, key=lambda s: s.position)
    return [section for section in ordered if section.items and match.wanted(section, dest.sections)]


def selection_fingerprint(dest: Destination) -> str:
    """What decides which *issues* a destination takes; a change re-runs the no-flood backfill rule."""
    langs = ",".join(sorted(lang.lower() for lang in dest.languages))
    return f"langs={langs};feeds={','.join(sorted(dest_feeds(dest)))}"
