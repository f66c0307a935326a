"""Cutting a text down to a limit, ending it with "…": the one truncator of the product.

Where a text may be cut is a choice per use, so it is an argument, not another function:
- `"char"`: anywhere (a short echo of user input, a Telegram title), trailing spaces dropped;
- `"word"`: at the last space that fits (Discord titles, footers, lines), else anywhere;
- `"sentence"`: after the last whole sentence if that keeps at least half of the room, else at
  a word if that keeps a third, else anywhere (an item's text shortened by `max_item_chars`).

`size` measures a text against `limit`: code points by default, UTF-16 code units where a
platform counts those (Discord). The "…" counts as one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal, assert_never

__all__ = ["ELLIPSIS", "Cut", "truncate"]

ELLIPSIS = "…"

#: Where a text may be cut (see the module docstring).
Cut = Literal["char", "word", "sentence"]

_SENTENCE_END = re.compile(r"[.!?…。！？](?=[\"'”’»)\]]*(?:\s|$))")


def truncate(text: str, limit: int, *, at: Cut = "char", size: Callable[[str], int] = len) -> str:
    """`text` if it fits in `limit` (as measured by `size`), else its longest allowed prefix and "…"."""
    if size(text) <= limit:
        return text
    match at:
        case "char":
            return text[: limit - 1].rstrip() + ELLIPSIS
        case "word":
            return _at_word(text, limit, size)
        case "sentence":
            return _at_sentence(text, limit)
        case _:
            assert_never(at)


def _at_word(text: str, limit: int, size: Callable[[str], int]) -> str:
    cut = text
    while size(cut) > limit - 1:
        space = cut.rfind(" ", 0, len(cut) - 1)
        cut = cut[:space] if space > 0 else cut[: max(1, len(cut) - max(1, (size(cut) - limit + 1)))]
    return cut.rstrip() + ELLIPSIS


def _at_sentence(text: str, limit: int) -> str:
    room = text[: max(1, limit - 1)]
    sentences = [m.end() for m in _SENTENCE_END.finditer(room)]
    if sentences and sentences[-1] >= limit // 2:
        return room[: sentences[-1]].rstrip() + " " + ELLIPSIS
    space = room.rfind(" ")
    cut = room[:space] if space >= limit // 3 else room
    return cut.rstrip(" ,;:—-") + ELLIPSIS
