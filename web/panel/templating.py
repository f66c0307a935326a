"""Jinja2 for the panel: templates from the package, autoescaping on for every template.

Autoescape is what makes feed text (titles, headings, snippets) safe to show: a
`<script>` in a newsletter arrives in the page as text. Escaping does not make a link safe
(`javascript:` has nothing to escape), so every URL in an href goes through the `href` filter.
Only the sanitised Telegram HTML of a preview is marked safe, in `previews.py`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jinja2
from aiohttp import web

from bot.core.i18n import plural_en
from bot.core.urls import safe_href
from web.panel.access import CSRF_FIELD, SESSION, Session
from web.panel.discordmd import discord_markdown
from web.panel.highlight import highlight
from web.panel.state import PanelState

__all__ = ["PANEL", "page"]

PANEL = web.AppKey("panel", PanelState)

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("web", "templates"), autoescape=True,
                          undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _when(value: datetime | None, fmt: str = "%a %Y-%m-%d %H:%M %Z") -> str:
    return value.strftime(fmt) if value is not None else "—"


_ENV.filters["when"] = _when
_ENV.filters["discord_md"] = discord_markdown
#: Every URL a template puts in an href passes here (bot.core.urls, the one sanitiser): "" when unsafe.
_ENV.filters["href"] = lambda value: safe_href(value) or ""
_ENV.filters["highlight"] = highlight
_ENV.filters["plural_en"] = plural_en  # "1 day", "7 days": the CLI's English counting


def page(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """A full HTML page; every page gets the session's CSRF token and its one-shot messages."""
    session: Session | None = request.get(SESSION)
    flash = list(session.flash) if session is not None else []
    if session is not None:
        session.flash.clear()
    body = _ENV.get_template(template).render(
        csrf_field=CSRF_FIELD, csrf_token=session.csrf if session else context.pop("login_csrf", ""),
        flash=flash, path=request.path, logged_in=session is not None, **context)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store"})
