"""Edition-matching benchmark: does numbering unnumbered entries stay near-linear in the feed's size?

Entries that state no issue number are compared with numbered ones (`bot.splitting.edition.assign_numbers`).
A feed of 6,000 entries with distinct titles (one in five numbered) is timed against one of 600
built the same way; time per entry at 6,000 ÷ time per entry at 600 is the ratio. Target: ≤ 3
(linear with the index of rare traits; comparing every pair made it ≈ 10, and minutes at 12,000).

    .venv/bin/python bench/edition.py
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.models import Issue  # noqa: E402
from bot.splitting.edition import assign_numbers  # noqa: E402

_VOCABULARY = [f"word{k}" for k in range(5000)]


def feed(size: int, seed: int) -> list[Issue]:
    """`size` blog-like entries: distinct subtitles of six words, every fifth one numbered."""
    chooser = random.Random(seed)
    return [
        Issue(entry_id=f"https://example.org/posts/{i}", link=f"https://example.org/p/{i}",
              title=f"Notes: the {' '.join(chooser.sample(_VOCABULARY, 6))} and more", published=None,
              language="en", number=i if i % 5 == 0 else None, sections=())
        for i in range(1, size + 1)
    ]


def per_entry(size: int, repeat: int = 3) -> float:
    issues = feed(size, seed=size)
    best = min(_timed(issues) for _ in range(repeat))
    return best / size


def _timed(issues: list[Issue]) -> float:
    start = time.perf_counter()
    assign_numbers(issues)
    return time.perf_counter() - start


def main() -> None:
    small, large = per_entry(600), per_entry(6000)
    ratio = large / small
    print(f"assign_numbers: {small * 1e6:.0f} µs/entry at 600, {large * 1e6:.0f} µs/entry at 6,000 "
          f"→ ratio {ratio:.2f} (target ≤ 3)")
    sys.exit(0 if ratio <= 3 else 1)


if __name__ == "__main__":
    main()
