"""The searched words marked in a result's text (`<mark>`), the rest escaped: a Jinja filter."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

__all__ = ["highlight"]

_WORD = re.compile(r"\w+", re.UNICODE)


def highlight(text: str, words: str) -> Markup:
    """`text` escaped, each occurrence of one of the query's words (any case) inside <mark>."""
    needles = sorted({w for w in _WORD.findall(words) if len(w) > 1}, key=len, reverse=True)
    if not needles:
        return escape(text)
    pattern = re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE)
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(str(escape(text[last:match.start()])))
        out.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))  # noqa: S704 — every piece escaped above; only <mark> added
