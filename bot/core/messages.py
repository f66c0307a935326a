"""What the engine hands to adapters: posts (scheduled delivery) and answers (command replies).

One frozen type per kind of message, grouped in two unions (`Post`, `Answer`). A
renderer `match`es on the union and ends with `assert_never`, so mypy names the
kind a renderer forgot; a type only has the fields its kind needs, so "a section
post without its section" cannot be built. Posts are rendered when they are queued:
the outbox stores the rendered platform messages, never these values.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.models import IssueRef, Section, SectionRef

__all__ = [
    "Answer",
    "DigestPost",
    "ErrorAnswer",
    "Help",
    "IndexEntry",
    "IndexPost",
    "IssueList",
    "LanguageSet",
    "NotFound",
    "Notice",
    "Post",
    "SearchHit",
    "SearchResults",
    "SectionAnswer",
    "SectionList",
    "SectionPost",
    "Subscribed",
]


# --------------------------------------------------------------------------- posts
@dataclass(frozen=True, slots=True)
class SectionPost:
    """One section of one edition.

    `notify` is False for every post of an issue after its first, so subscribers get
    one notification per issue.
    """

    issue: IssueRef
    section: Section
    notify: bool = True


@dataclass(frozen=True, slots=True)
class DigestPost:
    """One summary of a whole edition: the selected sections and their item titles."""

    issue: IssueRef
    sections: tuple[Section, ...]
    notify: bool = True


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One line of an index post: a section and the URL of the message that carries it."""

    section: SectionRef
    url: str | None


@dataclass(frozen=True, slots=True)
class IndexPost:
    """The table of contents linking to an edition's already-sent section messages."""

    issue: IssueRef
    entries: tuple[IndexEntry, ...]
    notify: bool = False


Post = SectionPost | DigestPost | IndexPost


# --------------------------------------------------------------------------- answers
# Every answer carries `lang` (the language it is written in) and a `message` already
# translated into it: adapters never decide what a command means, only how it looks.
# Paging tokens (`prev_page`/`next_page`, ≤ 40 ASCII chars) are opaque: an adapter puts
# them into buttons, and answering a `Page(token)` gives the neighbouring section.
@dataclass(frozen=True, slots=True, kw_only=True)
class SectionAnswer:
    """One section of an edition (`/section`, a page turn), with its neighbours' tokens.

    `note` is set when the asker's language had no edition ("here is the EN one").
    `page` is 1-based.
    """

    lang: str
    issue: IssueRef
    section: Section
    sections: tuple[SectionRef, ...]
    note: str = ""
    page: int
    page_count: int
    prev_page: str | None = None
    next_page: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SectionList:
    """An edition's sections (`/sections`, `/latest`); `next_page` opens the first."""

    lang: str
    message: str
    issue: IssueRef
    sections: tuple[SectionRef, ...]
    next_page: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueList:
    """The editions we know (`/issues`), newest first."""

    lang: str
    message: str
    issues: tuple[IssueRef, ...]


@dataclass(frozen=True, slots=True)
class SearchHit:
    issue: IssueRef
    section: SectionRef
    item_title: str
    snippet: str
    url: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchResults:
    """`/search` hits, best first; empty `hits` with a "nothing found" message."""

    lang: str
    message: str
    hits: tuple[SearchHit, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class NotFound:
    """A section the asker named is missing, unknown or ambiguous: the error and what to pick from.

    `next_page` (when set) opens the edition's first section.
    """

    lang: str
    message: str
    issue: IssueRef
    choices: tuple[SectionRef, ...]
    next_page: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Said:
    """What every answer below is: a message in a language, and nothing more to show."""

    lang: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorAnswer(_Said):
    """A helpful error: unknown command, bad argument, no such issue, not allowed …"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Help(_Said):
    """`/help` and `/start`: what the bot can do."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice(_Said):
    """A plain confirmation or information (unsubscribed, current language, slow down …)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LanguageSet(_Said):
    """`/language xx` succeeded; `lang` is the new language, the message is written in it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribed(_Said):
    """`/subscribe` succeeded: `destination` is the name of the destination it created."""

    destination: str


Answer = (SectionAnswer | SectionList | IssueList | SearchResults | NotFound | ErrorAnswer | Help | Notice | Subscribed
          | LanguageSet)
