"""A 404 drawn as a panel page (with the navigation), not aiohttp's bare text."""

from __future__ import annotations

from aiohttp import web

from web.panel.access import Handler
from web.panel.templating import page

__all__ = ["not_found"]


@web.middleware
async def not_found(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Inside the gate, so only a logged-in browser sees it; the reason (e.g. "no such issue") is kept."""
    try:
        return await handler(request)
    except web.HTTPNotFound as exc:
        reason = exc.text if exc.text and not exc.text.startswith("404") else "There is no such page."
        return page(request, "404.html", status=404, reason=reason)
