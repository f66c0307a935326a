"""Fan-out benchmark: one issue to N Discord channels through the real discord.py client and our Pacer.

The fake Discord enforces 5 messages / 5 s per channel and 50 requests / s globally, answering
429 as Discord does. The floor is the least time any client could take under those limits:
max((⌈total/50⌉ − 1) × 1 s, (⌈per channel/5⌉ − 1) × 5 s), the time the last request may
start. Target: elapsed ÷ floor ≤ 1.15 with zero 429s.

`--scale` shrinks both windows (fake and pacer alike) to run faster: 0.25 means
5 msgs / 1.25 s and 50 req / 0.25 s; the ratio is then reported against the scaled floor.

Run: .venv/bin/python bench/discord_fanout.py [--channels 100] [--scale 1.0] [--format embeds]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.discord import Pacer, discord_adapter  # noqa: E402
from bot.contract.destination import platform_options  # noqa: E402
from bot.core.messages import IndexEntry, IndexPost, SectionPost  # noqa: E402
from bot.core.models import Issue, SectionRef  # noqa: E402
from bot.feeds.ingest import Ingestor  # noqa: E402
from bot.ports import Adapter, Destination  # noqa: E402
from bot.settings.config import Config  # noqa: E402
from bot.storage.store import Store  # noqa: E402
from tests.fakes.discord import TOKEN, FakeDiscord  # noqa: E402
from tests.harness.corpus import CORPUS  # noqa: E402

CHANNEL_LIMIT, CHANNEL_WINDOW, GLOBAL_LIMIT, GLOBAL_WINDOW = 5, 5.0, 50, 1.0


async def deliver(platform: Adapter, issue: Issue, dest: Destination) -> int:
    """Every section in order, then the index linking to them: what the scheduler sends."""
    count = 0
    entries = []
    for number, section in enumerate(issue.sections):
        post = SectionPost(issue=issue.ref, section=section, notify=number == 0)
        first_url = None
        for index, part in enumerate(platform.renderer.render(post, dest)):
            sent = await platform.sender.send(dest, part, key=f"{dest.chat}:{section.key}:{index}")
            first_url = first_url or sent.url
            count += 1
        entries.append(IndexEntry(SectionRef(section.key, section.heading, section.emoji, section.position,
                                             len(section.items)), first_url))
    for part in platform.renderer.render(IndexPost(issue=issue.ref, entries=tuple(entries), notify=False), dest):
        await platform.sender.send(dest, part, key=f"{dest.chat}:index")
        count += 1
    return count


async def main(channels: int, scale: float, fmt: str, lang: str) -> int:
    logging.basicConfig(level=logging.ERROR)
    store = Store(":memory:")
    Ingestor(store, Config()).ingest_bytes(CORPUS.read_bytes(), "nlp")
    issue = store.latest(lang)
    assert issue is not None, f"no {lang} issue in the corpus"
    fake = await FakeDiscord(channel_limit=CHANNEL_LIMIT, channel_window=CHANNEL_WINDOW * scale,
                             global_limit=GLOBAL_LIMIT, global_window=GLOBAL_WINDOW * scale).start()
    defaults = Pacer().settings
    pacer = Pacer(global_limit=defaults.global_limit, global_window=defaults.global_window * scale,
                  channel_limit=defaults.channel_limit, channel_window=defaults.channel_window * scale)
    platform = discord_adapter(TOKEN, api_base_url=fake.api_base, gateway_url=fake.gateway_url, pacer=pacer,
                               guild_ready_timeout=0.01)
    # The channels exist before the bot connects (as configured destinations do), so their guild
    # comes from the gateway cache and no look-up request is needed.
    dests = [Destination(name=f"d{n}", platform="discord", chat=fake.add_channel(f"c{n}"),
                         options=platform_options("discord", {"format": fmt})) for n in range(channels)]
    await platform.sender.start()
    try:
        requests_before = len(fake.requests)
        started = time.perf_counter()
        counts = await asyncio.gather(*(deliver(platform, issue, d) for d in dests))
        elapsed = time.perf_counter() - started
    finally:
        await platform.close()
        await fake.close()
    total = sum(counts)
    per_channel = max(counts)
    requests = len(fake.requests) - requests_before
    floor = max((math.ceil(requests / GLOBAL_LIMIT) - 1) * GLOBAL_WINDOW * scale,
                (math.ceil(per_channel / CHANNEL_LIMIT) - 1) * CHANNEL_WINDOW * scale)
    ratio = elapsed / floor if floor else float("inf")
    print(f"issue: {issue.ref.label}, {len(issue.sections)} sections → {per_channel} messages per channel "
          f"({fmt})")
    print(f"channels: {channels}, messages: {total}, requests: {requests} ")
    print(f"limits: {CHANNEL_LIMIT} msgs / {CHANNEL_WINDOW * scale:g} s per channel, "
          f"{GLOBAL_LIMIT} req / {GLOBAL_WINDOW * scale:g} s global (time scale ×{scale:g}"
          f"{'' if scale == 1 else ', windows shortened to keep the run short'})")
    print(f"pacer: {pacer.settings.global_limit} req / {pacer.settings.global_window:g} s global, "
          f"{pacer.settings.channel_limit} / {pacer.settings.channel_window:g} s per channel")
    print(f"elapsed: {elapsed:.2f} s, floor: {floor:.2f} s, ratio: {ratio:.3f} (target ≤ 1.15)")
    print(f"429s: {len(fake.rate_limited)}, rejected (400): {len(fake.rejected)}, forbidden: "
          f"{len(fake.forbidden_hits)}")
    return 0 if ratio <= 1.15 and not fake.rate_limited and not fake.rejected else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--scale", type=float, default=1.0, help="time-scale factor for the rate-limit windows")
    parser.add_argument("--format", choices=["embeds", "text"], default="embeds")
    parser.add_argument("--lang", default="fr")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.channels, args.scale, args.format, args.lang)))
