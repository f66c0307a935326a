"""How a destination wants its posts to look on a phone, read the same way by every renderer.

`compact = "auto"` (the default) shows an item that is only a link (a title and a URL, no
text: This Week in Rust's "Updates from Rust Community") as one line whose title is the
link, many to a message, and every item with text in full; `compact = true` shows one line
per item (its title, or its first words, and a link), `compact = false` every item in full;
`max_item_chars = N` shortens each item's text at a sentence or word boundary with "…" and
a link to the rest. The options are checked by config validation (and parsed once into the
destination, bot/contract/destination.py); a stored subscription gets safe defaults for anything missing or odd.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import assert_never

from bot.core.models import Item
from bot.core.truncate import truncate
from bot.core.urls import safe_url

__all__ = ["MIN_ITEM_CHARS", "PLAIN", "Compact", "Presentation", "is_link_only", "item_label", "link_tags", "shorten"]

MIN_ITEM_CHARS = 80  # shorter than this leaves no sentence to read


class Compact(StrEnum):
    """The `compact` option: AUTO (link-only items as lines), ALWAYS (`true`), NEVER (`false`)."""

    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"

    @classmethod
    def of(cls, value: object) -> Compact:
        """The option as config.toml writes it (`true`, `false`, `"auto"`); anything else is the default."""
        if value is True:
            return cls.ALWAYS
        if value is False:
            return cls.NEVER
        return cls.AUTO


#: Text that only tags a link ("[video]", "(PDF)", "[FR] [slides]"): the item is still a link.
_TAGS = re.compile(r"\s*(?:[\[(（【][^\])）】\n]{1,24}[\])）】]\s*)*")


def is_link_only(item: Item) -> bool:
    """An item that is nothing but a link: a title, a URL we may link to, and no text of its own but tags."""
    return bool(item.title.strip()) and safe_url(item.url) is not None and _TAGS.fullmatch(item.text) is not None


def link_tags(item: Item) -> str:
    """The tags a link-only item carries after its title ("[video]"), shown beside the link; else ""."""
    text = " ".join(item.text.split())
    return text if text and _TAGS.fullmatch(text) else ""


@dataclass(frozen=True, slots=True)
class Presentation:
    compact: Compact = Compact.AUTO
    max_item_chars: int | None = None

    def as_line(self, item: Item) -> bool:
        """Whether `item` is shown as one line (its title or first words, linking to it)."""
        match self.compact:
            case Compact.ALWAYS:
                return True
            case Compact.NEVER:
                return False
            case Compact.AUTO:
                return is_link_only(item)
            case _:
                assert_never(self.compact)


#: Whole items, one after the other: what a destination without presentation options gets.
PLAIN = Presentation()


def shorten(text: str, limit: int) -> str:
    """`text`, whitespace collapsed, in at most `limit` characters: cut after the last whole sentence
    that fits (if it keeps at least half), else at a word, with "…" when something was cut."""
    return truncate(" ".join(text.split()), limit, at="sentence")


def item_label(item: Item, limit: int = 120) -> str:
    """What names an item in a list: its title, else its first words ("Hugging Face released…")."""
    title = " ".join(item.title.split())
    if title:
        return shorten(title, limit)
    return shorten(item.text, min(limit, 80))
