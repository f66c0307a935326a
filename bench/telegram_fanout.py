"""Fan-out benchmark: one issue (every section) to 100 channels through the real adapter.

The fake Bot API enforces Telegram's documented flood limits (30 msg/s overall, 1 msg/s
and 20 msg/min per channel) and answers 429 to any excess. Prints the elapsed time divided
by the theoretical floor, and the number of 429s received. Target: ratio ≤ 1.15, 0 × 429.

    .venv/bin/python -m bench.telegram_fanout                # real time (~30 s)
    .venv/bin/python -m bench.telegram_fanout --time-scale 0.2   # every window 5× shorter

`--time-scale` shrinks the windows of both the fake and the limiter by the same factor:
the same schedule, compressed (reported in the output).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.telegram import telegram_adapter  # noqa: E402
from bot.contract.destination import platform_options  # noqa: E402
from bot.core.errors import RetryLater  # noqa: E402
from bot.core.messages import SectionPost  # noqa: E402
from bot.core.models import Issue  # noqa: E402
from bot.feeds.ingest import Ingestor  # noqa: E402
from bot.ports import Destination, Rendered  # noqa: E402
from bot.settings.config import Config  # noqa: E402
from bot.storage.store import Store  # noqa: E402
from tests.fakes.telegram import FakeTelegram  # noqa: E402
from tests.harness.corpus import CORPUS  # noqa: E402

TOKEN = "700000:BENCH-token_abcdefghijklmnopqrstuvwx"


def chain_floor(messages: int, per_chat: float = 1.0, group: tuple[int, float] = (20, 60.0)) -> float:
    """Earliest start of a channel's last message under 1/s and 20/min (nominal seconds)."""
    starts: list[float] = []
    for k in range(messages):
        start = 0.0
        if k:
            start = starts[-1] + per_chat
        if k >= group[0]:
            start = max(start, starts[k - group[0]] + group[1])
        starts.append(start)
    return starts[-1] if starts else 0.0


def latest_issue(lang: str) -> Issue:
    store = Store(":memory:")
    Ingestor(store, Config()).ingest_bytes(CORPUS.read_bytes(), "nlp")
    issue = store.latest(lang)
    if issue is None:
        raise SystemExit(f"no {lang} issue in the corpus")
    return issue


async def run(channels: int, scale: float, lang: str, images: str) -> dict[str, float]:
    issue = latest_issue(lang)
    async with FakeTelegram(TOKEN, time_scale=scale) as fake:
        dests = []
        for number in range(channels):
            chat_id = -1000000000000 - number
            fake.add_chat(chat_id, "channel", username=f"bench_{number}")
            dests.append(Destination(name=f"bench-{number}", platform="telegram", chat=str(chat_id),
                                     options=platform_options("telegram", {"images": images})))
        platform = telegram_adapter(TOKEN, base_url=fake.base_url, time_scale=scale)
        await platform.sender.start()
        parts: list[Rendered] = []
        for number, section in enumerate(issue.sections):
            post = SectionPost(issue=issue.ref, section=section, notify=number == 0)
            parts.extend(platform.renderer.render(post, dests[0]))
        retried = 0

        async def deliver(dest: Destination) -> None:
            nonlocal retried
            for index, part in enumerate(parts):
                while True:
                    try:
                        await platform.sender.send(dest, part, key=f"{dest.name}:{index}")
                        break
                    except RetryLater as exc:  # what the outbox would do, compressed
                        retried += 1
                        await asyncio.sleep((exc.retry_after or 1.0) * scale)

        started = time.perf_counter()
        await asyncio.gather(*(deliver(dest) for dest in dests))
        elapsed = time.perf_counter() - started
        await platform.close()
        weights = [len(p.payload.get("media", ())) or 1 for p in parts]
        per_channel = sum(weights)
        total = per_channel * channels
        floor_brief = max(total / 30.0, chain_floor(len(parts)))
        floor_exact = max(((total - 1) // 30) * 1.0, chain_floor(len(parts)))
        return {
            "channels": channels, "messages_per_channel": per_channel, "requests_per_channel": len(parts),
            "messages": total, "elapsed": elapsed, "scale": scale,
            "floor": floor_brief * scale, "floor_exact": floor_exact * scale,
            "ratio": elapsed / (floor_brief * scale), "ratio_exact": elapsed / (floor_exact * scale),
            "http_429": sum(1 for r in fake.requests if r.status == 429), "retried": retried,
            "rejected": len(fake.rejected()),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="shrink every flood window (fake and limiter alike); 1 = real time")
    parser.add_argument("--lang", default="fr")
    parser.add_argument("--images", default="none", choices=["none", "first", "all"])
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.channels, args.time_scale, args.lang, args.images))
    scale_note = "" if args.time_scale == 1 else f" (time scale {args.time_scale}: windows ×{args.time_scale})"
    print(f"telegram fan-out: {result['channels']} channels × {result['messages_per_channel']} messages "
          f"= {result['messages']} messages{scale_note}")
    print(f"  elapsed            {result['elapsed']:.2f} s")
    print(f"  floor              {result['floor']:.2f} s  = max(messages ÷ 30/s, per-channel 1/s & 20/min chain)")
    print(f"  ratio              {result['ratio']:.3f}  (target ≤ 1.15)")
    print(f"  exact floor        {result['floor_exact']:.2f} s  (sliding window: 30 may go at t=0) "
          f"→ ratio {result['ratio_exact']:.3f}")
    print(f"  429 received       {result['http_429']}  (target 0)   rejected {result['rejected']}")
    ok = result["ratio"] <= 1.15 and result["http_429"] == 0 and result["rejected"] == 0
    print("  PASS" if ok else "  FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
