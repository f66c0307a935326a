"""The panel as tests build it: the real service, engine and renderers behind `create_app`, as `run` wires them."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web import Application, Request

from adapters.console import console_adapter
from app.panel import panel_state
from bot.chat.query import QueryEngine
from bot.feeds.ingest import Ingestor
from bot.settings.config import Config, load_config
from bot.splitting.sections import SectionAliases
from bot.storage.store import Store
from scheduler.operations import Operations
from scheduler.service import DeliveryService
from tests.harness.config import ConfigFile
from tests.harness.corpus import CORPUS
from web import Metrics, WebState, create_app

TOKEN = "panel-token-0123456789abcdef"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

@dataclass
class Panel:
    client: TestClient[Request, Application]
    service: DeliveryService
    config: Config

    async def login(self) -> str:
        """Log in through the form; returns the session's CSRF token (from the overview page)."""
        form = await self.client.get("/login")
        token = CSRF.search(await form.text())
        assert token is not None
        response = await self.client.post("/login", data={"token": TOKEN, "csrf_token": token.group(1)},
                                          allow_redirects=False)
        assert response.status == 303, await response.text()
        return await self.csrf("/")

    async def csrf(self, path: str) -> str:
        match = CSRF.search(await (await self.client.get(path)).text())
        assert match is not None
        return match.group(1)


def write_config(tmp_path: Path, feed: Path = CORPUS, extra: str = "") -> Path:
    """The panel tests' deployment: a French drip and an English console destination on `feed`."""
    return (ConfigFile(tmp_path).storage().table("web", listen="127.0.0.1:8080")
            .feed("nlp", feed, poll_interval="1h")
            .destination("fr-drip", "console", languages=["fr"], schedule="cron 0 9 * * *", timezone="Europe/Paris")
            .destination("en-now", "console", languages=["en"]).raw(extra).write())


@asynccontextmanager
async def running_panel(config_path: Path, feed: Path = CORPUS) -> AsyncIterator[Panel]:
    """The app `digestbot run` serves (panel included), on a test server, over a store holding `feed`."""
    config = load_config(config_path)
    store = Store(config.storage.path)
    ingestor = Ingestor(store, config, aliases=SectionAliases(config.sections.aliases))
    ingestor.ingest_bytes(feed.read_bytes(), "nlp")
    service = DeliveryService(config, store, {"console": console_adapter()}, ingestor)
    engine = QueryEngine(store, SectionAliases(config.sections.aliases), config.default_language)
    metrics = Metrics(store, service.outbox, service.destinations, ("section",))
    panel = panel_state(config, Operations(service, "running-service"), engine)
    app = create_app(WebState(store, metrics, lambda: True), panel)
    stop = asyncio.Event()
    running = asyncio.create_task(service.run(stop))  # the loop whose worker delivers what the panel sends
    try:
        async with TestClient(TestServer(app)) as client:
            yield Panel(client, service, config)
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
        store.close()
