"""Drip pacing: `per_tick` sections per cron tick, and `plan` saying exactly what the ticks then do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.storage.store import Store
from scheduler.forecast import build_plan
from scheduler.status import build_status
from tests.harness.scheduling import Clock, Feeder, ScriptedPlatform, dest, make_config, make_issue, make_service

EIGHT = [(f"part_{n}", f"Part {n} 📙", "📙") for n in range(8)]  # a weekly newsletter's 7–8 sections


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2024, 3, 25, 6, 0, tzinfo=UTC))  # a Monday, before the 09:00 tick


@pytest.mark.parametrize(("per_tick", "ticks"), [(1, 8), (2, 4), (3, 3)])
async def test_per_tick_sections_per_tick_as_planned(store: Store, clock: Clock, per_tick: int, ticks: int) -> None:
    platform = ScriptedPlatform(clock)
    config = make_config(dest("drip", schedule="cron 0 9 * * *", per_tick=per_tick))
    service = make_service(config, store, clock, platform, Feeder(store))
    store.save_issue(make_issue("fr-4", sections=EIGHT))
    await service.run_once()
    [plan] = build_plan(service, days=10)
    [status] = build_status(service).destinations
    each = "one section" if per_tick == 1 else f"{per_tick} sections"
    assert plan.schedule_words.startswith(f"{each} at 09:00") and status.schedule_words == plan.schedule_words
    whens = [d.when for d in plan.deliveries]
    assert len(whens) == 8 and len(set(whens)) == ticks  # every section planned, per_tick per tick
    assert plan.then is not None and (f"{per_tick} sections per tick" if per_tick > 1 else "one section") in plan.then
    for when in sorted({w for w in whens if w is not None}):
        clock.set(when.astimezone(UTC) + timedelta(seconds=30))
        service.run_due()
        await service.worker.drain()
        sent = [c.at.astimezone(UTC) for c in platform.sends("drip")]
        assert sent.count(when.astimezone(UTC) + timedelta(seconds=30)) == sum(1 for w in whens if w == when)
    assert [h.split(" — ")[0] for h in platform.headers("drip")] == [h for _, h, _ in EIGHT]
    assert [c.notify for c in platform.sends("drip")] == [True] + [False] * 7


async def test_the_documented_drip_keeps_a_weekly_issue_within_the_week(store: Store, clock: Clock) -> None:
    """config.toml's drip example (twice a day) releases an 8-section issue within four days."""
    platform = ScriptedPlatform(clock)
    config = make_config(dest("drip", schedule="cron 0 9,18 * * *"))
    service = make_service(config, store, clock, platform, Feeder(store))
    store.save_issue(make_issue("fr-4", sections=EIGHT))
    await service.run_once()
    [plan] = build_plan(service, days=7)
    last = max(d.when for d in plan.deliveries if d.when is not None)
    assert len(plan.deliveries) == 8 and last - clock.now < timedelta(days=4)
