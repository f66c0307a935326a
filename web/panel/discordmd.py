"""Discord markdown → HTML for the panel's embed cards: the subset our Discord renderer writes.

The renderer escapes feed text with backslashes and writes masked links, bold, italic
and inline code; the preview shows them as Discord does. The text is HTML-escaped
first and only our own tags are added after, so nothing from the feed becomes markup.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

__all__ = ["discord_markdown"]

_ESCAPED = re.compile(r"\\(&gt;|&lt;|&amp;|&#34;|&#39;|[\\*_~`|\[\]()#.\-+!{}:])")
_CODE = re.compile(r"`([^`\n]+)`")
_ANGLE_LINK = re.compile(r"\[([^\]\n]+)\]\(&lt;(https?://[^\s]+?)&gt;\)")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s)]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])")
_HOLD = re.compile(r"\x00(\d+)\x01")
_ROLE = re.compile(r"&lt;@&amp;(\d{1,20})&gt;")
_USER = re.compile(r"&lt;@!?(\d{1,20})&gt;")
_BULLET = re.compile(r"^[ \t]*[-*] (.*)$")


def discord_markdown(text: str) -> Markup:
    """Masked links, **bold**, *italic*, `code`, `- ` lists, mentions (pills) and backslash escapes, as Discord does."""
    held: list[str] = []

    def hold(fragment: str) -> str:
        held.append(fragment)
        return f"\x00{len(held) - 1}\x01"

    html = _ESCAPED.sub(lambda m: hold(m.group(1)), str(escape(text)))
    html = _CODE.sub(lambda m: hold(f"<code>{m.group(1)}</code>"), html)
    link = r'<a href="\2" rel="noopener noreferrer nofollow">\1</a>'
    html = _LINK.sub(link, _ANGLE_LINK.sub(link, html))
    html = _ITALIC.sub(r"<em>\1</em>", _BOLD.sub(r"<strong>\1</strong>", html))
    html = _ROLE.sub(r'<span class="pill" title="pings role \1">@role \1</span>', html)
    html = _USER.sub(r'<span class="pill" title="pings user \1">@user \1</span>', html)
    html = _lists(html)
    while _HOLD.search(html):
        html = _HOLD.sub(lambda m: held[int(m.group(1))], html)
    return Markup(html)  # noqa: S704 — escaped above; only our own tags added


def _lists(html: str) -> str:
    """Runs of `- ` lines as one <ul> (Discord draws them as a list), without the newlines between items."""
    out: list[str] = []
    items: list[str] = []
    for line in html.split("\n"):
        bullet = _BULLET.match(line)
        if bullet:
            items.append(f"<li>{bullet.group(1)}</li>")
            continue
        if items:
            out.append("<ul>" + "".join(items) + "</ul>" + line)
            items = []
        else:
            out.append(line)
    if items:
        out.append("<ul>" + "".join(items) + "</ul>")
    return "\n".join(out)
