"""The HTTP face: /healthz and /metrics scraped while `digestbot run` delivers, and the 503 reasons."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
import urllib.request
from pathlib import Path

from tests.harness.cli import clean_env
from tests.harness.corpus import CORPUS
from tests.harness.metrics import metric


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
    env = clean_env()
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
                delivered = metric(text, "digestbot_delivered_messages", destination="fr-console",
                                    platform="console")
                if health[0] == 200 and delivered:
                    break
            assert health[0] == 200, health
            body = json.loads(health[1])
            assert body["status"] == "ok" and "database writable" in body["reason"]
            assert delivered is not None and delivered >= 1
            assert metric(text, "digestbot_queue_depth", destination="fr-console", platform="console") is not None
            assert (metric(text, "digestbot_feed_last_success_timestamp_seconds", feed="nlp") or 0) > 1e9
            assert metric(text, "digestbot_feed_consecutive_errors", feed="nlp") == 0
            assert metric(text, "digestbot_dead_messages", destination="fr-console", platform="console") == 0
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 30)
    assert code == 0, stderr.read_text()
