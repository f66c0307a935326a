"""Benchmark: full ingest (parse + split + store) against `feedparser.parse` with its defaults.

Both run on the same bytes in the same process, alternately, round after round, so
that a burst of noise on a shared machine hits both sides alike; the medians are
compared. Target: ratio ≤ 0.5 on the shared feed and on a feed ten times its size.

    .venv/bin/python bench/ingest.py [--repeat 9]
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import feedparser

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.feeds.ingest import Ingestor  # noqa: E402
from bot.settings.config import Config  # noqa: E402
from bot.storage.store import Store  # noqa: E402
from tests.harness.corpus import CORPUS  # noqa: E402

_ENTRY = re.compile(rb"<entry>.*?</entry>", re.S)


def tenfold(data: bytes) -> bytes:
    """The same feed with every entry repeated ten times under distinct ids."""
    entries = _ENTRY.findall(data)
    head = data[: data.index(entries[0])]
    tail = data[data.rindex(entries[-1]) + len(entries[-1]):]
    copies = []
    for n in range(10):
        for entry in entries:
            copies.append(re.sub(rb"<id>(.*?)</id>", lambda m, n=n: b"<id>" + m.group(1) + b"-copy%d</id>" % n,
                                 entry, count=1))
    return head + b"\n".join(copies) + tail


def time_feedparser(data: bytes) -> float:
    start = time.perf_counter()
    feedparser.parse(data)
    return time.perf_counter() - start


def time_ingest(data: bytes, folder: Path, round_number: int) -> tuple[float, int]:
    """Parse + split + store into a fresh database; opening it is setup, not ingest."""
    store = Store(folder / f"bench-{round_number}.db")
    ingestor = Ingestor(store, Config())
    start = time.perf_counter()
    editions = len(ingestor.ingest_bytes(data, "bench"))
    elapsed = time.perf_counter() - start
    store.close()
    return elapsed, editions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the ingest logs a line per poll; not what we time
    feeds = {"shared feed": CORPUS.read_bytes()}
    feeds["10x feed"] = tenfold(feeds["shared feed"])
    print(f"{'feed':<12} {'bytes':>10} {'editions':>9} {'feedparser':>11} {'digestbot':>10} {'ratio':>6}")
    ratios = []
    for name, data in feeds.items():
        repeat = args.repeat if len(data) < 2_000_000 else max(3, args.repeat // 2)
        baseline: list[float] = []
        ours: list[float] = []
        editions = 0
        with tempfile.TemporaryDirectory() as folder:
            time_ingest(data, Path(folder), -1)  # warm-up: imports, caches
            for round_number in range(repeat):
                baseline.append(time_feedparser(data))
                elapsed, editions = time_ingest(data, Path(folder), round_number)
                ours.append(elapsed)
        base, mine = statistics.median(baseline), statistics.median(ours)
        ratio = mine / base
        ratios.append(ratio)
        print(f"{name:<12} {len(data):>10,} {editions:>9} {base:>10.3f}s {mine:>9.3f}s {ratio:>6.2f}")
    verdict = "OK" if max(ratios) <= 0.5 else "ABOVE TARGET"
    print(f"target ratio <= 0.50: {verdict} (worst {max(ratios):.2f}; medians of alternating rounds)")


if __name__ == "__main__":
    main()
