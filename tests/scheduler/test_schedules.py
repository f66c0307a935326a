"""One schedule code for /subscribe, the jobs, `plan` and `status`; a bad stored schedule pauses one destination.

Plans are checked against what the scheduler then really does when the clock reaches
each planned time, across the Europe/Paris DST changes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.chat.commands import Query, parse_command
from bot.chat.query import QueryEngine
from bot.contract.destination import ConsoleOptions
from bot.core.messages import ErrorAnswer, Subscribed
from bot.ports import Destination
from bot.splitting.sections import SectionAliases
from bot.storage.store import Store
from scheduler.forecast import DestinationPlan, build_plan
from scheduler.service import DeliveryService
from scheduler.status import build_status
from tests.harness.destinations import store_unrunnable
from tests.harness.scheduling import (
    SECTIONS,
    Clock,
    Feeder,
    ScriptedPlatform,
    dest,
    make_config,
    make_issue,
    make_service,
)

TITLES = [heading.replace(emoji, "").strip() for _, heading, emoji in SECTIONS]


@pytest.fixture
def store() -> Store:
    return Store(":memory:")


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 27, 12, 0, tzinfo=UTC))  # Friday before the spring DST change in Paris


@pytest.fixture
def platform(clock: Clock) -> ScriptedPlatform:
    return ScriptedPlatform(clock)


@pytest.fixture
def feeder(store: Store) -> Feeder:
    return Feeder(store)


def _bad_subscription(store: Store) -> None:
    """A row stored before schedules were checked as the scheduler checks them."""
    store_unrunnable(store, "telegram:-100", "-100", "cron 99 99 * * *")


def test_subscribe_refuses_what_the_scheduler_cannot_run(store: Store) -> None:
    engine = QueryEngine(store, SectionAliases(), "en")
    bad = engine.answer(Query(parse_command("/subscribe * | cron 99 99 * * *"), lang="en", platform="telegram",
                              chat="7"))
    assert isinstance(bad, ErrorAnswer)
    assert 'minute: "99"' in bad.message and "0-59" in bad.message
    assert store.subscriptions() == []
    daily = engine.answer(Query(parse_command("/subscribe * | cron @daily"), lang="en", platform="telegram", chat="7"))
    assert isinstance(daily, Subscribed), daily
    assert [d.schedule.text for d in store.subscriptions()] == ["cron 0 0 * * *"]


async def test_invalid_stored_schedule_pauses_that_destination_only(
        store: Store, clock: Clock, platform: ScriptedPlatform, feeder: Feeder) -> None:
    _bad_subscription(store)
    service = make_service(make_config(dest("fine")), store, clock, platform, feeder)
    feeder.publish(make_issue("fr-4"))
    await service.run_once()  # used to raise ValueError at every start
    assert len(platform.sends("fine")) == 4
    assert platform.sends("telegram:-100") == []
    status = {d["name"]: d for d in service.status()["destinations"]}
    reason = status["telegram:-100"]["paused"]
    assert reason.startswith("invalid schedule:") and 'minute: "99"' in reason
    assert status["fine"]["paused"] is None
    assert service.outbox.dest_state("telegram:-100").paused_reason == reason  # type: ignore[union-attr]
    [plan] = [p for p in build_plan(service) if p.name == "telegram:-100"]
    assert plan.paused == reason and plan.deliveries == ()


async def test_fixing_the_schedule_resumes_the_destination(
        store: Store, clock: Clock, platform: ScriptedPlatform, feeder: Feeder) -> None:
    _bad_subscription(store)
    service = make_service(make_config(), store, clock, platform, feeder)
    feeder.publish(make_issue("fr-4"))
    await service.run_once()
    assert service.outbox.dest_state("telegram:-100").paused_reason  # type: ignore[union-attr]
    store.save_subscription(Destination(name="telegram:-100", platform="console", chat="-100", languages=("fr",),
                                            options=ConsoleOptions(index=False)))
    assert service.refresh_subscriptions()
    assert service.outbox.dest_state("telegram:-100").paused_reason is None  # type: ignore[union-attr]
    service._plan()
    await service.worker.drain()
    assert len(platform.sends("telegram:-100")) == 4


async def test_run_starts_with_an_invalid_stored_schedule(
        store: Store, clock: Clock, platform: ScriptedPlatform, feeder: Feeder) -> None:
    """`run` builds its APScheduler jobs from every destination: the bad one is left out, not fatal."""
    import asyncio

    _bad_subscription(store)
    service = make_service(make_config(dest("drip", schedule="cron 0 9 * * *")), store, clock, platform, feeder)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    while service.scheduler.get_job("tick:drip") is None and not task.done():
        await asyncio.sleep(0.01)
    stop.set()
    await task
    assert service.scheduler.get_job("tick:telegram:-100") is None


def _service(store: Store, clock: Clock, platform: ScriptedPlatform, feeder: Feeder) -> DeliveryService:
    config = make_config(dest("now"), dest("drip", schedule="cron 0 9 * * *", timezone="Europe/Paris"),
                         dest("weekly", schedule="digest 0 8 * * MON", timezone="Europe/Paris"))
    return make_service(config, store, clock, platform, feeder)


def _by_name(plans: list[DestinationPlan]) -> dict[str, DestinationPlan]:
    return {p.name: p for p in plans}


@pytest.mark.parametrize(("start", "offsets"), [
    (datetime(2026, 3, 27, 12, 0, tzinfo=UTC), ["+01:00", "+02:00", "+02:00", "+02:00"]),  # spring forward 29 March
    (datetime(2026, 10, 23, 12, 0, tzinfo=UTC), ["+02:00", "+01:00", "+01:00", "+01:00"]),  # fall back 25 October
])
async def test_plan_across_a_dst_change_is_what_the_scheduler_then_does(
        store: Store, clock: Clock, platform: ScriptedPlatform, feeder: Feeder, start: datetime,
        offsets: list[str]) -> None:
    clock.set(start)
    service = _service(store, clock, platform, feeder)
    store.save_issue(make_issue("fr-4", number=4))

    before = _by_name(build_plan(service, days=7))  # stored, not yet admitted: the admission rule is simulated
    assert [d.what for d in before["now"].deliveries] == [f"{t} #4 (FR)" for t in TITLES]
    assert all(not d.queued for d in before["now"].deliveries)

    await service.run_once()  # admits everywhere, delivers on_publish, starts the tick clocks
    plans = _by_name(build_plan(service, days=7))
    assert plans["now"].deliveries == () and plans["now"].then and "as soon as it is published" in plans["now"].then

    drip = plans["drip"]
    assert [d.what for d in drip.deliveries] == [f"{t} #4 (FR)" for t in TITLES]
    assert [d.when.isoformat()[-6:] for d in drip.deliveries if d.when] == offsets
    assert {d.when.strftime("%H:%M") for d in drip.deliveries if d.when} == {"09:00"}
    assert len(drip.idle_ticks) == 3  # seven days, four sections
    assert drip.schedule_words == "one section at 09:00 every day (Europe/Paris)"

    weekly = plans["weekly"]
    [digest] = weekly.deliveries
    assert digest.kind == "digest" and digest.when is not None
    assert digest.when.strftime("%a %H:%M") == "Mon 08:00"

    # Now let the clock reach every planned time: the scheduler does exactly that.
    for delivery in sorted([*drip.deliveries, digest], key=lambda d: d.when or start):
        assert delivery.when is not None
        clock.set(delivery.when.astimezone(UTC) + timedelta(seconds=30))
        assert service.run_due() >= 1
        await service.worker.drain()
    assert [h.split(" — ")[0] for h in platform.headers("drip")] == [heading for _, heading, _ in SECTIONS]
    assert len(platform.sends("weekly")) == 1
    assert all(c.at.astimezone(UTC) == d.when.astimezone(UTC) + timedelta(seconds=30)  # type: ignore[union-attr]
               for c, d in zip(platform.sends("drip"), drip.deliveries, strict=True))


async def test_status_shows_the_queue_and_next_post(
        store: Store, clock: Clock, platform: ScriptedPlatform, feeder: Feeder) -> None:
    service = _service(store, clock, platform, feeder)
    feeder.publish(make_issue("fr-7", number=7))
    await service.run_once()
    status = {d.name: d for d in build_status(service).destinations}
    assert status["drip"].next == "Publications #7 (FR)"
    assert status["drip"].queued == 4
    assert status["drip"].next_run is not None and status["drip"].next_run.isoformat() == "2026-03-28T09:00:00+01:00"
    assert status["now"].next is None and status["now"].outbox["sent"] == 4 and status["now"].next_run is None
    assert status["weekly"].next == "digest of NLP Newsletter #7 (FR)"
    clock.set(datetime(2026, 3, 28, 8, 0, 30, tzinfo=UTC))
    service.run_due()
    await service.worker.drain()
    status = {d.name: d for d in build_status(service).destinations}
    assert status["drip"].next == "Outils et jeux de données #7 (FR)" and status["drip"].queued == 3
