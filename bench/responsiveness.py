"""Benchmark: is `digestbot run` still answering commands, and stoppable, while it ingests a huge feed?

`digestbot run` (a subprocess) polls a local 15 MB feed of 60,000 small newsletter
entries, and answers chat commands through the real python-telegram-bot client
against the fake Bot API (`tests/fakes/telegram.py`). While the ingest runs, a user
sends `/latest` over and over; each latency is the time from the update being
offered to the bot until its reply reaches the fake: getUpdates, the event loop,
the query engine's read of SQLite, and sendMessage — what a user waits for. The
same probe against an idle bot holding the bundled feed is the baseline of the
same run. (During the ingest `/latest` reads the committed store, which is what a
user sees then.)

Then a second `run` on a fresh database gets SIGTERM in the middle of the same
ingest; the time until it has exited is reported.

Targets: p99 during the ingest ≤ 250 ms; SIGTERM → exit ≤ 5 s.

    .venv/bin/python bench/responsiveness.py [--entries 60000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.settings.config import bundled_feed_path  # noqa: E402
from tests.fakes.telegram import FakeTelegram  # noqa: E402

TOKEN = "515151:BENCH-token_abcdefghijklmnopqrstuvwxyz"
CHAT = 4242
_DONE = "feed big:"  # the ingest's closing log line starts with this


def build_feed(entries: int) -> bytes:
    """RSS with `entries` small newsletter issues (three sections each): all of them are split and stored.

    Issue numbers stay within the four digits the title parser reads: an edition without a
    number is compared with every numbered one to borrow its number, which for tens of
    thousands of them is quadratic (a separate matter from this benchmark).
    """
    head = (b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>big</title>'
            b"<link>https://example.org/</link>\n")
    items = []
    for n in range(entries):
        items.append(
            f"<item><title>NLP Newsletter #{n % 9999 + 1}</title><link>https://example.org/{n}/</link>"
            f"<description><![CDATA["
            f"<h1>Publications 📙</h1><p>paper {n}</p><h1>Tools ⚙️</h1><p>tool {n}</p>"
            f"<h1>Education 🎓</h1><p>course {n}</p>]]></description></item>\n".encode())
    return head + b"".join(items) + b"</channel></rss>\n"


def write_config(folder: Path, feed: Path, fake: FakeTelegram, db: str, name: str = "big") -> Path:
    config = folder / f"{db}.toml"
    config.write_text(
        f'[storage]\npath = "{folder / db}"\n\n'
        f'[[feeds]]\nname = "{name}"\nurl = "{feed}"\npoll_interval = "1h"\nmax_bytes = 33554432\n\n'
        f'[telegram]\napi_base_url = "{fake.base_url}"\ntime_scale = 0.01\n\n'
        '[[destinations]]\nname = "console"\nplatform = "console"\nbackfill = 0\n', encoding="utf-8")
    return config


async def start_run(config: Path, log: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN,
           "PYTHONPATH": str(ROOT)}
    with log.open("wb") as err:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app.cli", "run", "--config", str(config), env=env, cwd=config.parent,
            stdout=asyncio.subprocess.DEVNULL, stderr=err)


async def probe(fake: FakeTelegram) -> float:
    """One `/latest`: seconds from the update being offered until the bot's reply arrives."""
    before = len(fake.sent(CHAT))
    start = time.perf_counter()
    fake.user_says(CHAT, "/latest", user_id=CHAT)
    await fake.wait_for(lambda: len(fake.sent(CHAT)) > before, timeout=120)
    return time.perf_counter() - start


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def ingest_done(log: Path) -> bool:
    return _DONE in log.read_text(encoding="utf-8", errors="replace")


async def idle_baseline(folder: Path, fake: FakeTelegram, probes: int = 100) -> list[float]:
    """The same probe against a bot that has ingested the small bundled feed and is idle."""
    log = folder / "idle.log"
    proc = await start_run(write_config(folder, bundled_feed_path(), fake, "idle.db", name="small"), log)
    try:
        await fake.wait_for(lambda: fake.pollers, timeout=60)
        while "feed small:" not in log.read_text(encoding="utf-8", errors="replace"):
            await asyncio.sleep(0.1)
        latencies = []
        for _ in range(probes):
            latencies.append(await probe(fake))
            await asyncio.sleep(0.05)
        return latencies
    finally:
        await stop(proc)


async def during_ingest(folder: Path, feed: Path, fake: FakeTelegram) -> tuple[list[float], float]:
    log = folder / "run.log"
    proc = await start_run(write_config(folder, feed, fake, "one.db"), log)
    try:
        await fake.wait_for(lambda: fake.pollers, timeout=60)
        started = time.perf_counter()
        during: list[float] = []
        while not ingest_done(log):
            latency = await probe(fake)
            if not ingest_done(log):  # only probes that began and ended inside the ingest
                during.append(latency)
            await asyncio.sleep(0.05)
        return during, time.perf_counter() - started
    finally:
        await stop(proc)


async def stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    await asyncio.wait_for(proc.wait(), 60)


async def stop_time(folder: Path, feed: Path, fake: FakeTelegram, delay: float) -> tuple[float, int, int]:
    """SIGTERM `delay` s after the bot is listening (mid-ingest); seconds to exit, exit code, issues stored."""
    log = folder / "stop.log"
    proc = await start_run(write_config(folder, feed, fake, "two.db"), log)
    await fake.wait_for(lambda: fake.pollers, timeout=60)
    await asyncio.sleep(delay)
    if ingest_done(log):
        print("warning: the ingest finished before SIGTERM; use more --entries", file=sys.stderr)
    start = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(proc.wait(), 300)
    elapsed = time.perf_counter() - start
    with sqlite3.connect(folder / "two.db") as db:  # consistent: all of the poll or none of it
        tables = {row[0] for row in db.execute("select name from sqlite_master")}
        stored = db.execute("select count(*) from issues").fetchone()[0] if "issues" in tables else 0
    return elapsed, code, stored


async def main_async(entries: int, delay: float) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        feed = folder / "big.xml"
        feed.write_bytes(build_feed(entries))
        print(f"feed: {feed.stat().st_size / 1e6:.1f} MB, {entries:,} entries")
        async with FakeTelegram(TOKEN, time_scale=0.01) as fake:
            fake.add_chat(CHAT, "private")
            idle = await idle_baseline(folder, fake)
        async with FakeTelegram(TOKEN, time_scale=0.01) as fake:
            fake.add_chat(CHAT, "private")
            during, ingest_seconds = await during_ingest(folder, feed, fake)
        async with FakeTelegram(TOKEN, time_scale=0.01) as fake:
            elapsed, code, stored = await stop_time(folder, feed, fake, delay)
    ms = 1000
    print(f"ingest under `run`: {ingest_seconds:.1f}s; commands answered meanwhile: {len(during)}")
    if not during:
        print("no probe fell inside the ingest")
        return 1
    print(f"/latest during ingest: median {statistics.median(during) * ms:.0f} ms, p99 {p99(during) * ms:.0f} ms,"
          f" max {max(during) * ms:.0f} ms")
    print(f"/latest idle, bundled feed stored (baseline): median {statistics.median(idle) * ms:.0f} ms,"
          f" p99 {p99(idle) * ms:.0f} ms")
    print(f"ratio p99 during / idle: {p99(during) / p99(idle):.1f}")
    print(f"SIGTERM mid-ingest → exit: {elapsed:.2f}s (exit code {code}; issues stored: {stored:,},"
          " all or none)")
    ok = p99(during) <= 0.25 and elapsed <= 5 and code == 0 and stored in (0, entries)
    print(f"targets p99 <= 250 ms, stop <= 5 s: {'OK' if ok else 'ABOVE TARGET'}")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=60_000)
    parser.add_argument("--stop-after", type=float, default=3.0, help="seconds between listening and SIGTERM")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main_async(args.entries, args.stop_after)))


if __name__ == "__main__":
    main()
