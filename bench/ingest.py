"""Benchmark: full ingest (parse + split + store) against `feedparser.parse` with its defaults.

Both run on the same bytes in the same run, so the ratio survives a noisy machine.
The baseline runs in a fresh interpreter: digestbot plugs a faster SAX driver into
feedparser (bot/saxparser.py), which would otherwise speed up the baseline too.
Target: ratio ≤ 0.5 on the shared feed and on a feed ten times its size.

    .venv/bin/python bench/ingest.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import Config  # noqa: E402
from bot.ingest import Ingestor  # noqa: E402
from bot.store import Store  # noqa: E402

FEED = ROOT / "bot" / "data" / "dair-ai-feed-2020-03-17.xml"
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


_BASELINE = """
import sys, time, statistics, feedparser
data = open(sys.argv[1], "rb").read()
repeat = int(sys.argv[2])
times = []
for _ in range(repeat):
    start = time.perf_counter()
    feedparser.parse(data)
    times.append(time.perf_counter() - start)
print(min(times) if repeat < 3 else statistics.median(times))
"""


def feedparser_baseline(data: bytes, repeat: int) -> float:
    """`feedparser.parse` with its default settings, timed in a clean interpreter."""
    with tempfile.NamedTemporaryFile(suffix=".xml") as handle:
        handle.write(data)
        handle.flush()
        output = subprocess.run([sys.executable, "-c", _BASELINE, handle.name, str(repeat)],
                                capture_output=True, text=True, check=True).stdout
    return float(output.strip())


def ingest_timed(data: bytes, repeat: int) -> tuple[float, int]:
    """Parse + split + store into a fresh database each time; opening the database is setup, not ingest."""
    times = []
    editions = 0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            store = Store(Path(folder) / "bench.db")
            ingestor = Ingestor(store, Config())
            start = time.perf_counter()
            editions = len(ingestor.ingest_bytes(data, "bench"))
            times.append(time.perf_counter() - start)
            store.close()
    return (min(times) if repeat < 3 else statistics.median(times)), editions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    feeds = {"shared feed": FEED.read_bytes()}
    feeds["10x feed"] = tenfold(feeds["shared feed"])
    print(f"{'feed':<12} {'bytes':>10} {'editions':>9} {'feedparser':>11} {'digestbot':>10} {'ratio':>6}")
    ratios = []
    for name, data in feeds.items():
        repeat = args.repeat if len(data) < 2_000_000 else max(1, args.repeat // 2)
        ingest_timed(data, 1)  # warm-up: imports, caches
        baseline = feedparser_baseline(data, repeat)
        ours, editions = ingest_timed(data, repeat)
        ratio = ours / baseline
        ratios.append(ratio)
        print(f"{name:<12} {len(data):>10,} {editions:>9} {baseline:>10.3f}s {ours:>9.3f}s {ratio:>6.2f}")
    verdict = "OK" if max(ratios) <= 0.5 else "ABOVE TARGET"
    print(f"target ratio <= 0.50: {verdict} (worst {max(ratios):.2f})")


if __name__ == "__main__":
    main()
