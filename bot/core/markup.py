"""One span of rich text as HTML: the one place that nests `<code>`, `<i>`, `<b>` and `<a>`.

Used for the section HTML the splitter regenerates (`bot/splitting/richtext.py`) and for
Telegram's HTML parse mode (`adapters/telegram/markup.py`). They differ only in what the
caller passes: which link is allowed (Telegram's is sanitised), whether code stands alone
(Telegram allows no entity inside `code`), and what a line break becomes.
"""

from __future__ import annotations

import html

from bot.core.models import Span

__all__ = ["escape_text", "span_html"]


def escape_text(text: str) -> str:
    """`html.escape(text, quote=False)`, inlined: it runs once per span of every section."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def span_html(text: str, span: Span, *, href: str | None, code_alone: bool = False, line_break: str = "\n") -> str:
    """`text` escaped, with `span`'s formatting and the link `href` (None: no link).

    `code_alone`: a code span drops bold and italic, and a linked one drops the code instead.
    """
    out = escape_text(text)
    if line_break != "\n":
        out = out.replace("\n", line_break)
    if span.code and not (code_alone and href):
        out = f"<code>{out}</code>"
        if code_alone:
            return out
    if span.italic:
        out = f"<i>{out}</i>"
    if span.bold:
        out = f"<b>{out}</b>"
    if href:
        out = f'<a href="{html.escape(href, quote=True)}">{out}</a>'
    return out
