"""Crash safety: `digestbot run` as a real process, SIGKILLed mid-delivery again and again.

Twenty console destinations receive the newest French issue; the console adapter
fsyncs one JSON line per delivered part. The process is killed at ten points and
restarted; in the end every part is delivered, in order, and duplicates are at
most one per kill (the part in flight), as the README states.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from adapters.console import ConsoleRenderer
from bot.core.messages import SectionPost
from bot.feeds.ingest import Ingestor
from bot.settings.config import DestinationConfig, bundled_feed_path, load_config
from bot.settings.destinations import destination_from_config
from bot.storage.store import Store
from scheduler.selection import selected_sections
from tests.harness.cli import clean_env
from tests.harness.config import ConfigFile
from tests.harness.probes import console_log

DESTINATIONS = 20
KILLS = 10


def _config(tmp_path: Path) -> Path:
    config = ConfigFile(tmp_path).storage().table("console", log=tmp_path / "deliveries.jsonl", delay=0.1)
    config.feed("nlp", bundled_feed_path(), poll_interval="1h")
    for n in range(DESTINATIONS):
        config.destination(f"console-{n:02d}", "console", languages=["fr"])
    return config.write()


def _expected(config_path: Path) -> tuple[list[str], int]:
    """Section texts in order for one destination, computed independently of the bot's outbox."""
    config = load_config(config_path)
    store = Store(":memory:")
    Ingestor(store, config).ingest_bytes(bundled_feed_path().read_bytes(), "nlp")
    issue = store.get_issue(store.list_issues(lang="fr", limit=1)[0].entry_id)
    assert issue is not None
    dest = destination_from_config(DestinationConfig(name="console-00", platform="console", languages=["fr"]))
    console = ConsoleRenderer()
    texts = [part.text for section in selected_sections(dest, issue)
             for part in console.render(SectionPost(issue=issue.ref, section=section), dest)]
    return texts, 1  # the sections' parts, then one index post


def _open_rows(db: Path) -> int:
    if not db.exists():
        return -1
    with sqlite3.connect(db, timeout=5) as conn:
        try:
            total, unsent = conn.execute(
                "select count(*), sum(state != 'sent') from outbox").fetchone()
        except sqlite3.OperationalError:
            return -1
    return -1 if not total else int(unsent)


def test_sigkill_at_ten_points_loses_nothing(tmp_path: Path) -> None:
    config = _config(tmp_path)
    log = tmp_path / "deliveries.jsonl"
    env = clean_env()
    command = [sys.executable, "-m", "app.cli", "run", "--config", str(config)]
    texts, index_posts = _expected(config)
    per_dest = len(texts) + index_posts
    total = per_dest * DESTINATIONS
    step = max(1, total // (KILLS + 5))
    kills, threshold = 0, step
    started = time.monotonic()
    proc: subprocess.Popen[bytes] | None = None
    try:
        while kills < KILLS:
            proc = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            while len(console_log(log)) < threshold and proc.poll() is None:
                time.sleep(0.005)
                assert time.monotonic() - started < 60, "no progress"
            assert proc.poll() is None, "digestbot exited on its own"
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            threshold = len(console_log(log)) + step
        assert len({(r["dest"], r["key"]) for r in console_log(log)}) < total, "kills came too late to matter"

        proc = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        while _open_rows(tmp_path / "bot.db") != 0:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() - started < 60, "delivery did not finish"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0  # a clean stop
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    records = [r for r in console_log(log) if r["op"] == "send"]
    by_dest: dict[str, list[dict[str, str]]] = defaultdict(list)
    for record in records:
        by_dest[record["dest"]].append(record)
    assert sorted(by_dest) == [f"console-{n:02d}" for n in range(DESTINATIONS)]
    duplicates = 0
    for name, sent in by_dest.items():
        first: dict[str, str] = {}
        for record in sent:
            first.setdefault(record["key"], record["text"])
        duplicates += len(sent) - len(first)
        delivered = list(first.values())
        assert len(delivered) == per_dest, name  # none lost, nothing extra
        assert delivered[:-1] == texts, name  # every section, in order
        assert delivered[-1].startswith("🗂 Index"), name
    print(f"crash test: {kills} kills, {len(records)} sends, {duplicates} duplicate(s)")
    assert duplicates <= kills, f"{duplicates} duplicates for {kills} kills"
