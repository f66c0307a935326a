"""The panel keeps the destination contract: Send now offers the destination's own issues and sections,
the destination page says where its selection comes from, and Reset drops a `/subscribe` override."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.chat.commands import Query, parse_command
from bot.chat.query import QueryEngine
from bot.core.messages import Subscribed
from bot.settings.destinations import destination_from_config
from tests.harness.panel import TOKEN, Panel, running_panel, write_config
from tests.harness.paths import ROOT

RUST = ROOT / "tests" / "data" / "this-week-in-rust-616-635.xml"
EXTRA = f"""
[[feeds]]
name = "rust"
url = "{RUST}"
poll_interval = "1h"
[[destinations]]
name = "nlp-only"
platform = "console"
feeds = ["nlp"]
languages = ["fr"]
[[destinations]]
name = "rust-only"
platform = "console"
feeds = ["rust"]
"""


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGESTBOT_WEB_TOKEN", TOKEN)


def _offered(form: str) -> tuple[set[str], set[str]]:
    """(issue numbers, section keys) the Send now form offers."""
    values = set(re.findall(r'value="([^"]*)"', form))
    return {v for v in values if v.isdigit()}, {v for v in values if re.fullmatch(r"[a-z_]+", v)}


async def _page_until(panel: Panel, path: str, text: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while True:
        page = await (await panel.client.get(path)).text()
        if text in page:
            return page
        assert time.monotonic() < deadline, f"{text!r} never showed on {path}"
        await asyncio.sleep(0.1)


async def test_send_now_offers_only_the_destinations_feeds(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path, extra=EXTRA)) as panel:
        panel.service.ingestor.ingest_bytes(RUST.read_bytes(), "rust")
        await panel.login()
        numbers, keys = _offered(await (await panel.client.get("/destinations/nlp-only/send")).text())
        assert "tools_datasets" in keys and "crate_of_the_week" not in keys
        assert "4" in numbers and "635" not in numbers
        numbers, keys = _offered(await (await panel.client.get("/destinations/rust-only/send")).text())
        assert "crate_of_the_week" in keys and "tools_datasets" not in keys
        assert "635" in numbers and "4" not in numbers


async def test_destination_page_shows_the_override_and_reset_drops_it(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path, extra=EXTRA)) as panel:
        token = await panel.login()
        page = await (await panel.client.get("/destinations/nlp-only")).text()
        assert "config.toml" in page and "/reset" not in page  # nothing to reset
        engine = QueryEngine(panel.service.store,
                             destinations=[destination_from_config(d) for d in panel.config.destinations])
        before = datetime.now(UTC).replace(microsecond=0)
        answer = engine.answer(Query(parse_command("/subscribe education"), lang="fr", platform="console",
                                     chat="nlp-only", user="bob", is_admin=True, is_private=False))
        assert isinstance(answer, Subscribed)
        page = await _page_until(panel, "/destinations/nlp-only", "changed by /subscribe in chat nlp-only")
        assert "sections education" in page and "(by bob)" in page and "/destinations/nlp-only/reset" in page
        dest = panel.service.destinations()["nlp-only"]
        assert dest.change is not None and dest.change.at is not None and dest.change.at >= before
        response = await panel.client.post("/destinations/nlp-only/reset", data={"csrf_token": token})
        page = await response.text()
        assert "nlp-only: /subscribe override dropped" in page
        assert panel.service.store.subscriptions() == []
        assert panel.service.destinations()["nlp-only"].sections == ("*",)
        again = await (await panel.client.post("/destinations/nlp-only/reset", data={"csrf_token": token})).text()
        assert "has no /subscribe override" in again
