"""Value types that flow feed → engine → store → scheduler → adapters.

They are frozen and slotted so that a section handed to three platforms cannot be
changed by one of them, and so that equality means "same content".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "Block",
    "BlockKind",
    "Issue",
    "IssueRef",
    "Item",
    "RawEntry",
    "Section",
    "SectionRef",
    "Span",
    "blocks_text",
]


_TITLE_LEAD = re.compile(r"\s*(?:[\[(（【#:：|]|\s[-–—]\s)")

# --------------------------------------------------------------------------- rich text
@dataclass(frozen=True, slots=True)
class Span:
    """A run of inline text with uniform formatting.

    Rich text is kept as spans rather than HTML so that every adapter renders it
    to its own dialect (Telegram entities/HTML, Discord markdown, console text)
    without re-parsing and without any feed HTML ever reaching a platform.
    """

    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False
    href: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text}
        if self.bold:
            data["b"] = True
        if self.italic:
            data["i"] = True
        if self.code:
            data["c"] = True
        if self.href:
            data["href"] = self.href
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Span:
        return cls(
            text=data["text"],
            bold=bool(data.get("b")),
            italic=bool(data.get("i")),
            code=bool(data.get("c")),
            href=data.get("href"),
        )


BlockKind = Literal["paragraph", "bullet", "ordered", "quote", "code"]


@dataclass(frozen=True, slots=True)
class Block:
    """One paragraph-level unit: a paragraph, a list item, a quote or a code block.

    Splitting long posts happens at block boundaries first, so blocks are the
    natural unit for "never cut inside a link or a word".
    """

    kind: BlockKind
    spans: tuple[Span, ...]
    number: int | None = None  # for "ordered" list items

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "spans": [s.to_json() for s in self.spans]}
        if self.number is not None:
            data["n"] = self.number
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Block:
        return cls(
            kind=data["kind"],
            spans=tuple(Span.from_json(s) for s in data["spans"]),
            number=data.get("n"),
        )


def blocks_text(blocks: tuple[Block, ...]) -> str:
    """Plain text of blocks, one block per line (what search indexes and `text` holds)."""
    return "\n".join(block.text for block in blocks if block.text.strip())


# --------------------------------------------------------------------------- feed entries
@dataclass(frozen=True, slots=True)
class RawEntry:
    """One feed entry as the feed gave it, before splitting.

    `html` is the entry's full content (Atom `content`, RSS `content:encoded`, else
    `description`/`summary`), untouched: the splitter is the only reader of feed HTML.
    `base_url` resolves relative links and images.
    """

    entry_id: str
    link: str
    title: str
    html: str
    published: datetime | None = None
    updated: datetime | None = None
    feed_language: str | None = None  # the feed-level <language>, a weak hint
    base_url: str = ""
    feed: str = ""
    feed_title: str = ""  # the feed's own <title>: the newsletter's name unless config names it


# --------------------------------------------------------------------------- issues
@dataclass(frozen=True, slots=True)
class Item:
    """One story inside a section: a title (possibly empty), a body, images, sources."""

    title: str
    body: tuple[Block, ...]
    images: tuple[str, ...] = ()
    links: tuple[str, ...] = ()  # every absolute link in the body, in order, deduplicated
    sources: tuple[str, ...] = ()  # the item's "[source]" links (also in `links`)

    @property
    def text(self) -> str:
        return blocks_text(self.body)

    @property
    def url(self) -> str | None:
        """The link that best represents the item: its source, else its first link."""
        if self.sources:
            return self.sources[0]
        return self.links[0] if self.links else None

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "body": [b.to_json() for b in self.body],
            "images": list(self.images),
            "links": list(self.links),
            "sources": list(self.sources),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Item:
        return cls(
            title=data["title"],
            body=tuple(Block.from_json(b) for b in data["body"]),
            images=tuple(data.get("images", ())),
            links=tuple(data.get("links", ())),
            sources=tuple(data.get("sources", ())),
        )


@dataclass(frozen=True, slots=True)
class Section:
    """A headed part of an issue ("Outils et jeux de données ⚙️") and its items.

    `key` is canonical across languages (`tools_datasets`), so a French and an
    English edition's sections can be matched, configured and queried alike.
    """

    key: str
    heading: str  # the heading as published, whitespace-normalised ("Outils et jeux de données ⚙️")
    title: str  # heading without numbering and emoji ("Outils et jeux de données")
    emoji: str  # "⚙️" or ""
    position: int  # 0-based order in the issue
    items: tuple[Item, ...]

    @property
    def text(self) -> str:
        parts: list[str] = []
        for item in self.items:
            if item.title:
                parts.append(item.title)
            if item.body:
                parts.append(item.text)
        return "\n".join(parts)

    @property
    def ref(self) -> SectionRef:
        """This section as named in a list or an index (no items, their count)."""
        return SectionRef(key=self.key, heading=self.heading, emoji=self.emoji, position=self.position,
                          item_count=len(self.items))


@dataclass(frozen=True, slots=True)
class Issue:
    """One feed entry, i.e. one *edition* (one language) of a newsletter issue.

    Editions of the same issue share `number`; `entry_id` is the feed's id and the
    key for idempotent storage.
    """

    entry_id: str
    link: str
    title: str
    published: datetime | None
    language: str  # "en", "fr", "pt-br", "zh", "tr", "es", "ar", … ("und" if unknown)
    number: int | None
    sections: tuple[Section, ...]
    preamble: tuple[Block, ...] = ()
    updated: datetime | None = None
    feed: str = ""
    is_newsletter: bool = True
    newsletter: str = ""  # the newsletter's name ("This Week in Rust"), for labels

    @property
    def ref(self) -> IssueRef:
        return IssueRef(
            entry_id=self.entry_id,
            link=self.link,
            title=self.title,
            language=self.language,
            number=self.number,
            published=self.published,
            newsletter=self.newsletter,
        )

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)


@dataclass(frozen=True, slots=True)
class IssueRef:
    """What a post or answer needs to name an issue edition without its content."""

    entry_id: str
    link: str
    title: str
    language: str
    number: int | None
    published: datetime | None = None
    newsletter: str = ""  # the newsletter's name; "" for editions stored before names were kept

    @property
    def label(self) -> str:
        """Short human label: "This Week in Rust #635 (EN)".

        Without a name (editions stored before names were kept), the title's lead stands in:
        "Garden Weekly [FR] #4: …" → "Garden Weekly".
        """
        number = f" #{self.number}" if self.number is not None else ""
        name = self.newsletter or _TITLE_LEAD.split(self.title, maxsplit=1)[0].strip() or self.title
        return f"{name}{number} ({self.language.upper()})"


@dataclass(frozen=True, slots=True)
class SectionRef:
    """A section named in an answer's list (`/sections`) or an index post."""

    key: str
    heading: str
    emoji: str
    position: int
    item_count: int = 0
