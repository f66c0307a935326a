"""Which entries of a feed are newsletter issues, with no configuration for a dedicated feed.

A feed that carries a newsletter (This Week in Rust, a Substack, the dair.ai NLP
Newsletter's own feed) is recognised by its shape: most of its entries have several
sections, and their sections recur from one entry to the next ("Jobs", "Crate of the
Week", "Publications"). An entry is taken when

- its title matches `[newsletter] title_pattern` (the override for mixed feeds, such as
  a blog whose feed carries newsletters among articles), or, with no pattern set, says
  "newsletter" in one of the known languages;
- or at least two of its sections are known canonical sections;
- or, with no pattern set, it shares the sections that recur across the feed, in a feed
  where most entries do; or it states an issue number ("Import AI 350", "#42") in a feed
  where most entries have sections (newsletters whose section names change every issue):
  a dedicated newsletter feed needs no configuration at all.

Every entry also needs `min_sections` sections, except one of a numbered series
("NLP Newsletter 13", "… 14", "… 15") whose other entries are issues: "NLP Newsletter 14
[EN]" with two sections is an issue of its series all the same. One INFO line per feed
and poll says how many entries were taken and why the others were skipped; the counts
are returned too (`Verdicts`), for `ingest` and `status`.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

from bot.core.models import Issue
from bot.settings.config import NewsletterConfig
from bot.splitting.edition import series_of
from bot.splitting.sections import FRAME_KEYS, SectionAliases

__all__ = ["Reason", "Verdicts", "classify_feed", "entry_reason", "judge_feed"]

log = logging.getLogger(__name__)

#: With no `title_pattern`, a title naming a newsletter in one of these words marks an issue on its own.
NEWSLETTER_WORDS = re.compile(r"(?i)newsletter|简报|boletín|bülten|نشرة|البريدية")
# A section key recurs in a feed when this share of its sectioned entries has it.
_RECURRING_SHARE = 0.4
# An entry shares the feed's shape when this share of its sections (and at least two) recur.
_SHARED_SHARE = 0.5


class Reason(Enum):
    """Why an entry was taken as an issue or skipped (the words of the poll's log line)."""

    TITLE = "title"
    KNOWN_SECTIONS = "known sections"
    SHARED_SECTIONS = "sections shared with the feed's other entries"
    NUMBERED = "an issue number, in a feed of sectioned entries"
    SERIES = "a numbered series whose other entries are issues"
    FEW_SECTIONS = "fewer sections than min_sections"
    UNLIKE = "title and sections unlike an issue's"

    @property
    def taken(self) -> bool:
        return self in (Reason.TITLE, Reason.KNOWN_SECTIONS, Reason.SHARED_SECTIONS, Reason.NUMBERED,
                        Reason.SERIES)


@dataclass(frozen=True, slots=True)
class Verdicts:
    """One poll's entries judged: the issues (`is_newsletter` set) and why each entry was taken or skipped."""

    issues: list[Issue]
    reasons: list[Reason]

    @property
    def skipped(self) -> dict[str, int]:
        """Entries that are not issues, counted by reason ("fewer sections than min_sections": 2)."""
        counts = Counter(reason.value for reason in self.reasons if not reason.taken)
        return dict(sorted(counts.items()))

    @property
    def taken(self) -> int:
        return sum(1 for reason in self.reasons if reason.taken)


def entry_reason(issue: Issue, config: NewsletterConfig, aliases: SectionAliases) -> Reason:
    """The verdict on one entry alone (the feed-wide shape is `classify_feed`'s)."""
    if len(issue.sections) < config.min_sections:
        return Reason.FEW_SECTIONS
    pattern = re.compile(config.title_pattern) if config.title_pattern else NEWSLETTER_WORDS
    if pattern.search(issue.title):
        return Reason.TITLE
    known = {s.key for s in issue.sections if aliases.is_known(s.key) and s.key not in FRAME_KEYS}
    if len(known) >= 2:
        return Reason.KNOWN_SECTIONS
    return Reason.UNLIKE


def classify_feed(issues: Sequence[Issue], config: NewsletterConfig, aliases: SectionAliases,
                  feed: str = "") -> list[Issue]:
    """`judge_feed`'s issues (each marked as an issue or not)."""
    return judge_feed(issues, config, aliases, feed).issues


def judge_feed(issues: Sequence[Issue], config: NewsletterConfig, aliases: SectionAliases,
               feed: str = "") -> Verdicts:
    """Mark each of one poll's entries as an issue or not, and log why once.

    Args:
        issues: every entry of the feed, split.
        config: `[newsletter]`; a `title_pattern` turns the feed-wide shape test off.
        aliases: the canonical section table.
        feed: the feed's name, for the log line.

    Returns:
        The issues in the same order, `is_newsletter` set, and the reason for each.
    """
    reasons = [entry_reason(issue, config, aliases) for issue in issues]
    if not config.title_pattern:
        shared = _sharing_entries(issues, config.min_sections)
        sectioned = 2 * sum(1 for issue in issues if len(issue.sections) >= config.min_sections) > len(issues)
        reasons = [_feed_reason(reason, index in shared, sectioned and issue.number is not None)
                   for index, (issue, reason) in enumerate(zip(issues, reasons, strict=True))]
    reasons = _series_reasons(issues, reasons)
    result = [replace(issue, is_newsletter=reason.taken) if issue.is_newsletter != reason.taken else issue
              for issue, reason in zip(issues, reasons, strict=True)]
    if issues:
        counts = Counter(reasons)
        taken = ", ".join(f"{n} by {r.value}" for r, n in counts.items() if r.taken) or "none"
        skipped = ", ".join(f"{n}: {r.value}" for r, n in counts.items() if not r.taken) or "none"
        log.info("feed %s: %d of %d entries are issues (%s); skipped %s", feed or "?",
                 sum(n for r, n in counts.items() if r.taken), len(issues), taken, skipped)
    return Verdicts(result, reasons)


def _series_reasons(issues: Sequence[Issue], reasons: list[Reason]) -> list[Reason]:
    """A skipped entry of a numbered series is an issue when another entry of its series is one on its own.

    The series ("NLP Newsletter 12", "… 13", "… 14") is the newsletter's own numbering: an issue
    that happens to have two sections, or a title the pattern misses, is still one of them.
    An entry with no section at all has nothing to deliver and stays skipped.
    """
    series = {index: name for index, (name, _number) in series_of(issues).items()}
    taken_series = {series[index] for index, reason in enumerate(reasons) if reason.taken and index in series}
    return [Reason.SERIES if (not reason.taken and index in series and series[index] in taken_series
                              and issues[index].sections) else reason
            for index, reason in enumerate(reasons)]


def _feed_reason(alone: Reason, shares_sections: bool, numbered_in_sectioned_feed: bool) -> Reason:
    """The verdict with the feed in view: only an entry unlike an issue on its own can change it."""
    if alone is not Reason.UNLIKE:
        return alone
    if shares_sections:
        return Reason.SHARED_SECTIONS
    return Reason.NUMBERED if numbered_in_sectioned_feed else alone


def _sharing_entries(issues: Sequence[Issue], min_sections: int) -> set[int]:
    """Indexes of entries whose sections recur across the feed, when most entries do; else none."""
    sectioned = [(index, {s.key for s in issue.sections}) for index, issue in enumerate(issues)
                 if len(issue.sections) >= min_sections]
    if not sectioned:
        return set()
    if len(issues) == 1:
        return {sectioned[0][0]}  # a feed of one sectioned entry: nothing to compare it with
    counts = Counter(key for _index, keys in sectioned for key in keys)
    floor = max(2, _RECURRING_SHARE * len(sectioned))
    recurring = {key for key, n in counts.items() if n >= floor}
    sharing = {index for index, keys in sectioned
               if len(keys & recurring) >= max(2, _SHARED_SHARE * len(keys))}
    return sharing if 2 * len(sharing) > len(issues) else set()
