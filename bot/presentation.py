"""How a destination wants its posts to look on a phone, read the same way by every renderer.

`compact = true` shows one line per item (its title, or its first words, and a link);
`max_item_chars = N` shortens each item's text at a sentence or word boundary with "…" and
a link to the rest. The options are checked by config validation (and parsed once into the
destination, bot/contract.py); a stored subscription gets safe defaults for anything missing or odd.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.models import Item

__all__ = ["MIN_ITEM_CHARS", "PLAIN", "Presentation", "item_label", "shorten"]

MIN_ITEM_CHARS = 80  # shorter than this leaves no sentence to read
_SENTENCE_END = re.compile(r"[.!?…。！？](?=[\"'”’»)\]]*(?:\s|$))")
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Presentation:
    compact: bool = False
    max_item_chars: int | None = None


#: Whole items, one after the other: what a destination without presentation options gets.
PLAIN = Presentation()


def shorten(text: str, limit: int) -> str:
    """`text` in at most `limit` characters: cut after the last whole sentence that fits (if it keeps
    at least half), else at a word, with "…" when something was cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    room = text[: max(1, limit - 1)]
    sentences = [m.end() for m in _SENTENCE_END.finditer(room)]
    if sentences and sentences[-1] >= limit // 2:
        return room[: sentences[-1]].rstrip() + " " + ELLIPSIS
    space = room.rfind(" ")
    cut = room[:space] if space >= limit // 3 else room
    return cut.rstrip(" ,;:—-") + ELLIPSIS


def item_label(item: Item, limit: int = 120) -> str:
    """What names an item in a list: its title, else its first words ("Hugging Face released…")."""
    title = " ".join(item.title.split())
    if title:
        return shorten(title, limit)
    return shorten(item.text, min(limit, 80))
