"""Topic filters of a destination: "only items about X" (`include`), "never items about Y" (`exclude`).

A term is a word or a phrase, compared case- and accent-insensitively with whole words of an
item's title and text ("bert" matches "BERT," but not "Roberta"; "modèle de langue" matches
"Modele  de langue"). Terms are never regular expressions: a reader's text cannot make a
pattern that hangs the bot. Filters apply per item, so a section whose items are all filtered
out is not posted at all, and what is not posted is not listed in the index either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache

from bot.core.models import Item, Section
from bot.core.textforms import plain_fold

__all__ = ["MAX_TERM", "MAX_TERMS", "ItemFilter", "fold", "term_problem"]

MAX_TERMS = 50  # per list; more is a sign of a pasted document, not of a filter
MAX_TERM = 100  # characters of one term


def fold(text: str) -> str:
    """Case- and accent-free text with single spaces between word characters ("Éthique," → "ethique")."""
    return " ".join(re.findall(r"\w+", plain_fold(text)))


def term_problem(term: str) -> str | None:
    """Why a configured or typed term cannot be a filter term, or None when it can."""
    if len(term) > MAX_TERM:
        return f"is longer than {MAX_TERM} characters"
    if not fold(term):
        return "has no letter or digit"
    return None


@cache
def _pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation of escaped, folded terms between word boundaries (built by us, never by a user)."""
    folded = sorted({fold(term) for term in terms} - {""}, key=len, reverse=True)
    if not folded:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(term) for term in folded) + r")(?!\w)")


@dataclass(frozen=True, slots=True)
class ItemFilter:
    """A destination's include/exclude terms; the empty filter keeps everything."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)

    def keeps(self, item: Item) -> bool:
        """Whether an item passes: it names an included term (if any are set) and no excluded one."""
        text = fold(f"{item.title}\n{item.text}")
        include, exclude = _pattern(self.include), _pattern(self.exclude)
        if include is not None and not include.search(text):
            return False
        return exclude is None or not exclude.search(text)

    def section(self, section: Section) -> Section | None:
        """The section with only the items that pass, or None when none does."""
        if not self:
            return section
        items = tuple(item for item in section.items if self.keeps(item))
        if not items:
            return None
        return section if len(items) == len(section.items) else replace(section, items=items)
