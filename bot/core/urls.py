"""The one URL sanitiser: what may become a link or an image anywhere we publish.

The splitter resolves feed links with it (against the entry's base URL) and every
renderer checks a link with it again before it reaches a platform, so a `javascript:`,
`data:` or relative URL, control characters or a 10 kB URL never reach a reader.
Platform-specific encoding (Discord's markdown, Telegram's HTML attribute) is the
renderers' job; deciding what is safe is this module's.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

__all__ = ["MAX_URL", "safe_href", "safe_url"]

MAX_URL = 2048
# Characters no URL may hold (RFC 3986): controls, and the quote and angle brackets that end an
# HTML attribute or a markdown autolink.
_FORBIDDEN = "\\x00-\\x1f\\x7f\"<>"
_ABSOLUTE_WEB = re.compile(rf"(?i)https?://[^\s/?#@\\{_FORBIDDEN}]+(?:[/?#][^\s\\{_FORBIDDEN}]*)?$")
_INVISIBLE = re.compile(r"[\t\r\n\f\v\u2028\u2029\u200b]+")  # line wrapping in feed HTML: dropped
_SPACE = re.compile(r"[ \u00a0]")  # a space inside a URL: percent-encoded, as browsers do
_FORBIDDEN_CHAR = re.compile(f"[{_FORBIDDEN}]")
_WEB = frozenset({"http", "https"})


def safe_url(raw: str | None, base: str = "", *, allow_mailto: bool = False, allow_tg: bool = False) -> str | None:
    """An absolute http(s) URL (or mailto / Telegram's tg://, when allowed), resolved against `base`; else None."""
    if not raw:
        return None
    value = raw.strip()
    if _ABSOLUTE_WEB.match(value):
        return value if len(value) <= MAX_URL else None  # the common case, without urljoin's cost
    value = _SPACE.sub("%20", _INVISIBLE.sub("", value))
    if not value or len(value) > MAX_URL or _FORBIDDEN_CHAR.search(value):
        return None
    try:
        absolute = urljoin(base, value) if base else value
        parts = urlsplit(absolute)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme in _WEB and parts.netloc:
        return absolute
    if allow_mailto and scheme == "mailto" and len(absolute) > 7:
        return absolute
    if allow_tg and scheme == "tg" and parts.netloc:
        return absolute
    return None


def safe_href(raw: object) -> str | None:
    """What the web panel may put in an href: http, https, mailto and tg links only (absolute)."""
    return safe_url(raw, allow_mailto=True, allow_tg=True) if isinstance(raw, str) else None
