"""The filter tester: a destination's include/exclude terms tried on the newest issue it would receive.

Nothing is saved: the page shows, item by item, what `bot.contract.filters.ItemFilter` (the one
filter implementation, the one every send applies through `selected_sections`) keeps
and drops, and the TOML lines (or the `/subscribe` words) that would set those terms.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from bot.contract.destination import Destination
from bot.contract.filters import MAX_TERMS, ItemFilter, term_problem
from bot.core.models import Issue, Item, Section
from bot.splitting.section_names import SectionMatcher
from bot.storage.store import Store
from scheduler.planner import Planner

__all__ = ["FilterTrial", "ItemVerdict", "SectionTrial", "parse_terms", "try_filters"]


@dataclass(frozen=True, slots=True)
class ItemVerdict:
    item: Item
    kept: bool
    why: str  # "" when kept; else which rule dropped it

    @property
    def title(self) -> str:
        return self.item.title.strip() or " ".join(self.item.text.split()[:12]) + "…"


@dataclass(frozen=True, slots=True)
class SectionTrial:
    section: Section
    items: tuple[ItemVerdict, ...]

    @property
    def kept(self) -> int:
        return sum(1 for v in self.items if v.kept)


@dataclass(frozen=True, slots=True)
class FilterTrial:
    issue: Issue | None
    filter: ItemFilter
    sections: tuple[SectionTrial, ...]
    problems: tuple[str, ...]

    @property
    def kept(self) -> int:
        return sum(s.kept for s in self.sections)

    @property
    def total(self) -> int:
        return sum(len(s.items) for s in self.sections)

    @property
    def posted(self) -> tuple[SectionTrial, ...]:
        """The sections a send would post: those with at least one item kept."""
        return tuple(s for s in self.sections if s.kept)

    @property
    def toml(self) -> str:
        return "\n".join(f"{key} = [{', '.join(json.dumps(t, ensure_ascii=False) for t in terms)}]"
                         for key, terms in (("include", self.filter.include), ("exclude", self.filter.exclude)))

    @property
    def subscribe(self) -> str:
        """The same terms as `/subscribe` words (+word, -"a phrase")."""
        def word(sign: str, term: str) -> str:
            return f'{sign}"{term}"' if " " in term else f"{sign}{term}"
        return " ".join([word("+", t) for t in self.filter.include] + [word("-", t) for t in self.filter.exclude])


def parse_terms(field: str, text: str) -> tuple[tuple[str, ...], list[str]]:
    """One term per line (or comma-separated); each checked as config checks it, the bad ones named."""
    raw = [t.strip().strip('"').strip() for line in text.splitlines() for t in line.split(",")]
    terms: list[str] = []
    problems = []
    for term in (t for t in raw if t):
        problem = term_problem(term)
        if problem:
            problems.append(f"{field}: {term[:40]!r} {problem}")
        elif term not in terms:
            terms.append(term)
    if len(terms) > MAX_TERMS:
        problems.append(f"{field}: at most {MAX_TERMS} terms ({len(terms)} given)")
    return tuple(terms[:MAX_TERMS]), problems


def newest_issue(store: Store, planner: Planner, dest: Destination) -> Issue | None:
    """The newest edition in the destination's languages (and feeds), as `send` without a number picks it."""
    ref = next(iter(planner.candidates(dest)), None)
    return planner.issue(ref.entry_id) if ref is not None else None


def try_filters(issue: Issue | None, dest: Destination, matcher: SectionMatcher, keep: ItemFilter,
                problems: Sequence[str] = ()) -> FilterTrial:
    """Each item of the sections the destination takes, kept or dropped by `keep`, with the reason."""
    if issue is None:
        return FilterTrial(None, keep, (), tuple(problems))
    sections = []
    for section in sorted(issue.sections, key=lambda s: s.position):
        if not section.items or not matcher.wanted(section, dest.sections):
            continue
        sections.append(SectionTrial(section, tuple(_verdict(item, keep) for item in section.items)))
    return FilterTrial(issue, keep, tuple(sections), tuple(problems))


def _verdict(item: Item, keep: ItemFilter) -> ItemVerdict:
    if keep.keeps(item):
        return ItemVerdict(item, True, "")
    if keep.include and not ItemFilter(include=keep.include).keeps(item):
        return ItemVerdict(item, False, "mentions none of the included terms")
    term = next((t for t in keep.exclude if ItemFilter(include=(t,)).keeps(item)), "")
    return ItemVerdict(item, False, f"mentions “{term}” (excluded)")
