"""Subscribers benchmark: what 10,000 runtime subscriptions cost a `/subscribe`, and a configured channel.

1. The cost of one `/subscribe` from a new private chat — the real QueryEngine's answer plus the running
   service taking the new subscription in (`refresh_subscriptions`, then planning it), i.e. what the event
   loop pays under `digestbot run` — with 10 and with 10,000 subscriptions stored (median of `--repeat`).
   Target: cost at 10,000 ÷ cost at 10 ≤ 1.5.
2. A configured channel's delivery rate while 10,000 subscribers are being delivered to: the real service,
   planner, outbox and delivery worker, on the console platform with a simulated network (every send takes
   `--delay` s ± 50 %, default 100 ms: a Bot API round trip). Baseline: the same channel with no
   subscriber, in the same run. Target: the channel keeps ≥ 50 % of its rate (each destination sends one
   post at a time, so its rate alone is ≈ 1/delay). With a tiny delay the event loop itself becomes the
   bottleneck (every lane's outcome is a database commit) and the channel's share drops with it.

    .venv/bin/python bench/subscribers.py [--repeat 50] [--delay 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.console import console_adapter  # noqa: E402
from bot.chat.commands import Query, parse_command  # noqa: E402
from bot.chat.query import QueryEngine  # noqa: E402
from bot.contract.destination import Change, Destination  # noqa: E402
from bot.feeds.ingest import Ingestor  # noqa: E402
from bot.settings.config import Config, DestinationConfig, SubscriptionsConfig  # noqa: E402
from bot.storage.store import Store  # noqa: E402
from scheduler.service import DeliveryService  # noqa: E402
from tests.harness.corpus import CORPUS  # noqa: E402

CHANNEL = "fr-channel"
LIMITS = SubscriptionsConfig(max_total=1_000_000, max_per_user=10_000)


def _subscriber(n: int) -> Destination:
    """What `/subscribe outils` in the private chat of user `n` stores."""
    chat = str(5_000_000 + n)
    return Destination(name=f"console:{chat}", platform="console", chat=chat, languages=("fr",),
                       sections=("tools_datasets",), change=Change(by=chat, chat=chat))


def _world(folder: Path, subscribers: int, delay: float = 0.0,
           backfill: int = 1) -> tuple[Store, DeliveryService]:
    config = Config(destinations=[DestinationConfig(name=CHANNEL, platform="console",
                                                    languages=["fr"], backfill=backfill)])
    store = Store(folder / f"bench-{subscribers}-{delay}.db")
    ingestor = Ingestor(store, config)
    ingestor.ingest_bytes(CORPUS.read_bytes(), "nlp")
    with store.transaction():
        for n in range(subscribers):
            store.save_subscription(_subscriber(n))
    service = DeliveryService(config, store, {"console": console_adapter(io.StringIO(), delay=delay)}, ingestor)
    return store, service


# ---------------------------------------------------------------------- 1. the cost of one /subscribe
def subscribe_cost(folder: Path, subscriptions: int, repeat: int) -> tuple[float, float]:
    """Median ms of (the engine's answer, the service taking it in) for a new chat's `/subscribe outils`."""
    store, service = _world(folder, subscriptions)
    service._prepare()
    service.destinations()
    engine = QueryEngine(store, subscriptions=LIMITS)
    answers, pickups = [], []
    for n in range(repeat):
        chat = str(9_000_000 + n)
        query = Query(parse_command("subscribe", "outils"), lang="fr", platform="console", chat=chat, user=chat)
        start = time.perf_counter()
        engine.answer(query)
        answered = time.perf_counter()
        changed = service.refresh_subscriptions()
        service._plan(changed)
        service.run_due(names=changed)
        done = time.perf_counter()
        answers.append(answered - start)
        pickups.append(done - answered)
    store.close()
    return statistics.median(answers) * 1000, statistics.median(pickups) * 1000


# ---------------------------------------------------------------------- 2. the channel beside 10,000 subscribers
async def _deliver_channel(service: DeliveryService) -> tuple[float, int, int]:
    """Deliver until the channel has every post; (seconds, channel posts, subscriber posts sent meanwhile)."""
    service._prepare()
    with service.outbox.atomic():
        service._plan()
    worker = service.worker
    start = time.perf_counter()
    while any(row.state != "sent" for row in service.outbox.rows(CHANNEL)):
        worker.pump(service._now())
        await worker.wait(0.05)
    elapsed = time.perf_counter() - start
    await worker.stop(0)
    counts = service.outbox.counts()
    others = sum(states.get("sent", 0) for name, states in counts.items() if name != CHANNEL)
    return elapsed, counts[CHANNEL]["sent"], others


def channel_rate(folder: Path, subscribers: int, delay: float) -> tuple[float, int, float]:
    store, service = _world(folder, subscribers, delay, backfill=3)
    elapsed, posts, others = asyncio.run(_deliver_channel(service))
    store.close()
    return posts / elapsed, posts, others / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--subscribers", type=int, default=10_000)
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        costs = {size: subscribe_cost(folder, size, args.repeat) for size in (10, args.subscribers)}
        for size, (answer, pickup) in costs.items():
            print(f"/subscribe with {size:>6,} subscriptions: answer {answer:6.2f} ms + service pickup "
                  f"{pickup:6.2f} ms = {answer + pickup:6.2f} ms (median of {args.repeat})")
        ratio = sum(costs[args.subscribers]) / sum(costs[10])
        ok &= ratio <= 1.5
        print(f"/subscribe cost at {args.subscribers:,} ÷ at 10 = {ratio:.2f} (target ≤ 1.5: "
              f"{'OK' if ratio <= 1.5 else 'MISSED'})")

        alone, posts, _ = channel_rate(folder, 0, args.delay)
        crowded, _, others = channel_rate(folder, args.subscribers, args.delay)
        share = crowded / alone
        ok &= share >= 0.5
        print(f"channel ({posts} posts, every send {args.delay * 1000:.0f} ms ± 50 %): {alone:5.1f} posts/s alone, "
              f"{crowded:5.1f} posts/s beside {args.subscribers:,} subscribers (who got {others:5.1f} posts/s "
              f"meanwhile) = {share:.2f} of its rate (target ≥ 0.5: {'OK' if share >= 0.5 else 'MISSED'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
