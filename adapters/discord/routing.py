"""Point one discord.py client at another API root and gateway (a proxy, the test fake): a constructor seam.

discord.py builds every REST URL from the class attribute `Route.BASE` and opens the gateway
at `DiscordWebSocket.DEFAULT_GATEWAY`; changing those would move every client of the process.
Instead, this client's own `HTTPClient` rewrites the URLs of its requests and of its gateway
connection, and interaction responses (which discord.py sends through the webhook adapter of
the current context) use a rewriting adapter set only in the context of this client's tasks.
"""

from __future__ import annotations

import contextvars
from typing import Any

import aiohttp
from discord.gateway import DiscordWebSocket
from discord.http import HTTPClient, Route
from discord.webhook.async_ import AsyncWebhookAdapter, async_context

__all__ = ["DEFAULT_API_BASE", "Routes", "route_client"]

DEFAULT_API_BASE = Route.BASE
_DEFAULT_GATEWAY = str(DiscordWebSocket.DEFAULT_GATEWAY)


class Routes:
    """Where one client's requests go: `api_base` for REST, `gateway` for the websocket ("" = Discord's)."""

    def __init__(self, api_base: str, gateway: str = "") -> None:
        self.api_base = api_base.rstrip("/")
        self.gateway = gateway

    def rest(self, url: str) -> str:
        if url.startswith(DEFAULT_API_BASE) and self.api_base != DEFAULT_API_BASE:
            return self.api_base + url[len(DEFAULT_API_BASE):]
        return url

    def websocket(self, url: str) -> str:
        if self.gateway and url.startswith(_DEFAULT_GATEWAY):
            rest = url[len(_DEFAULT_GATEWAY):]  # the query discord.py added ("?v=10&encoding=json…")
            return self.gateway.rstrip("/") + ("" if not rest or rest.startswith("?") else "/") + rest
        return url


class RoutedHTTPClient(HTTPClient):
    """discord.py's HTTP client with this instance's routes (set by `route_client`)."""

    routes: Routes

    async def request(self, route: Route, **kwargs: Any) -> Any:
        route.url = self.routes.rest(route.url)
        return await super().request(route, **kwargs)

    async def ws_connect(self, url: str, *, compress: int = 0) -> aiohttp.ClientWebSocketResponse:
        return await super().ws_connect(self.routes.websocket(url), compress=compress)


class RoutedWebhookAdapter(AsyncWebhookAdapter):
    """Interaction responses and follow-ups through the same routes."""

    def __init__(self, routes: Routes) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.routes = routes

    async def request(self, route: Route, session: aiohttp.ClientSession, **kwargs: Any) -> Any:
        route.url = self.routes.rest(route.url)
        return await super().request(route, session, **kwargs)


def route_client(http: HTTPClient, routes: Routes) -> contextvars.Context:
    """Send this client's traffic along `routes`; returns the context to run its gateway task in.

    The client's command tree and connection state hold this very `HTTPClient` object, so
    giving the object its routing subclass reaches every REST call it makes, and nothing else.
    """
    http.__class__ = RoutedHTTPClient
    http.routes = routes  # type: ignore[attr-defined]
    context = contextvars.copy_context()
    context.run(async_context.set, RoutedWebhookAdapter(routes))
    return context
