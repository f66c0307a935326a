"""Fan-out benchmark: one issue to 200 console destinations through the outbox.

Prints the outbox throughput (posts/s, enqueue + render + deliver + bookkeeping),
a baseline measured in the same run (the same parts through bare
`platform.send` calls, no outbox) and their ratio, plus the peak RSS.

    .venv/bin/python bench/fanout.py [--destinations 200] [--lang fr]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.console import console_adapter  # noqa: E402
from bot.feeds.ingest import Ingestor  # noqa: E402
from bot.settings.config import Config, DestinationConfig  # noqa: E402
from bot.storage.store import Store  # noqa: E402
from scheduler.service import DeliveryService  # noqa: E402
from tests.harness.corpus import CORPUS  # noqa: E402


async def main(destinations: int, lang: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w", encoding="utf-8") as null:
        config = Config(destinations=[
            DestinationConfig(name=f"console-{n:03d}", platform="console", languages=[lang])
            for n in range(destinations)])
        store = Store(Path(tmp) / "bench.db")
        ingestor = Ingestor(store, config)
        ingestor.ingest_bytes(CORPUS.read_bytes(), "nlp")
        console = console_adapter(null)
        service = DeliveryService(config, store, {"console": console}, ingestor)

        started = time.perf_counter()
        service._prepare()
        service._plan()  # select, render and enqueue every part (what run_once does after polling)
        planned = time.perf_counter()
        await service.worker.drain()  # deliver through the console, recording each outcome
        elapsed = time.perf_counter() - started
        drain = time.perf_counter() - planned
        rows = service.outbox.rows()
        sent = [row for row in rows if row.state == "sent"]
        assert len(sent) == len(rows), "not everything was delivered"
        posts_per_s = len(sent) / elapsed

        started = time.perf_counter()
        dests = service.destinations()
        for row in rows:
            await console.sender.send(dests[row.destination], row.rendered, key=row.key)
        baseline = time.perf_counter() - started
        baseline_per_s = len(rows) / baseline

        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"fan-out: 1 issue ({lang}) to {destinations} destinations = {len(sent)} posts")
        print(f"outbox:   {posts_per_s:10,.0f} posts/s  ({elapsed * 1000:.0f} ms: enqueue + render + deliver + "
              "bookkeeping, SQLite WAL)")
        print(f"  of which enqueue {(elapsed - drain) * 1000:.0f} ms, delivery {drain * 1000:.0f} ms "
              f"({len(sent) / drain:,.0f} posts/s)")
        print(f"baseline: {baseline_per_s:10,.0f} posts/s  ({baseline * 1000:.0f} ms: bare platform.send of the "
              "same parts)")
        print(f"ratio:    {posts_per_s / baseline_per_s:10.2f}  (outbox / baseline)")
        print(f"peak RSS: {peak_mb:10.1f} MB")
        store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--destinations", type=int, default=200)
    parser.add_argument("--lang", default="fr")
    args = parser.parse_args()
    asyncio.run(main(args.destinations, args.lang))
