"""Scale benchmark: a large archive and a large fan-out.

1. Queries on archives of 1,000 and 10,000 issues: the real QueryEngine answers `/section` and
   `/search` (several arguments each, a section name that matches nothing included); prints p50/p99
   per command, against the same queries on the shared corpus (~20 editions) measured in the same
   run. Targets: p99 ≤ 20 ms at 1,000 issues, ≤ 30 ms at 10,000.
2. Enqueue to 1,000 and 10,000 console destinations, each in its own subprocess (so peak RSS is
   that size's own): the newest French issue admitted and enqueued for every destination through
   the real planner and outbox. Prints peak RSS and enqueue time per post. Targets: RSS ≤ 150 MB
   and ≤ 300 MB; time per post at 10,000 ≤ 1.2 × the time per post at 1,000 (the baseline).

    .venv/bin/python bench/scale.py [--issues 1000 10000] [--repeat 200] [--queries-only]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.console import console_adapter  # noqa: E402
from bot.chat.commands import Query, parse_command  # noqa: E402
from bot.chat.query import QueryEngine  # noqa: E402
from bot.core.models import Issue  # noqa: E402
from bot.feeds.ingest import Ingestor  # noqa: E402
from bot.settings.config import Config, DestinationConfig  # noqa: E402
from bot.storage.store import Store  # noqa: E402
from scheduler.service import DeliveryService  # noqa: E402
from tests.harness.corpus import CORPUS, corpus_issues  # noqa: E402

QUERIES = {
    "section": [("outils", "fr"), ("publications", "en"), ("education", "es"), ("tools 3", "en"),
                ("mentions 500", "fr"), ("nope-no-such-section", "en")],
    "search": [("bert", "en"), ("deepspeed", "en"), ("transformer attention", "fr"), ("语言", "zh"),
               ("no-such-word-anywhere", "en"), ("pytorch tutorial", "es")],
}


def archive(issues: int) -> list[Issue]:
    """`issues` editions made of the corpus' own, each under a new id, number and date."""
    base = list(corpus_issues())
    made = []
    for n in range(issues):
        issue = base[n % len(base)]
        number = n // len(base) * 10 + (issue.number or 0)
        made.append(replace(issue, entry_id=f"{issue.entry_id}#copy{n}", number=number, link=f"{issue.link}?copy={n}",
                            published=issue.published + timedelta(days=n) if issue.published else None))
    return made


def timings(engine: QueryEngine, command: str, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (this thread's) seconds per answer: on a busy machine the CPU time shows
    the work a query does, the wall clock what a reader waits."""
    wall, cpu = [], []
    for _ in range(repeat):
        for args, lang in QUERIES[command]:
            query = Query(parse_command(command, args), lang=lang)
            start, start_cpu = time.perf_counter(), time.thread_time()
            engine.answer(query)
            wall.append(time.perf_counter() - start)
            cpu.append(time.thread_time() - start_cpu)
    return wall, cpu


def p(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1] * 1000


#: p99 target (ms) of a lookup, by archive size: the largest size not above the archive's applies.
TARGETS = {1_000: 20.0, 10_000: 30.0}


def target(issues: int) -> float:
    return TARGETS[max((size for size in TARGETS if size <= issues), default=min(TARGETS))]


def queries(issues: int, repeat: int) -> bool:
    ok = True
    limit = target(issues)
    with tempfile.TemporaryDirectory() as tmp:
        small = Store(Path(tmp) / "corpus.db")
        Ingestor(small, Config()).ingest_bytes(CORPUS.read_bytes(), "nlp")
        large = Store(Path(tmp) / "archive.db")
        large.save_issues(archive(issues))
        count = len(large.list_issues(limit=10_000))
        print(f"queries: archive of {count} issues vs the corpus ({len(small.list_issues(limit=100))} editions)")
        for command in QUERIES:
            base, _ = timings(QueryEngine(small), command, max(20, repeat // 4))
            samples, cpu = timings(QueryEngine(large), command, repeat)
            p99 = p(samples, 99)
            ok &= p99 <= limit
            print(f"  /{command:<8} p50 {p(samples, 50):6.2f} ms  p99 {p99:6.2f} ms  "
                  f"(CPU p50 {p(cpu, 50):5.2f} p99 {p(cpu, 99):5.2f} ms; "
                  f"corpus p99 {p(base, 99):5.2f} ms, ratio {p99 / p(base, 99):4.2f})  "
                  f"target p99 ≤ {limit:.0f} ms: {'OK' if p99 <= limit else 'MISSED'}")
        small.close()
        large.close()
    return ok


def enqueue(destinations: int) -> dict[str, float]:
    """One size, measured in this process (run as a subprocess by `main`)."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Config(destinations=[DestinationConfig(name=f"console-{n:05d}", platform="console", languages=["fr"])
                                      for n in range(destinations)])
        store = Store(Path(tmp) / "bench.db")
        ingestor = Ingestor(store, config)
        ingestor.ingest_bytes(CORPUS.read_bytes(), "nlp")
        service = DeliveryService(config, store, {"console": console_adapter(io.StringIO())}, ingestor)
        start = time.perf_counter()
        service._prepare()
        rows = service._plan()
        elapsed = time.perf_counter() - start
        store.close()
    return {"destinations": destinations, "rows": rows, "seconds": elapsed, "per_post_us": elapsed / rows * 1e6,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def fanout() -> bool:
    results: dict[int, dict[str, float]] = {}
    for size in (1_000, 10_000):
        out = subprocess.run([sys.executable, __file__, "--enqueue", str(size)], capture_output=True, text=True,
                             check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        results[size] = json.loads(out.stdout.strip().splitlines()[-1])
    ok: bool = True
    for size, limit in ((1_000, 150), (10_000, 300)):
        r = results[size]
        ok = ok and r["peak_rss_mb"] <= limit
        print(f"enqueue: {size:>6,} destinations, {r['rows']:>7,} posts in {r['seconds']:6.2f} s = "
              f"{r['per_post_us']:6.1f} µs/post, peak RSS {r['peak_rss_mb']:6.1f} MB (target ≤ {limit} MB: "
              f"{'OK' if r['peak_rss_mb'] <= limit else 'MISSED'})")
    ratio = results[10_000]["per_post_us"] / results[1_000]["per_post_us"]
    ok = ok and ratio <= 1.2
    verdict = "OK" if ratio <= 1.2 else "MISSED"
    print(f"enqueue: time per post at 10,000 ÷ at 1,000 = {ratio:.2f} (target ≤ 1.2: {verdict})")
    return ok


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--queries-only", action="store_true", help="skip the fan-out part")
    parser.add_argument("--enqueue", type=int, help=argparse.SUPPRESS)  # one fan-out size, in a subprocess
    args = parser.parse_args()
    if args.enqueue:
        print(json.dumps(enqueue(args.enqueue)))
    else:
        good = True
        for size in args.issues:
            good &= queries(size, args.repeat)
        if not args.queries_only:
            good &= fanout()
        sys.exit(0 if good else 1)
