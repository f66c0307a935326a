"""The one section-name matcher: does a name someone typed or configured denote this section?

Three callers ask it, and they must agree: the query engine (`/section outils`, the
Discord autocomplete, `/subscribe outils`) and the scheduler (a destination's
`sections = ["outils"]`). Names are compared with the section's key, heading, title,
emoji and every alias of its key in every language (`SectionAliases`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.core.models import Section
from bot.core.textforms import compact_form
from bot.splitting.sections import SectionAliases, normalize, strip_variation

__all__ = ["FUZZY_THRESHOLD", "Ranked", "SectionMatcher"]

FUZZY_THRESHOLD = 74.0
_PREFIX_SCORE = 95.0
_EXACT_SCORE = 100.0


@dataclass(frozen=True, slots=True)
class Ranked:
    """A section's position in its edition and how well the words name it (0–100)."""

    position: int
    score: float


class SectionMatcher:
    """Matches names against sections; holds the alias table and a cache of resolved names."""

    def __init__(self, aliases: SectionAliases | None = None) -> None:
        self._aliases = aliases
        self._keys: dict[str, str] = {}

    @property
    def aliases(self) -> SectionAliases:
        if self._aliases is None:  # built on first use: the default table costs a few ms
            self._aliases = SectionAliases()
        return self._aliases

    def _names(self, section: Section) -> list[str]:
        return [section.heading, section.title, section.key, *self.aliases.aliases(section.key)]

    # ------------------------------------------------------------------ chat queries
    def rank(self, words: str, sections: Sequence[Section]) -> list[Ranked]:
        """Score every section against the asker's words, best first (only plausible ones).

        Exact names (any language), emoji and keys score 100; a word prefix ("outil")
        scores 95; otherwise fuzzy similarity of words catches typos ("outlis").
        """
        wanted = normalize(words)
        wanted_emoji = _emoji_form(words.strip())
        ranked: list[Ranked] = []
        for section in sections:
            score = 0.0
            if section.emoji and wanted_emoji and wanted_emoji == _emoji_form(section.emoji):
                score = _EXACT_SCORE
            names = {normalize(n) for n in (*self._names(section), section.key.replace("_", " "))}
            names.discard("")
            for name in names:
                score = max(score, _score(wanted, name))
            if score >= FUZZY_THRESHOLD:
                ranked.append(Ranked(section.position, score))
        ranked.sort(key=lambda r: -r.score)
        return ranked

    def choices(self, prefix: str, sections: Sequence[Section]) -> list[Section]:
        """Autocomplete: the sections one of whose names contains what was typed so far."""
        wanted = normalize(prefix)
        return [s for s in sections if not wanted or any(wanted in normalize(name) for name in self._names(s))]

    def key_for(self, name: str, sections: Sequence[Section], lang: str | None = None) -> str | None:
        """The canonical key a name stands for: the best section of `sections`, else a known alias; else None."""
        ranked = self.rank(name, sections)
        if ranked:
            return next(s.key for s in sections if s.position == ranked[0].position)
        candidate = self.aliases.key_for(name, lang)
        return candidate if candidate in self.aliases.known_keys() else None

    # ------------------------------------------------------------------ configured selections
    def wanted(self, section: Section, wanted: Iterable[str]) -> bool:
        """Whether a destination that asked for `wanted` (keys or names, "*" for all) takes `section`."""
        wanted = tuple(wanted) or ("*",)
        if "*" in wanted or section.key in wanted:
            return True
        if any(self._alias_key(entry) == section.key for entry in wanted):
            return True
        names = {compact_form(section.key), compact_form(section.title), compact_form(section.heading)}
        for entry in wanted:
            norm = compact_form(entry)
            if norm and (norm in names or compact_form(section.title).startswith(norm)):
                return True
        return False

    def names_exactly(self, entry: str, section: Section) -> bool:
        """`entry` is the section's key, one of its key's known names, or its title or heading (case, accents,
        spaces and emoji aside) — no prefix or close-spelling guess: what `check-config` accepts in a config."""
        if entry == "*" or entry == section.key or self.aliases.exact_key(entry) == section.key:
            return True
        norm = compact_form(entry)
        return bool(norm) and norm in {compact_form(name) for name in (section.key, section.title, section.heading)}

    def _alias_key(self, name: str) -> str:
        if name not in self._keys:
            self._keys[name] = self.aliases.key_for(name)
        return self._keys[name]


def _score(wanted: str, name: str) -> float:
    if wanted == name:
        return _EXACT_SCORE
    name_words = name.split()
    wanted_words = wanted.split()
    if len(wanted) >= 3 and all(any(nw.startswith(ww) for nw in name_words) for ww in wanted_words):
        return _PREFIX_SCORE
    return max(fuzz.ratio(wanted, name), _word_score(wanted_words, name_words))


def _word_score(wanted: list[str], name: list[str]) -> float:
    """Average best fuzzy score of each wanted word against the name's words."""
    if not wanted or not name:
        return 0.0
    return sum(max(fuzz.ratio(w, n) for n in name) for w in wanted) / len(wanted)


def _emoji_form(text: str) -> str:
    """Emoji as compared: no variation selectors (`strip_variation`), no spaces ("⚙️ " and "⚙" meet)."""
    return "".join(ch for ch in strip_variation(text) if unicodedata.category(ch) != "Zs")
