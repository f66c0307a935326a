"""The one place where text from outside (feeds, chat queries) loses what could hurt a reader.

Feed text ends up in terminals (the console adapter), Telegram and Discord. Terminal
escape sequences (ESC/CSI/OSC: colours, a changed window title, fake hyperlinks) and
other C0/C1 control characters have no business there, and bidirectional *overrides*
and *isolates* (U+202A–U+202E, U+2066–U+2069) can make a link or a name read
backwards ("Trojan Source"). They are removed, sequences whole.

Kept on purpose: newline and tab (layout), and the bidi *marks* U+200E/U+200F as well
as zero-width joiners (U+200B–U+200D): they only nudge the direction of one
neighbouring character or join glyphs, Arabic and Persian text and emoji sequences
need them, and they cannot reorder a run of text. Queries additionally drop them
(`for_matching=True`), because a user's "bert" must match whatever invisible marks
a client inserted.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot.core.models import Block, Issue, Item, Section, Span

__all__ = ["clean_issue", "clean_text", "needs_cleaning"]

# An escape sequence, removed whole so its payload ("]0;owned", "[31m") does not show:
# OSC / DCS / SOS / PM / APC strings up to their terminator (BEL or ST), CSI sequences,
# then any other two-character ESC sequence. The 8-bit C1 introducers are included.
_SEQUENCE = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|\x1b[ -/]*[0-~]?"
)
# C0 except tab and newline, DEL, C1, bidi overrides and isolates.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Invisible marks a query is better off without (kept in feed text, see the module docstring).
_INVISIBLE = re.compile(r"[\u200b-\u200f\ufeff]")


def needs_cleaning(text: str) -> bool:
    """True when `clean_text` would change `text` (a cheap test for the common clean case)."""
    return _CONTROL.search(text) is not None


def clean_text(text: str, *, for_matching: bool = False) -> str:
    """`text` without escape sequences, control characters (except newline and tab) and bidi overrides."""
    if _CONTROL.search(text) is not None:
        text = _CONTROL.sub("", _SEQUENCE.sub("", text))
    if for_matching:
        text = _INVISIBLE.sub("", text)
    return text


def clean_issue(issue: Issue) -> Issue:
    """Every text of a split issue cleaned (titles, newsletter name, headings, item and link text, URLs).

    Cleaning after the split, not the feed's HTML before it, is what catches characters
    written as entities (`&#x1b;`, `&#8238;`), which only exist once the HTML is parsed.
    Objects without anything to clean are returned as they are (the common case, cheap).
    """
    sections = tuple(_section(s) for s in issue.sections)
    preamble = _blocks(issue.preamble)
    title, link, name = clean_text(issue.title), clean_text(issue.link), clean_text(issue.newsletter)
    if (title is issue.title and link is issue.link and name is issue.newsletter and preamble is issue.preamble
            and all(a is b for a, b in zip(sections, issue.sections, strict=True))):
        return issue
    return replace(issue, title=title, link=link, newsletter=name, sections=sections, preamble=preamble)


def _strings(values: tuple[str, ...]) -> tuple[str, ...]:
    cleaned = tuple(clean_text(v) for v in values)
    return values if all(a is b for a, b in zip(cleaned, values, strict=True)) else cleaned


def _section(section: Section) -> Section:
    items = tuple(_item(i) for i in section.items)
    heading, title, emoji = clean_text(section.heading), clean_text(section.title), clean_text(section.emoji)
    if (heading is section.heading and title is section.title and emoji is section.emoji
            and all(a is b for a, b in zip(items, section.items, strict=True))):
        return section
    return replace(section, heading=heading, title=title, emoji=emoji, items=items)


def _item(item: Item) -> Item:
    title, body = clean_text(item.title), _blocks(item.body)
    images, links, sources = _strings(item.images), _strings(item.links), _strings(item.sources)
    if (title is item.title and body is item.body and images is item.images and links is item.links
            and sources is item.sources):
        return item
    return replace(item, title=title, body=body, images=images, links=links, sources=sources)


def _blocks(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
    cleaned = tuple(_block(b) for b in blocks)
    return blocks if all(a is b for a, b in zip(cleaned, blocks, strict=True)) else cleaned


def _block(block: Block) -> Block:
    spans = tuple(_span(s) for s in block.spans)
    return block if all(a is b for a, b in zip(spans, block.spans, strict=True)) else replace(block, spans=spans)


def _span(span: Span) -> Span:
    text = clean_text(span.text)
    href = clean_text(span.href) if span.href else span.href
    return span if text is span.text and href is span.href else replace(span, text=text, href=href)
