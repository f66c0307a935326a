"""Edition matching: which issue number an edition belongs to when it does not say.

A translated edition often states no number ("NLP 简报：Tokenizers, TensorFlow 2.1…",
an Arabic title with no marker), but it shares traits with the edition that does:
the same figures, the same item links, the same subtitle, the same link slug. This
module compares those traits; the splitter never needs it, the ingest step does
(after every entry of a poll is split), which is why it lives apart.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Final
from urllib.parse import unquote, urlsplit

from bot.core.models import Issue, IssueRef

__all__ = ["assign_numbers", "number_series", "series_of"]

log = logging.getLogger(__name__)


def assign_numbers(issues: Sequence[Issue], known: Sequence[IssueRef] = ()) -> list[Issue]:
    """Fill the `number` of editions that do not state it, from other editions of the same issue.

    Editions of one issue share their images (translations reuse the figures), their
    item links, the subtitle after the title's ':' (or most of its words: "GPT-2
    Anotado, Entendendo self-distillation, Haiku…"), and their link slug once language
    markers are removed. An edition takes the number of its best match when the match
    is clear; numbers already stated are never changed.

    Args:
        issues: editions being ingested, in any order.
        known: editions already stored (only title and link are compared for those).

    Returns:
        The issues in the same order, numbered where a match was found.
    """
    result = list(issues)
    if all(issue.number is not None or not issue.is_newsletter for issue in result):
        return result  # the usual case: every edition states its number, nothing to compare
    profiles = [_Profile.of_issue(issue) for issue in result]
    known_profiles = [_Profile.of_ref(ref) for ref in known if ref.number is not None]
    rarity = trait_counts([*profiles, *known_profiles])
    changed = True
    while changed:
        changed = False
        numbered = [p for p in profiles if p.number is not None] + known_profiles
        sharing = _TraitIndex(numbered, rarity)
        for index, issue in enumerate(result):
            if issue.number is not None or not issue.is_newsletter:
                continue
            mine = profiles[index]
            best, best_score = None, 0.0
            for other in sharing.candidates(mine):
                if other.entry_id == mine.entry_id:
                    continue
                score = mine.similarity(other)
                if score > best_score:
                    best, best_score = other, score
                    if score >= 1.0:
                        break  # similarity is at most 1.0: no later candidate can beat this one
            if best is not None and best_score >= _MATCH_THRESHOLD:
                result[index] = replace(issue, number=best.number)
                profiles[index] = replace(mine, number=best.number)
                log.debug("entry %r: issue number %s taken from %r (score %.2f)", issue.entry_id, best.number,
                          best.entry_id, best_score)
                changed = True
    return result


# "Birding Notes 41", "Birding Notes 42: Owls", "NLP Newsletter 14 [EN]": a series name, then the number,
# then nothing, a subtitle or a bracketed language marker.
_SERIES_TITLE = re.compile(r"^(.*?[^\d\s.,#])\s*[#:|\-–—]?\s*(\d{1,4})\s*(?:$|[:|\-–—]\s|[(\[（【])")
_MIN_SERIES = 3


def series_of(issues: Sequence[Issue]) -> dict[int, tuple[str, int]]:
    """Index → (series name, number) of the entries whose titles are "<same words> <n>" across the feed.

    A series needs at least three entries, each with a different number: the words a number
    follows are the series' name when other entries of the poll carry the same words with
    other numbers; one title alone could be "Python 3".
    """
    found: dict[int, tuple[str, int]] = {}
    for index, issue in enumerate(issues):
        match = _SERIES_TITLE.match(issue.title)
        if match and not 1990 <= int(match.group(2)) <= 2099 and int(match.group(2)) > 0:
            found[index] = (" ".join(match.group(1).casefold().split()), int(match.group(2)))
    by_series: dict[str, list[int]] = {}
    for index, (series, _number) in found.items():
        by_series.setdefault(series, []).append(index)
    members: dict[int, tuple[str, int]] = {}
    for indexes in by_series.values():
        numbers = [found[index][1] for index in indexes]
        if len(indexes) >= _MIN_SERIES and len(set(numbers)) == len(numbers):
            members.update((index, found[index]) for index in indexes)
    return members


def number_series(issues: Sequence[Issue]) -> list[Issue]:
    """Number the entries of a numbered series (`series_of`) that state no number otherwise.

    Run before deciding which entries are issues, since a numbered series is one of the signs.
    """
    result = list(issues)
    for index, (_series, number) in series_of(issues).items():
        if result[index].number is None:
            result[index] = replace(result[index], number=number)
    return result


_MATCH_THRESHOLD = 0.5
# The Jaccard similarity each trait needs to reach _MATCH_THRESHOLD in `_Profile.similarity`
# (images count 1.5×; one shared slug is a full match).
_MIN_JACCARD: Final = {"image": Fraction(1, 3), "link": Fraction(1, 2), "word": Fraction(1, 2), "slug": Fraction(0)}
_SLUG_NOISE = re.compile(
    r"(?i)(?:^|[-_.\[(#])(?:fr|pt-br|pt|zh|ch|cn|tr|es|ar|en)(?=$|[-_.\])#])|\.md$|issue[-_]?\d+|nlp[-_]\d+"
)
_WORDS = re.compile(r"[^\W_]+(?:-[^\W_]+)*", re.UNICODE)


def _subtitle(title: str) -> str:
    for sep in (":", "：", " - ", " — "):
        if sep in title:
            return title.split(sep, 1)[1].strip()
    return ""


def _slug(link: str) -> str:
    path = unquote(urlsplit(link).path if "://" in link else link)
    path = path.strip("/").rsplit("/", 1)[-1]
    path = _SLUG_NOISE.sub("_", path)
    return re.sub(r"[-_.,\s]+", "_", path).strip("_").casefold()


@dataclass(frozen=True)
class _Profile:
    entry_id: str
    number: int | None
    subtitle_words: frozenset[str]
    slugs: frozenset[str]
    images: frozenset[str]
    links: frozenset[str]

    @classmethod
    def of_issue(cls, issue: Issue) -> _Profile:
        images: set[str] = set()
        links: set[str] = set()
        for section in issue.sections:
            for item in section.items:
                images.update(item.images)
                links.update(item.links)
        return cls(issue.entry_id, issue.number, _word_set(_subtitle(issue.title)),
                   frozenset(s for s in (_slug(issue.link), _slug(issue.entry_id)) if len(s) >= 8),
                   frozenset(images), frozenset(links))

    @classmethod
    def of_ref(cls, ref: IssueRef) -> _Profile:
        return cls(ref.entry_id, ref.number, _word_set(_subtitle(ref.title)),
                   frozenset(s for s in (_slug(ref.link), _slug(ref.entry_id)) if len(s) >= 8),
                   frozenset(), frozenset())

    def similarity(self, other: _Profile) -> float:
        """0..1: the strongest shared trait (same figures, same links, same subtitle, same slug)."""
        scores = [
            _jaccard(self.images, other.images) * 1.5 if len(self.images) >= 2 else 0.0,
            _jaccard(self.links, other.links) if len(self.links) >= 3 else 0.0,
            _jaccard(self.subtitle_words, other.subtitle_words) if len(self.subtitle_words) >= 3 else 0.0,
            1.0 if self.slugs & other.slugs else 0.0,
        ]
        return min(1.0, max(scores))

    def traits(self) -> tuple[tuple[str, frozenset[str]], ...]:
        """The sets `similarity` compares, by kind."""
        return ("image", self.images), ("link", self.links), ("word", self.subtitle_words), ("slug", self.slugs)


class _TraitIndex:
    """Numbered editions by their rarest traits, so an edition is compared only with those that could match.

    Comparing every unnumbered edition with every numbered one is quadratic (12,000
    unnumbered entries took minutes). A match needs a score of `_MATCH_THRESHOLD`, which
    for each trait is a Jaccard similarity of at least `_MIN_JACCARD[kind]`; two sets that
    similar must share one of each set's `len - ceil(t·len) + 1` rarest members (prefix
    filtering, as in similarity joins). So the candidates are a superset of every edition
    scoring at or above the threshold, visited in the original order: the same best match
    as comparing with all of them.
    """

    def __init__(self, numbered: Sequence[_Profile], rarity: Mapping[tuple[str, str], int]) -> None:
        self._numbered = numbered
        self._rarity = rarity
        self._by_trait: dict[tuple[str, str], list[int]] = {}
        for position, profile in enumerate(numbered):
            for trait in self._prefix(profile):
                self._by_trait.setdefault(trait, []).append(position)

    def candidates(self, profile: _Profile) -> list[_Profile]:
        positions: set[int] = set()
        for trait in self._prefix(profile):
            positions.update(self._by_trait.get(trait, ()))
        return [self._numbered[position] for position in sorted(positions)]

    def _prefix(self, profile: _Profile) -> Iterator[tuple[str, str]]:
        for kind, values in profile.traits():
            least = _MIN_JACCARD[kind]
            shared = -(-len(values) * least.numerator // least.denominator)  # ceil(t·len), exactly
            ordered = sorted(((kind, value) for value in values), key=lambda trait: (self._rarity[trait], trait))
            yield from ordered[: len(values) - max(shared, 1) + 1]


def trait_counts(profiles: Iterable[_Profile]) -> Counter[tuple[str, str]]:
    """How many editions carry each trait: the rarest come first in every prefix."""
    return Counter((kind, value) for profile in profiles for kind, values in profile.traits() for value in values)


def _word_set(text: str) -> frozenset[str]:
    return frozenset(w.casefold() for w in _WORDS.findall(text) if len(w) >= 3 or any(c.isdigit() for c in w))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)  # |a ∪ b| without building the union

