"""Chat commands as typed values, the one command list, and the one parser of command text.

Adapters that receive structured options (Discord slash commands) build a command
value directly; text that a person typed (`digestbot ask "/section outils 3"`, a
Telegram message) goes through `parse_command`, here and only here. Either way the
engine (`bot.chat.query.QueryEngine`) receives a `Query` holding one of these values, never a
re-joined argument string, and every argument is already bounded and free of control
and bidi-override characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from bot.core.cleantext import clean_text

__all__ = [
    "ADMIN_COMMANDS",
    "Audience",
    "COMMANDS",
    "Command",
    "Help",
    "Issues",
    "Language",
    "Latest",
    "Page",
    "PlainSearch",
    "Query",
    "SearchCommand",
    "SectionCommand",
    "SectionsCommand",
    "Start",
    "Subscribe",
    "Unknown",
    "Unsubscribe",
    "changes_chat",
    "clean",
    "named_newsletter",
    "parse_command",
    "split_command",
    "section_names",
    "subscription",
]

#: Every chat command, in the order menus and help list them.
COMMANDS: tuple[str, ...] = ("start", "help", "section", "sections", "latest", "issues", "search", "subscribe",
                             "unsubscribe", "language")
#: Commands that change a chat's settings: administrators only, in groups and channels.
ADMIN_COMMANDS = frozenset({"subscribe", "unsubscribe", "language"})



class Audience(StrEnum):
    """Who reads an answer, which decides its language (`QueryEngine.lang_for`).

    PRIVATE: a private chat or DM, the asker only. EPHEMERAL: an answer only the asker sees
    in a shared chat (Discord). PUBLIC: an answer everyone in a group, channel or guild
    channel reads.
    """

    PRIVATE = "private"
    EPHEMERAL = "ephemeral"
    PUBLIC = "public"


MAX_ARGS = 500  # characters of an argument we look at; the rest is ignored
_NUMBER = re.compile(r"^#?(\d{1,4})$")
_LINE = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{3,64}))?(?:\s+|$)(.*)$", re.DOTALL)


def clean(text: str) -> str:
    """Drop escapes, control, bidi-override and invisible characters (`bot.core.cleantext`), collapse spaces, cap."""
    text = clean_text(text[: MAX_ARGS * 4], for_matching=True)
    return " ".join(text.split())[:MAX_ARGS]


@dataclass(frozen=True, slots=True)
class Start:
    name: ClassVar[str] = "start"


@dataclass(frozen=True, slots=True)
class Help:
    name: ClassVar[str] = "help"


@dataclass(frozen=True, slots=True)
class SectionCommand:
    """`/section [newsletter:] <words> [issue]`: `words` names the section (may be empty: "which one?").

    `newsletter` (in every reading command) names the newsletter to answer from ("rust" for This
    Week in Rust, or its feed's name); empty, the chat's own newsletters (`QueryEngine.feeds_for`).
    """

    name: ClassVar[str] = "section"
    words: str = ""
    issue: int | None = None
    newsletter: str = ""


@dataclass(frozen=True, slots=True)
class SectionsCommand:
    """`/sections [newsletter] [issue]`."""

    name: ClassVar[str] = "sections"
    issue: int | None = None
    newsletter: str = ""


@dataclass(frozen=True, slots=True)
class Latest:
    """`/latest [newsletter]`."""

    name: ClassVar[str] = "latest"
    newsletter: str = ""


@dataclass(frozen=True, slots=True)
class Issues:
    """`/issues [newsletter]`."""

    name: ClassVar[str] = "issues"
    newsletter: str = ""


@dataclass(frozen=True, slots=True)
class SearchCommand:
    """`/search [newsletter:] <words>`."""

    name: ClassVar[str] = "search"
    words: str = ""
    newsletter: str = ""


@dataclass(frozen=True, slots=True)
class PlainSearch:
    """Words typed without a command in a private chat: searched like `/search`, and the answer says so."""

    name: ClassVar[str] = "search"
    words: str = ""


@dataclass(frozen=True, slots=True)
class Subscribe:
    """`/subscribe [sections…] [+word…] [-word…] [| schedule]`: no sections means all; no schedule, on_publish.

    `include`/`exclude` are topic filter terms (`+bert`, `-"crypto monnaie"`), see `bot.contract.filters`;
    `malformed` holds what looked like a term but had nothing after its sign (`+"`, `+""`, a lone `-`),
    so the engine can refuse it instead of subscribing to less than the reader asked for.
    """

    name: ClassVar[str] = "subscribe"
    sections: tuple[str, ...] = ()
    schedule: str = ""
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    malformed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    name: ClassVar[str] = "unsubscribe"


@dataclass(frozen=True, slots=True)
class Language:
    """`/language [code]`: no code asks which language is in use."""

    name: ClassVar[str] = "language"
    code: str = ""


@dataclass(frozen=True, slots=True)
class Page:
    """A ◀ ▶ button: the engine's opaque page token."""

    name: ClassVar[str] = "page"
    token: str


@dataclass(frozen=True, slots=True)
class Unknown:
    """A command word we do not know (answered with a pointer to /help)."""

    name: ClassVar[str] = "unknown"
    word: str


#: What a `Query` carries; every member has a class-level `name` (the command word).
Command = (Start | Help | SectionCommand | SectionsCommand | Latest | Issues | SearchCommand | PlainSearch | Subscribe
           | Unsubscribe | Language | Page | Unknown)


@dataclass(frozen=True, slots=True)
class Query:
    """A command and who asked it, platform-neutral.

    `lang` is the asker's language; `is_admin`/`is_private` are what the platform
    says about the asker and the chat (the engine decides what needs them);
    `chat_aliases` are other names of the same chat (a Telegram channel's "@username"),
    so a chat configured by name is recognised.
    """

    command: Command
    lang: str = "en"
    platform: str = "console"
    chat: str = ""
    user: str = ""
    is_admin: bool = False
    is_private: bool = True
    chat_aliases: tuple[str, ...] = ()


def changes_chat(command: Command) -> bool:
    """Whether answering `command` changes the chat's state: administrators only, in groups and channels.

    `/language` without a code only says which language is in use, so anyone may ask it.
    """
    match command:
        case Subscribe() | Unsubscribe():
            return True
        case Language(code=code):
            return bool(code.strip())
        case _:
            return False


def section_names(text: str) -> tuple[str, ...]:
    """"outils, éthique" or "outils éthique" → ("outils", "éthique")."""
    return tuple(clean(text).replace(",", " ").split())


_TERM = re.compile(r'([+-]?)(?:"([^"]*)"?|“([^”]*)”?|«([^»]*)»?|([^\s,]+))')


def subscription(text: str, schedule: str = "") -> Subscribe:
    """`outils, éthique +bert -"crypto monnaie"` → sections, include and exclude terms of a `Subscribe`.

    A word or a quoted phrase after `+` must appear in an item, after `-` must not; other
    words name sections. Both platforms read `/subscribe` text here.
    """
    sections: list[str] = []
    terms: dict[str, list[str]] = {"+": [], "-": []}
    malformed: list[str] = []
    for match in _TERM.finditer(clean(text)):
        sign, *quoted = match.groups()
        word = " ".join("".join(q or "" for q in quoted).split())
        if word and word not in "+-":
            (terms[sign] if sign else sections).append(word)
        else:  # a sign with nothing after it: tell the reader rather than drop it
            malformed.append(match.group(0))
    return Subscribe(tuple(sections), " ".join(schedule.split()), tuple(terms["+"]), tuple(terms["-"]),
                     tuple(malformed))


# An ASCII colon only: a full-width "：" belongs to Chinese text someone searches for ("简报：工具").
_NAMED = re.compile(r"^\s*([^\s:][^:]{0,59}?)\s*:(?!//)\s*(.*)$", re.DOTALL)  # not "https://…"


def named_newsletter(text: str) -> tuple[str, str]:
    """"rust: jobs 3" → ("rust", "jobs 3"): a newsletter named before a colon, and the rest; else ("", text).

    The colon makes it unambiguous where words could also name a section or be searched for.
    """
    match = _NAMED.match(clean(text))
    return (match.group(1), match.group(2)) if match else ("", clean(text))


def _bare_newsletter(text: str) -> str:
    """The whole argument of a command that takes no words (`/latest rust`, `/latest rust:`)."""
    return clean(text).rstrip(":").strip()


def _section_args(text: str) -> tuple[str, int | None]:
    """"tools 3" → ("tools", 3): the section words and a trailing issue number."""
    words = clean(text).split()
    if words and (match := _NUMBER.match(words[-1])):
        return " ".join(words[:-1]), int(match.group(1))
    return " ".join(words), None


def split_command(text: str | None) -> tuple[str, str | None, str] | None:
    """("section", "digest_bot" | None, "outils 3") for "/section@digest_bot outils 3"; None if not a command."""
    match = _LINE.match(text or "")
    if not match:
        return None
    return match.group(1).lower(), match.group(2), clean(match.group(3))


def parse_command(text: str, args: str | None = None) -> Command:
    """A typed command from what a person typed.

    `parse_command("/section@digest_bot outils 3")` parses a whole line (the slash and
    a bot mention are optional); `parse_command("section", "outils 3")` parses the
    arguments of a command word an adapter already knows. An empty line is `/help`.
    """
    if args is None:
        line = text.strip()
        parts = split_command(line if line.startswith("/") else f"/{line}")
        if parts is None:
            return Unknown(clean(text)[:32]) if line else Help()
        word, _, args = parts
    else:
        word = text.strip().lstrip("/").split("@")[0]
    parser = _PARSERS.get(word.lower())
    return parser(args) if parser is not None else Unknown(clean(word)[:32])


def _section(args: str) -> SectionCommand:
    newsletter, rest = named_newsletter(args)
    words, issue = _section_args(rest)
    return SectionCommand(words, issue, newsletter)


def _subscribe(args: str) -> Subscribe:
    sections, _, schedule = clean(args).partition("|")
    return subscription(sections, schedule)


#: How each command word reads its argument text; "page" is a button's, not a person's.
_PARSERS: dict[str, Callable[[str], Command]] = {
    "start": lambda _: Start(),
    "help": lambda _: Help(),
    "section": lambda args: _section(args),
    "sections": lambda args: SectionsCommand(_section_args(args)[1], _bare_newsletter(_section_args(args)[0])),
    "latest": lambda args: Latest(_bare_newsletter(args)),
    "issues": lambda args: Issues(_bare_newsletter(args)),
    "search": lambda args: SearchCommand(named_newsletter(args)[1], named_newsletter(args)[0]),
    "subscribe": _subscribe,
    "unsubscribe": lambda _: Unsubscribe(),
    "language": lambda args: Language(clean(args)),
    "page": lambda args: Page(args.strip()),
}
