"""Split benchmark: the wall-clock checks that used to sit in tests, as ratios measured in one run.

1. Splitting every entry of the shared corpus (514 KB) ÷ `feedparser.parse` of the same bytes with
   its defaults (the baseline). Target: ≤ 0.5 (splitting is a fraction of merely parsing the feed).
2. A 1 MB issue of 200 sections × 20 items: split time per MB ÷ the corpus' split time per MB.
   Target: ≤ 3 (the splitter stays linear; a quadratic step would show as a ratio in the tens).

    .venv/bin/python bench/split.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import feedparser

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.models import RawEntry  # noqa: E402
from bot.feeds.fetch import parse_feed  # noqa: E402
from bot.splitting.split import assign_numbers, split_entry  # noqa: E402
from tests.harness.corpus import CORPUS  # noqa: E402


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def huge_entry() -> RawEntry:
    items = "".join(f"<p><strong><em>Item {n}</em></strong></p><p>{'word ' * 50}</p>" for n in range(20))
    html = "".join(f"<h1>Section {n} 📙</h1>{items}" for n in range(200))
    return RawEntry(entry_id="https://dair.ai/NLP_Newsletter_9", link="https://dair.ai/NLP_Newsletter_9/",
                    title="NLP Newsletter #9: Test issue", html=html, base_url="", feed="bench")


def main(repeat: int) -> bool:
    data = CORPUS.read_bytes()
    entries = parse_feed("nlp-newsletter", data).entries
    for entry in entries:  # warm caches (alias forms, regexes)
        split_entry(entry)
    corpus_bytes = sum(len(e.html.encode("utf-8")) for e in entries)
    split_time = best(lambda: assign_numbers([split_entry(e) for e in entries]), repeat)
    parse_time = best(lambda: feedparser.parse(data), repeat)
    ratio = split_time / parse_time
    print(f"split corpus: {split_time * 1000:7.1f} ms; feedparser.parse {parse_time * 1000:7.1f} ms; "
          f"ratio {ratio:.2f} (target ≤ 0.5: {'OK' if ratio <= 0.5 else 'MISSED'})")

    huge = huge_entry()
    huge_bytes = len(huge.html.encode("utf-8"))
    issue = split_entry(huge)
    assert len(issue.sections) == 200 and all(len(s.items) == 20 for s in issue.sections)
    huge_time = best(lambda: split_entry(huge), max(1, repeat // 2))
    per_mb = (huge_time / huge_bytes) / (split_time / corpus_bytes)
    print(f"split 1 MB issue: {huge_time * 1000:7.1f} ms for {huge_bytes / 1e6:.1f} MB; time per MB ÷ the corpus' "
          f"{per_mb:.2f} (target ≤ 3: {'OK' if per_mb <= 3 else 'MISSED'})")
    return ratio <= 0.5 and per_mb <= 3


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    sys.exit(0 if main(parser.parse_args().repeat) else 1)
