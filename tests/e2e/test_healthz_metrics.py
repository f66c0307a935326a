"""The HTTP face: /healthz and /metrics scraped while `digestbot run` delivers, and the 503 reasons."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import urllib.request
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.chat.commands import Query, parse_command
from bot.splitting.sections import SectionAliases
from scheduler.outbox import Outbox
from tests.harness.corpus import CORPUS, corpus_store
from web import MeteredEngine, Metrics, WebState, create_app

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _metric(text: str, name: str, **labels: str) -> float | None:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_healthz_and_metrics_while_run_delivers(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "console.jsonl"
    config = tmp_path / "config.toml"
    config.write_text(f"""
[storage]
path = "{tmp_path / 'bot.db'}"
[console]
log = "{log}"
delay = 0.2
[web]
listen = "127.0.0.1:{port}"
[[feeds]]
name = "nlp"
url = "{CORPUS}"
poll_interval = "1h"
[[destinations]]
name = "fr-console"
platform = "console"
languages = ["fr"]
""", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT", "TELEGRAM", "DISCORD"))}
    env.update({"PYTHONPATH": str(ROOT)})
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "app.cli", "run", "--config", str(config),
                                                    env=env, cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=err)
        try:
            health: tuple[int, str] = (0, "")
            delivered: float | None = None
            text = ""
            for _ in range(300):  # up to ~60 s on a loaded machine
                await asyncio.sleep(0.2)
                assert proc.returncode is None, stderr.read_text()
                try:
                    health = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/healthz")
                    status, text = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/metrics")
                except OSError:
                    continue  # not listening yet
                delivered = _metric(text, "digestbot_delivered_messages", destination="fr-console",
                                    platform="console")
                if health[0] == 200 and delivered:
                    break
            assert health[0] == 200, health
            body = json.loads(health[1])
            assert body["status"] == "ok" and "database writable" in body["reason"]
            assert delivered is not None and delivered >= 1
            assert _metric(text, "digestbot_queue_depth", destination="fr-console", platform="console") is not None
            assert (_metric(text, "digestbot_feed_last_success_timestamp_seconds", feed="nlp") or 0) > 1e9
            assert _metric(text, "digestbot_feed_consecutive_errors", feed="nlp") == 0
            assert _metric(text, "digestbot_dead_messages", destination="fr-console", platform="console") == 0
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 30)
    assert code == 0, stderr.read_text()


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
    assert _metric(text, "digestbot_command_answers_total", command="section", platform="telegram") == 2
    assert _metric(text, "digestbot_command_answers_total", command="search", platform="discord") == 1
    assert _metric(text, "digestbot_command_answers_total", command="other", platform="discord") == 1


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
