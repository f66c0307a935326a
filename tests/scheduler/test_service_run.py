"""`DeliveryService.run`: the real AsyncIOScheduler, run-time subscriptions, a clean stop."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.ports import Destination
from bot.storage.store import Store
from tests.harness.poll import until
from tests.harness.scheduling import Feeder, ScriptedPlatform, dest, make_config, make_issue, make_service


class RealClock:
    def __call__(self) -> datetime:
        return datetime.now(UTC)


async def test_run_polls_delivers_picks_up_subscriptions_and_stops_cleanly() -> None:
    store = Store(":memory:")
    clock = RealClock()
    platform = ScriptedPlatform(clock)  # type: ignore[arg-type]
    feeder = Feeder(store)
    config = make_config(dest("configured"), dest("daily", schedule="cron 0 9 * * *", timezone="Europe/Paris"))
    service = make_service(config, store, clock, platform, feeder)  # type: ignore[arg-type]
    feeder.publish(make_issue("fr-4"))
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    await until(lambda: len(platform.sends("configured")) == 4, "four sends to the configured destination", timeout=5,
                every=0.02)

    jobs = {job.id: job for job in service.scheduler.get_jobs()}
    assert set(jobs) == {"poll:nlp", "tick:daily"}
    fire = jobs["tick:daily"].next_run_time.astimezone(ZoneInfo("Europe/Paris"))
    assert (fire.hour, fire.minute) == (9, 0)
    assert jobs["tick:daily"].coalesce is True

    # /subscribe stores a destination: it is scheduled without a restart
    store.save_subscription(Destination(name="console:42", platform="console", chat="42", languages=("fr",),
                                        sections=("education",)))
    await until(lambda: len(platform.sends("console:42")) == 1, "the run-time subscriber's send", timeout=5,
                every=0.02)
    assert platform.headers("console:42") == ["Éducation 🎓 — NLP Newsletter #4 (FR)"]

    stop.set()
    await asyncio.wait_for(task, 5)
    assert not service.scheduler.running
