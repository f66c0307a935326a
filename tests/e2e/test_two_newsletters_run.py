"""Two newsletters in one deployment, end to end: `digestbot run` through the real scheduler.

The bundled NLP Newsletter snapshot ("dair.ai") and This Week in Rust feed seven destinations on
three platforms (the fake Telegram Bot API, the fake Discord, the console): one feed each, both
feeds, a drip, a digest and a topic-filtered one. What `plan --json` says before the start is
what the fakes then receive, no post crosses feeds, and every message names its own newsletter.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import signal
import sqlite3
from pathlib import Path
from typing import Any

from bot.settings.config import bundled_feed_path
from tests.fakes.discord import TOKEN as DISCORD_TOKEN
from tests.fakes.discord import running_fake
from tests.fakes.telegram import FakeTelegram
from tests.harness.cli import run_cli_async, start_run_async
from tests.harness.paths import TWIR_FEED
from tests.harness.poll import until

RUST = TWIR_FEED
TG_TOKEN = "515151:MULTI-token_abcdefghijklmnopqrstuvwxyz"
TOKENS = {"TELEGRAM_BOT_TOKEN": TG_TOKEN, "DISCORD_BOT_TOKEN": DISCORD_TOKEN}
NLP_FR, NLP_DRIP, RUST_FILTERED = -1007001, -1007002, -1007003
NAMES = {"nlp": "dair.ai", "rust": "This Week in Rust"}


def _sent_rows(db: Path) -> list[dict[str, Any]]:
    """Every delivered outbox row (one per platform message), in delivery order."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        try:
            rows = conn.execute("select destination, entry_id, unit, part, parts, state from outbox "
                                "where op = 'send' order by sent_at, id").fetchall()
        except sqlite3.OperationalError:  # not created yet
            return []
    return [dict(row) for row in rows if row["state"] == "sent"]


def _feed_of(db: Path) -> dict[str, str]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return dict(conn.execute("select entry_id, feed from issues").fetchall())


def _config(tmp: Path, tg: FakeTelegram, dc_api: str, dc_gateway: str, rust_channel: str,
            digest_channel: str) -> Path:
    path = tmp / "config.toml"
    path.write_text(f"""
[storage]
path = "{tmp / 'bot.db'}"
[console]
log = "{tmp / 'console.jsonl'}"
[telegram]
api_base_url = "{tg.base_url}"
time_scale = 0.01
commands = false
[discord]
api_base_url = "{dc_api}"
gateway_url = "{dc_gateway}"
commands = false
[[feeds]]
name = "nlp"
url = "{bundled_feed_path()}"
poll_interval = "1h"
[[feeds]]
name = "rust"
url = "{RUST}"
poll_interval = "1h"

[[destinations]]  # one feed, one language, every section as soon as published (and its index)
name = "nlp-fr"
platform = "telegram"
chat = "{NLP_FR}"
feeds = ["nlp"]
languages = ["fr"]

[[destinations]]  # a drip: two sections per tick
name = "nlp-drip"
platform = "telegram"
chat = "{NLP_DRIP}"
feeds = ["nlp"]
languages = ["en"]
schedule = "cron * * * * *"
per_tick = 2

[[destinations]]  # a topic filter: only items about async
name = "rust-async"
platform = "telegram"
chat = "{RUST_FILTERED}"
feeds = ["rust"]
include = ["async"]

[[destinations]]  # the other feed on the other platform
name = "rust-discord"
platform = "discord"
channel = "{rust_channel}"
feeds = ["rust"]
format = "text"

[[destinations]]  # a digest
name = "rust-digest"
platform = "discord"
channel = "{digest_channel}"
feeds = ["rust"]
schedule = "digest * * * * *"

[[destinations]]  # both feeds: the newest editions of either newsletter
name = "both"
platform = "console"
languages = ["en"]
sections = ["quote_of_the_week", "tools_datasets"]
backfill = 21
""", encoding="utf-8")
    return path


def _expected(plan: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Per destination, the (edition, unit) posts the plan says go out at start or at the first tick."""
    expected = {}
    for dest in plan["destinations"]:
        deliveries = dest["deliveries"]
        if dest["schedule"] != "on_publish" and deliveries:
            first = deliveries[0]["when"]
            deliveries = [d for d in deliveries if d["when"] == first]
        expected[dest["name"]] = [(d["entry_id"], d["unit"]) for d in deliveries]
    return expected


def _messages_text(message: Any) -> str:
    """All a message carries (text, HTML, embeds, captions) as one string."""
    data = dataclasses.asdict(message) if dataclasses.is_dataclass(message) and not isinstance(message, type) \
        else message
    return json.dumps(data, ensure_ascii=False, default=str)


async def test_two_newsletters_reach_seven_destinations_as_planned(tmp_path: Path) -> None:
    async with FakeTelegram(TG_TOKEN, time_scale=0.01) as tg, running_fake() as dc:
        for chat in (NLP_FR, NLP_DRIP, RUST_FILTERED):
            tg.add_chat(chat, "channel")
        rust_channel, digest_channel = dc.add_channel("rust"), dc.add_channel("rust-digest")
        config = _config(tmp_path, tg, dc.api_base, dc.gateway_url, rust_channel, digest_channel)
        db = tmp_path / "bot.db"
        code, _, err = await run_cli_async("ingest", "--config", str(config), env=TOKENS)
        assert code == 0, err
        code, out, err = await run_cli_async("plan", "--json", "--config", str(config), env=TOKENS)
        assert code == 0, err
        expected = _expected(json.loads(out))
        assert all(expected.values()), expected  # every destination has something to receive
        feed_of = _feed_of(db)
        assert {feed_of[e] for e, _ in expected["both"]} == {"nlp", "rust"}  # both newsletters, one place
        stderr = tmp_path / "run.log"
        with stderr.open("wb") as log:
            proc = await start_run_async("run", "--config", str(config), env=TOKENS, stderr=log)
            try:
                def delivered() -> bool:
                    sent = {(r["destination"], r["entry_id"], r["unit"]) for r in _sent_rows(db)}
                    return all((name, e, u) in sent for name, units in expected.items() for e, u in units)

                await until(delivered, "every planned post", timeout=150,
                            every=0.2)  # the cron ticks fire on the minute
                rows = _sent_rows(db)
                counts = {name: sum(1 for r in rows if r["destination"] == name) for name in expected}
                await until(lambda: all(
                    len(tg.sent(chat)) >= counts[name]
                    for name, chat in (("nlp-fr", NLP_FR), ("nlp-drip", NLP_DRIP), ("rust-async", RUST_FILTERED)))
                    and len(dc.channel_messages(rust_channel)) >= counts["rust-discord"]
                    and len(dc.channel_messages(digest_channel)) >= counts["rust-digest"], "the fakes", timeout=30,
                            every=0.2)
            finally:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(proc.wait(), 30)
        assert code == 0, stderr.read_text(encoding="utf-8", errors="replace")[-3000:]
        rows = _sent_rows(db)
        # plan --json and what went out agree: the same posts, in the same order (indexes follow sections)
        for name, units in expected.items():
            mine = [(r["entry_id"], r["unit"]) for r in rows if r["destination"] == name and r["part"] == 0]
            assert [u for u in mine if u[1] != "#index"][: len(units)] == units, name
        # no post crosses feeds (and languages stay the destination's)
        wanted = {"nlp-fr": {"nlp"}, "nlp-drip": {"nlp"}, "rust-async": {"rust"}, "rust-discord": {"rust"},
                  "rust-digest": {"rust"}, "both": {"nlp", "rust"}}
        for row in rows:
            assert feed_of[row["entry_id"]] in wanted[row["destination"]], row
        # what the fakes received: one platform message per delivered row, each naming its own newsletter
        received: dict[str, list[Any]] = {
            "nlp-fr": tg.sent(NLP_FR), "nlp-drip": tg.sent(NLP_DRIP), "rust-async": tg.sent(RUST_FILTERED),
                    "rust-discord": dc.channel_messages(rust_channel),
                    "rust-digest": dc.channel_messages(digest_channel)}
        console = [json.loads(line) for line in (tmp_path / "console.jsonl").read_text(encoding="utf-8").splitlines()]
        received["both"] = [record for record in console if record["dest"] == "both"]
        for name, messages in received.items():
            theirs = [r for r in rows if r["destination"] == name]
            assert len(messages) == len(theirs), name
            for message, row in zip(messages, theirs, strict=True):
                text = _messages_text(message)
                own, other = (NAMES[feed_of[row["entry_id"]]],
                              NAMES["rust" if feed_of[row["entry_id"]] == "nlp" else "nlp"])
                if row["part"] == 0:
                    assert own in text, (name, text[:300])
                assert other not in text, (name, text[:300])
        # the drip released per_tick sections, the digest one post, the filter fewer sections than the issue
        assert len(expected["nlp-drip"]) == 2
        assert [u for _, u in expected["rust-digest"]] == ["#digest"]
        assert 0 < len(expected["rust-async"]) < len(expected["rust-discord"])
        assert tg.rejected() == [] and dc.rejected == []
