"""A failing feed server (5xx, timeout, garbage) leaves the outbox untouched; the bot keeps going.

Uses the real Ingestor and feed fetcher over httpx, with the server replaced by
`httpx.MockTransport` (the seam httpx provides for this).
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from bot.feeds.ingest import Ingestor
from bot.settings.config import Config, FeedConfig, bundled_feed_path
from bot.storage.store import Store
from scheduler.service import DeliveryService
from tests.harness.scheduling import Clock, ScriptedPlatform, dest


async def test_feed_faults_leave_outbox_untouched_and_are_reported() -> None:
    mode = {"now": "ok"}
    feed_bytes = bundled_feed_path().read_bytes()

    def server(request: httpx.Request) -> httpx.Response:
        if mode["now"] == "5xx":
            return httpx.Response(503, text="upstream down")
        if mode["now"] == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if mode["now"] == "garbage":
            return httpx.Response(200, content=b"<html><body>not a feed", headers={"content-type": "text/xml"})
        return httpx.Response(200, content=feed_bytes, headers={"content-type": "application/atom+xml"})

    store = Store(":memory:")
    config = Config(feeds=[FeedConfig(name="nlp", url="https://feeds.example/feed.xml")],
                    destinations=[dest("a"), dest("b", languages=["en"])])
    clock = Clock(datetime(2024, 3, 25, 6, 0, tzinfo=UTC))
    platform = ScriptedPlatform(clock)
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as client:
        service = DeliveryService(config, store, {"console": platform}, Ingestor(store, config, client=client),
                                  clock=clock)
        await service.run_once()
        delivered = len(platform.calls)
        assert delivered > 0
        before = [(r.key, r.state, r.attempts) for r in service.outbox.rows()]
        issues_before = store.list_issues(limit=100)
        for failure in ("5xx", "timeout", "garbage"):
            mode["now"] = failure
            await service.run_once()  # does not raise
            assert [(r.key, r.state, r.attempts) for r in service.outbox.rows()] == before
            assert store.list_issues(limit=100) == issues_before
            [feed] = service.status()["feeds"]
            assert feed["last_error"], failure
        assert len(platform.calls) == delivered
        mode["now"] = "ok"
        await service.run_once()
        [feed] = service.status()["feeds"]
        assert feed["error_count"] == 0 or feed["last_ok"] is not None
