"""What a destination receives from an issue: THE one answer (pure functions, no database).

Every consumer asks here — the scheduler's on_publish, drip and digest, `send` and its dry
run, `plan`, `status`, the panel's *Send now* and previews — so a destination's feeds,
languages, sections, topic filters and schedule kind mean the same thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.contract.destination import Destination
from bot.contract.schedule import Digest
from bot.core.messages import DigestPost, IndexEntry, IndexPost, Post, SectionPost
from bot.core.models import Issue, IssueRef, Section
from bot.splitting.section_names import SectionMatcher

__all__ = ["Receipt", "SectionMatcher", "matches_issue", "receives", "selected_sections",
           "selection_fingerprint"]


def matches_issue(dest: Destination, ref: IssueRef | Issue, feed: str | None = None) -> bool:
    """True when the edition's language (and feed, when known) is one the destination takes."""
    if dest.languages and ref.language.lower() not in {lang.lower() for lang in dest.languages}:
        return False
    feed = feed if feed is not None else (ref.feed or None if isinstance(ref, Issue) else None)
    return not (dest.feeds and feed is not None and feed not in dest.feeds)


_DEFAULT = SectionMatcher()


def selected_sections(dest: Destination, issue: Issue, matcher: SectionMatcher | None = None) -> list[Section]:
    """The issue's non-empty sections the destination asked for, in the order they were published.

    The destination's topic filters are applied per item here, so every schedule, the digest
    and the index see the same filtered sections; a section left empty is not selected.
    """
    match = matcher or _DEFAULT
    ordered = sorted(issue.sections, key=lambda s: s.position)
    chosen = (dest.filters.section(section) for section in ordered
              if section.items and match.wanted(section, dest.sections))
    return [section for section in chosen if section is not None]


@dataclass(frozen=True, slots=True)
class Receipt:
    """What one destination receives from one edition: its sections, as a digest or one by one, and
    whether an index follows them."""

    issue: Issue
    sections: tuple[Section, ...]
    digest: bool
    index: bool

    def posts(self, urls: dict[str, str | None] | None = None) -> list[Post]:
        """The posts, in the order they go out; the index links to `urls` (section key → message URL)
        once the sections are out (without them, as a dry run shows it)."""
        if not self.sections:
            return []
        ref = self.issue.ref
        if self.digest:
            return [DigestPost(issue=ref, sections=self.sections, notify=True)]
        posts: list[Post] = [SectionPost(issue=ref, section=s, notify=i == 0) for i, s in enumerate(self.sections)]
        if self.index:
            links = urls or {}
            posts.append(IndexPost(issue=ref, entries=tuple(IndexEntry(s.ref, links.get(s.key))
                                                            for s in self.sections)))
        return posts


def receives(dest: Destination, issue: Issue, matcher: SectionMatcher | None = None, *,
             only: str | None = None) -> Receipt:
    """THE answer to "what does `dest` receive from `issue`" (nothing when feed or language differ).

    `only` (a section key) is `send --section`: that section alone (through the destination's
    topic filters), never a digest nor an index.
    """
    if not matches_issue(dest, issue):
        return Receipt(issue, (), digest=False, index=False)
    if only is not None:
        section = next((s for s in issue.sections if s.key == only and s.items), None)
        kept = dest.filters.section(section) if section is not None else None
        return Receipt(issue, (kept,) if kept is not None else (), digest=False, index=False)
    sections = tuple(selected_sections(dest, issue, matcher))
    digest = isinstance(dest.schedule, Digest)
    return Receipt(issue, sections, digest=digest, index=not digest and dest.index and len(sections) >= 2)


def selection_fingerprint(dest: Destination) -> str:
    """What decides which *issues* a destination takes; a change re-runs the no-flood backfill rule."""
    langs = ",".join(sorted(lang.lower() for lang in dest.languages))
    return f"langs={langs};feeds={','.join(sorted(dest.feeds))}"
