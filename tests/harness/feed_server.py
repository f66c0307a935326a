"""A scriptable feed server on 127.0.0.1: each path answers as the test says, requests are recorded.

The `server` fixture (tests/conftest.py) starts one per test; the feed tests (in process) and the
hostile-feed tests (the CLI as a process) both script it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

__all__ = ["FeedServer", "serving_feeds"]


@dataclass
class FeedServer:
    """What a test scripts (`routes`) and what it reads back (`requests`)."""

    base: str = ""
    requests: list[web.Request] = field(default_factory=list)
    routes: dict[str, Callable[[web.Request], web.StreamResponse | Awaitable[web.StreamResponse]]] = \
        field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


@contextlib.asynccontextmanager
async def serving_feeds() -> AsyncIterator[FeedServer]:
    """A fresh `FeedServer` listening on a free port until exit; unknown paths get 404."""
    state = FeedServer()

    async def handle(request: web.Request) -> web.StreamResponse:
        state.requests.append(request)
        handler = state.routes.get(request.path)
        if handler is None:
            return web.Response(status=404)
        result = handler(request)
        return result if isinstance(result, web.StreamResponse) else await result

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.base = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()
