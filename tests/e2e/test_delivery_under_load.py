"""Delivery under load, as the faults arrive: a flood block on one chat, a slow shutdown, many subscribers.

`digestbot run` runs as a subprocess against the fake Bot API (tests/fakes/telegram.py); the fake
answers 429 with a huge `retry_after` for one chat shared by two destinations while a console
destination drains. The outbox is read with plain SQL (what `status` would show is checked with
`status --json` itself).
"""

from __future__ import annotations

import asyncio
import io
import json
import signal
import socket
import sqlite3
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.console import console_adapter
from bot.contract.destination import Change, Destination
from bot.core.i18n import t
from bot.feeds.ingest import Ingestor
from bot.settings.config import Config, DeliveryConfig, DestinationConfig
from bot.storage.store import Store
from scheduler.service import DeliveryService
from scheduler.status import build_status
from tests.fakes.telegram import FakeTelegram
from tests.harness.cli import run_cli_on_async, start_run_async
from tests.harness.config import ConfigFile
from tests.harness.corpus import CORPUS
from tests.harness.poll import until

TOKEN = "616161:LOAD-token_abcdefghijklmnopqrstuvwxyz"
TOKENS = {"TELEGRAM_BOT_TOKEN": TOKEN}
SHARED = -1005550  # one channel, two destinations (different languages)


def _config(folder: Path, fake: FakeTelegram, *, time_scale: float, console_delay: float = 0.02) -> Path:
    return (ConfigFile(folder).storage().feed("nlp", CORPUS, poll_interval="1h")
            .table("telegram", api_base_url=fake.base_url, time_scale=time_scale)
            .table("console", log=folder / "console.jsonl", delay=console_delay)
            .table("delivery", max_retry_wait="1h")
            .destination("tg-a", "telegram", chat=str(SHARED), languages=["fr"])
            .destination("tg-b", "telegram", chat=str(SHARED), languages=["en"])
            .destination("console", "console", languages=["fr", "en"], backfill=4)
            .write())


def _rows(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []
    finally:
        conn.close()


async def _start(config: Path, stderr: Path) -> asyncio.subprocess.Process:
    with stderr.open("wb") as err:
        return await start_run_async("-v", "run", "--config", str(config), env=TOKENS, cwd=config.parent,
                                     stderr=err)


async def _sigterm(proc: asyncio.subprocess.Process) -> tuple[int, float]:
    """SIGTERM, and how long the process took to exit (killed after 30 s so a hang fails, not blocks)."""
    proc.send_signal(signal.SIGTERM)
    start = time.monotonic()
    try:
        code = await asyncio.wait_for(proc.wait(), 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError("digestbot ignored SIGTERM for 30 s") from None
    return code, time.monotonic() - start


async def test_a_flood_blocked_shared_chat_holds_back_only_its_own_posts(tmp_path: Path) -> None:
    async with FakeTelegram(TOKEN, time_scale=0.01) as fake:
        fake.add_chat(SHARED, "channel", username="shared")
        fake.flood_storm(1, retry_after=999_999_999, chat_id=SHARED)  # the chat's first send: blocked for 31 years
        config = _config(tmp_path, fake, time_scale=0.01)
        db = tmp_path / "bot.db"
        proc = await _start(config, tmp_path / "stderr.log")
        try:
            # the console drains completely beside the blocked chat
            def console_done() -> bool:
                rows = _rows(db, "select state, count(*) from outbox where destination = 'console' group by 1")
                return bool(rows) and {row[0] for row in rows} == {"sent"}
            await until(console_done, "the console destination to drain", proc=proc)
            delivered = _rows(db, "select count(*) from outbox where destination = 'console'")[0][0]
            assert isinstance(delivered, int) and delivered >= 20
            log = (tmp_path / "console.jsonl").read_text(encoding="utf-8").splitlines()
            assert len(log) >= delivered

            # both destinations of the chat wait for a scheduled retry, capped at max_retry_wait (1 h)
            def both_scheduled() -> bool:
                heads = _rows(db, "select destination, state from outbox where id in (select min(id) from outbox "
                                  "where state != 'sent' group by destination)")
                states = {str(row[0]): row[1] for row in heads}
                return states.get("tg-a") == "failed" and states.get("tg-b") == "failed"
            await until(both_scheduled, "tg-a and tg-b to wait for a retry", proc=proc)
            assert fake.sent(SHARED) == []
            assert [c.status for c in fake.calls("sendMessage") + fake.calls("sendPhoto")] == [429]  # one try only

            code, out, err = await run_cli_on_async(config, "status", "--json", env=TOKENS, timeout=60)
            assert code == 0, err
            status = {d["name"]: d for d in json.loads(out)["destinations"]}
            now = time.time()
            for name in ("tg-a", "tg-b"):
                blocked_until = datetime.fromisoformat(status[name]["blocked_until"]).timestamp()
                assert now + 600 < blocked_until <= now + 3600 + 5, (name, status[name])
                assert "429" in status[name]["blocked_reason"]
                assert status[name]["paused"] is None
            assert status["console"]["blocked_until"] is None
            code, out, err = await run_cli_on_async(config, "status", env=TOKENS, timeout=60)
            assert code == 0 and "Blocked" in out and "tg-a" in out.split("Blocked", 1)[1], out + err

            # `retry` as the README suggests: tried again at once, refused by the limiter without waiting
            code, out, err = await run_cli_on_async(config, "retry", "tg-a", env=TOKENS, timeout=60)
            assert code == 0 and "1 post re-queued" in out, out + err
            retried = time.time()
            await until(lambda: _rows(db, "select 1 from outbox where destination = 'tg-a' and state = 'failed' "
                                           "and attempts = 1 and updated_at >= ? and next_attempt_at > ?",
                                       retried - 1, retried + 600), "tg-a to be tried again after `retry`", proc=proc)
            assert fake.sent(SHARED) == []
        finally:
            if proc.returncode is None:
                code, took = await _sigterm(proc)
        stderr = (tmp_path / "stderr.log").read_text(encoding="utf-8", errors="replace")
        assert code == 0, stderr[-3000:]
        assert took < 5, f"SIGTERM took {took:.1f}s"
        assert "Traceback" not in stderr, stderr[-3000:]


async def test_sigterm_stops_run_while_a_send_waits_on_the_flood_limiter(tmp_path: Path) -> None:
    async with FakeTelegram(TOKEN, time_scale=1.0) as fake:  # real windows: waits take real seconds
        fake.add_chat(SHARED, "channel", username="shared")
        fake.flood_storm(1, retry_after=5, chat_id=SHARED)  # short enough to be waited for in place
        config = _config(tmp_path, fake, time_scale=1.0, console_delay=1.0)
        proc = await _start(config, tmp_path / "stderr.log")
        try:
            # the first destination's 429 is logged with its 5 s retry; the other one now waits on the limiter
            log = tmp_path / "stderr.log"
            await until(lambda: "retry in 5.0s" in log.read_text(encoding="utf-8", errors="replace"),
                        "the 429 to be scheduled", proc=proc)
            assert fake.sent(SHARED) == []
        finally:
            code, took = await _sigterm(proc)
        stderr = (tmp_path / "stderr.log").read_text(encoding="utf-8", errors="replace")
        assert code == 0, stderr[-3000:]
        assert took < 5, f"SIGTERM took {took:.1f}s"
        assert "Traceback" not in stderr, stderr[-3000:]


# ---------------------------------------------------------------------- many subscribers
SUBSCRIBERS = 10_000
CHANNEL = -1009990
FIRST_SUBSCRIBER = 5_000_000  # private chat ids are user ids


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, str, float]:
    start = time.monotonic()
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (a local test server)
        return response.status, response.read().decode("utf-8"), time.monotonic() - start


def _seed_subscribers(db: Path) -> None:
    """10,000 private chats that did `/subscribe outils` (what the engine stores for each), written
    straight into the database: sending 10,000 commands through the fake would take minutes."""
    store = Store(db)
    try:
        for n in range(SUBSCRIBERS):
            chat = str(FIRST_SUBSCRIBER + n)
            store.save_subscription(Destination(
                name=f"telegram:{chat}", platform="telegram", chat=chat, languages=("fr",),
                sections=("tools_datasets",), backfill=1, change=Change(by=chat, chat=chat)))
    finally:
        store.close()


async def test_ten_thousand_private_subscribers_never_starve_the_configured_channel(tmp_path: Path) -> None:
    port = _free_port()
    db = tmp_path / "bot.db"
    _seed_subscribers(db)
    async with FakeTelegram(TOKEN, time_scale=0.01) as fake:
        fake.add_chat(CHANNEL, "channel", username="digest_fr")
        for n in range(SUBSCRIBERS):
            fake.add_chat(FIRST_SUBSCRIBER + n, "private")
        config = tmp_path / "config.toml"
        config.write_text(
            f'[storage]\npath = "{db}"\n\n[web]\nlisten = "127.0.0.1:{port}"\n\n'
            f'[[feeds]]\nname = "nlp"\nurl = "{CORPUS}"\npoll_interval = "1h"\n\n'
            f'[telegram]\napi_base_url = "{fake.base_url}"\ntime_scale = 0.01\n\n'
            f'[subscriptions]\nmax_total = {SUBSCRIBERS}\nmax_per_user = 3\n\n'
            f'[[destinations]]\nname = "fr-channel"\nplatform = "telegram"\nchat = "{CHANNEL}"\n'
            'languages = ["fr"]\n', encoding="utf-8")
        proc = await _start(config, tmp_path / "stderr.log")
        try:
            # the configured channel gets its whole edition while the subscribers are still far from done
            def channel_done() -> bool:
                rows = _rows(db, "select state, count(*) from outbox where destination = 'fr-channel' group by 1")
                return bool(rows) and {row[0] for row in rows} == {"sent"}
            await until(channel_done, "the configured channel to get its edition", proc=proc, timeout=180)
            sent = _rows(db, "select count(*) from outbox where destination like 'telegram:%' and state = 'sent'")
            assert isinstance(sent[0][0], int) and sent[0][0] < SUBSCRIBERS / 2, sent  # (a section each, then an index)
            assert fake.sent(CHANNEL)[-1].text.startswith("📚")  # the index, last

            # /healthz answers at once, /metrics names no subscriber
            status, _, took = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/healthz")
            assert status == 200 and took < 2, took
            status, metrics, _ = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/metrics")
            assert status == 200
            assert str(FIRST_SUBSCRIBER) not in metrics and "telegram:" not in metrics
            assert f'digestbot_subscriptions{{platform="telegram"}} {SUBSCRIBERS}.0' in metrics
            assert 'destination="fr-channel"' in metrics and 'destination="(subscriptions)"' in metrics

            # the cap: a new chat is refused politely, an existing subscriber may still change theirs
            await fake.wait_for(lambda: fake.pollers, timeout=30)
            fake.user_says(77, "/subscribe outils", user_id=77, language_code="fr")
            reply = await fake.wait_for(lambda: fake.sent(77), timeout=30)
            assert reply[0].text.endswith(t("query.subscribe_full", "fr", limit=SUBSCRIBERS)), reply[0].text
            fake.user_says(FIRST_SUBSCRIBER, "/subscribe publications", user_id=FIRST_SUBSCRIBER, language_code="fr")
            await fake.wait_for(lambda: any("Publications" in m.text for m in fake.sent(FIRST_SUBSCRIBER)
                                            if not m.text.startswith("📚")), timeout=30)
        finally:
            if proc.returncode is None:
                code, took = await _sigterm(proc)
        stderr = (tmp_path / "stderr.log").read_text(encoding="utf-8", errors="replace")
        assert code == 0, stderr[-3000:]
        assert took < 5, f"SIGTERM took {took:.1f}s"


# ---------------------------------------------------------------------- Discord: one channel flood-blocked
async def test_a_discord_channel_told_to_wait_31_years_holds_back_only_itself(
        tmp_path: Path, discord_platform: Any, fake_discord: Any) -> None:
    blocked, draining = fake_discord.add_channel("blocked"), fake_discord.add_channel("draining")
    fake_discord.inject_429(blocked, retry_after=999_999_999.0)
    config = Config(delivery=DeliveryConfig(max_retry_wait=3600), destinations=[
        DestinationConfig(name="dc-blocked", platform="discord", channel=blocked, languages=["fr"]),
        DestinationConfig(name="dc-draining", platform="discord", channel=draining, languages=["fr"]),
        DestinationConfig(name="console", platform="console", languages=["fr", "en"], backfill=4)])
    store = Store(tmp_path / "bot.db")
    ingestor = Ingestor(store, config)
    ingestor.ingest_bytes(CORPUS.read_bytes(), "nlp")
    service = DeliveryService(config, store, {"discord": discord_platform,
                                              "console": console_adapter(io.StringIO(), delay=0.01)}, ingestor)
    stop = asyncio.Event()
    running = asyncio.create_task(service.run(stop))
    try:
        def drained(name: str) -> bool:
            rows = service.outbox.rows(name)
            return bool(rows) and all(row.state == "sent" for row in rows)

        deadline = time.monotonic() + 60
        while not (drained("console") and drained("dc-draining")):
            assert not running.done() and time.monotonic() < deadline, service.outbox.counts()
            await asyncio.sleep(0.05)
        head = service.outbox.head("dc-blocked")
        assert head is not None and head.state == "failed"
        assert time.time() + 3000 < head.next_attempt_at <= time.time() + 3600  # capped by max_retry_wait
        status = {d.name: d for d in build_status(service).destinations}
        assert status["dc-blocked"].blocked_until is not None and status["dc-draining"].blocked_until is None
        assert fake_discord.channel_messages(blocked) == []
    finally:
        stop.set()
        start = time.monotonic()
        await asyncio.wait_for(running, 30)
        took = time.monotonic() - start
        store.close()
    assert took < 5, f"stopping took {took:.1f}s"


# ---------------------------------------------------------------------- the flood limiter's own memory
