"""Telegram HTML building blocks: escaping, safe links and lengths counted as Telegram counts them.

Telegram measures a message after entity parsing, and entity offsets in UTF-16 code units,
so every fragment we build carries its parsed size in UTF-16 units (never fewer than the
code points Telegram may count instead): a message that fits here fits there.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from adapters.text import utf16_len
from bot.core.markup import escape_text
from bot.core.markup import span_html as core_span_html
from bot.core.models import Span
from bot.core.urls import safe_url

__all__ = [
    "Fragment",
    "escape",
    "span_html",
]


def escape(text: str) -> str:
    """Escape the three characters Telegram's HTML parser treats as markup."""
    return escape_text(text)


def span_html(text: str, span: Span) -> str:
    """`text` with the formatting of `span`, as Telegram HTML.

    Telegram allows no entity inside `code`, so a code span drops bold/italic and a
    linked code span keeps the link only; links are sanitised (`safe_url`).
    """
    return core_span_html(text, span, href=safe_url(span.href), code_alone=True)


@dataclass(frozen=True, slots=True)
class Fragment:
    """A piece of a message that is never cut: its HTML and its parsed size (UTF-16 units)."""

    html: str
    size: int
    text: str

    @classmethod
    def plain(cls, text: str) -> Fragment:
        return cls(escape(text), utf16_len(text), text)

    @classmethod
    def styled(cls, text: str, span: Span) -> Fragment:
        return cls(span_html(text, span), utf16_len(text), text)

    @classmethod
    def raw(cls, markup: str, text: str) -> Fragment:
        """Pre-built markup whose parsed text is `text` (the caller escaped it)."""
        return cls(markup, utf16_len(text), text)

    def __add__(self, other: Fragment) -> Fragment:
        return Fragment(self.html + other.html, self.size + other.size, self.text + other.text)


def is_joiner(char: str) -> bool:
    """Characters that must stay with the previous one (combining marks, ZWJ, selectors)."""
    return (unicodedata.category(char) in ("Mn", "Me", "Mc", "Sk") or char in "\u200d\ufe0e\ufe0f"
            or 0x1F3FB <= ord(char) <= 0x1F3FF or 0xE0020 <= ord(char) <= 0xE007F)
