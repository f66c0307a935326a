"""/healthz's reasons, the command counters and the web face's isolation from the platforms, in process
(the scrape while `digestbot run` delivers is tests/e2e/test_healthz_metrics.py)."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from bot.chat.commands import Query, parse_command
from bot.splitting.sections import SectionAliases
from scheduler.outbox import Outbox
from tests.harness.corpus import corpus_store
from tests.harness.metrics import metric
from tests.harness.paths import ROOT
from web import MeteredEngine, Metrics, WebState, create_app


async def test_healthz_says_why_it_is_unhealthy() -> None:
    store = corpus_store()
    running = {"scheduler": False}
    metrics = Metrics(store, Outbox(store.db), dict, ("section",))
    app = create_app(WebState(store, metrics, lambda: running["scheduler"]))
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/healthz")
        assert response.status == 503 and (await response.json())["reason"] == "scheduler not running"
        running["scheduler"] = True
        assert (await client.get("/healthz")).status == 200
        store.db.execute("pragma query_only = 1")  # the database refuses writes, as on a read-only volume
        response = await client.get("/healthz")
        body = await response.json()
        assert response.status == 503 and body["reason"].startswith("database not writable")


async def test_command_answers_are_counted_by_command() -> None:
    store = corpus_store()
    metrics = Metrics(store, Outbox(store.db), dict, ("section", "search"))
    engine = MeteredEngine(store, SectionAliases(), "en", metrics=metrics)
    engine.answer(Query(parse_command("section", "outils"), lang="fr", platform="telegram", chat="1"))
    engine.answer(Query(parse_command("section", "tools"), platform="telegram", chat="1"))
    engine.answer(Query(parse_command("search", "bert"), platform="discord", chat="2"))
    engine.answer(Query(parse_command("<script>"), platform="discord", chat="2"))
    app = create_app(WebState(store, metrics, lambda: True))
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/metrics")
        text = await response.text()
    assert response.headers["Content-Type"].startswith("text/plain")
    assert metric(text, "digestbot_command_answers_total", command="section", platform="telegram") == 2
    assert metric(text, "digestbot_command_answers_total", command="search", platform="discord") == 1
    assert metric(text, "digestbot_command_answers_total", command="other", platform="discord") == 1


def test_the_web_face_reaches_no_platform() -> None:
    """Like the CLI it calls shared code; unlike the CLI it builds nothing: no platform library or adapter."""
    import ast

    for path in sorted((ROOT / "web").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
        names |= {node.module.split(".")[0] for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
        assert not names & {"telegram", "discord", "apscheduler", "adapters"}, path
        assert "app.cli" not in {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}, path
