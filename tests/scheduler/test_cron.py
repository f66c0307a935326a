"""Schedules end to end through the outbox, with a hand-moved clock (no waiting for cron ticks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.contract.schedule import CronDrip, parse_schedule
from bot.core.errors import ConfigError
from bot.ports import Sent
from bot.storage.store import Store
from scheduler.cron import ScheduleTrigger, due_tick
from scheduler.operations import DryRun, Operations, SendReport, SendRequest
from scheduler.outbox import Outcome
from tests.harness.scheduling import (
    Clock,
    Feeder,
    ScriptedPlatform,
    dest,
    make_config,
    make_issue,
    make_service,
)

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2024, 3, 25, 6, 0, tzinfo=UTC))  # a Monday


@pytest.fixture
def platform(clock: Clock) -> ScriptedPlatform:
    return ScriptedPlatform(clock)


@pytest.fixture
def feeder(store: Store) -> Feeder:
    return Feeder(store)


async def test_on_publish_sends_every_selected_section_in_order_with_one_notification(
        store: Store, clock: Clock, platform: ScriptedPlatform, feeder: Feeder) -> None:
    config = make_config(dest("all", index=True), dest("tools", sections=["outils", "education"]),
                         dest("english", languages=["en"]), dest("by-english-name", sections=["Tools"]))
    service = make_service(config, store, clock, platform, feeder)
    feeder.publish(make_issue("fr-4"))
    await service.run_once()

    assert platform.headers("all") == [
        "Publications 📙 — NLP Newsletter #4 (FR)", "Outils et jeux de données ⚙️ — NLP Newsletter #4 (FR)",
        "Éducation 🎓 — NLP Newsletter #4 (FR)", "Mentions ⭐️ — NLP Newsletter #4 (FR)",
        "🗂 Index — NLP Newsletter #4 (FR)"]
    assert [c.notify for c in platform.sends("all")] == [True, False, False, False, False]
    index = platform.sends("all")[-1].text
    assert f"https://chat.example/all/{platform.sends('all')[0].key}" in index
    # section names are accepted in the filter; no index for a destination with index = false
    assert platform.headers("tools") == ["Outils et jeux de données ⚙️ — NLP Newsletter #4 (FR)",
                                         "Éducation 🎓 — NLP Newsletter #4 (FR)"]
    assert platform.sends("english") == []
    assert platform.headers("by-english-name") == ["Outils et jeux de données ⚙️ — NLP Newsletter #4 (FR)"]
    # a second run sends nothing again
    await service.run_once()
    assert len(platform.sends("all")) == 5


async def test_spacing_delays_sections_of_one_issue(store: Store, clock: Clock, platform: ScriptedPlatform,
                                                    feeder: Feeder) -> None:
    service = make_service(make_config(dest("a"), spacing=60), store, clock, platform, feeder)
    feeder.publish(make_issue("fr-4"))
    await service.run_once()
    assert len(platform.sends("a")) == 1
    clock.advance(seconds=60)
    await service.worker.drain()
    assert len(platform.sends("a")) == 2
    clock.advance(seconds=600)
    await service.worker.drain()
    assert len(platform.sends("a")) == 4


async def test_first_start_backfills_only_the_newest_issue(store: Store, clock: Clock,
                                                          platform: ScriptedPlatform, feeder: Feeder) -> None:
    config = make_config(dest("one"), dest("none", backfill=0), dest("two", backfill=2))
    service = make_service(config, store, clock, platform, feeder)
    # the destinations exist before the first poll: the archive arriving must not flood them
    feeder.publish(*(make_issue(f"fr-{n}", number=n, day=n) for n in range(1, 6)))
    await service.run_once()
    assert {c.text.splitlines()[0].split("#")[1] for c in platform.sends("one")} == {"5 (FR)"}
    assert platform.sends("none") == []
    assert [h.split("#")[1] for h in platform.headers("two")][::4] == ["4 (FR)", "5 (FR)"]  # oldest first
    # an issue published from now on reaches everyone, including backfill = 0
    feeder.publish(make_issue("fr-6", number=6, day=6))
    await service.run_once()
    for name in ("one", "none", "two"):
        assert platform.headers(name)[-1] == "Mentions ⭐️ — NLP Newsletter #6 (FR)"
    assert len(platform.sends("none")) == 4


async def test_cron_drips_one_section_per_tick_at_local_time_across_dst(
        store: Store, platform: ScriptedPlatform, feeder: Feeder) -> None:
    clock = Clock(datetime(2024, 3, 29, 12, 0, tzinfo=UTC))  # Friday; Paris leaves CET on Sunday 31 March
    platform.clock = clock
    config = make_config(dest("drip", schedule="cron 0 9 * * *", timezone="Europe/Paris"))
    service = make_service(config, store, clock, platform, feeder)
    feeder.publish(make_issue("fr-4"))
    await service.run_once()
    assert platform.sends("drip") == []  # nothing until the first tick
    times = []
    for _ in range(4 * 24 * 4):  # four days in 15-minute steps
        clock.advance(minutes=15)
        service.run_due()
        await service.worker.drain()
    for call in platform.sends("drip"):
        times.append(call.at.astimezone(PARIS))
    assert [(t.day, t.hour, t.minute) for t in times] == [(30, 9, 0), (31, 9, 0), (1, 9, 0), (2, 9, 0)]
    assert [t.utcoffset() for t in times] == [timedelta(hours=1)] + [timedelta(hours=2)] * 3
    assert [h.split(" —")[0] for h in platform.headers("drip")] == [
        "Publications 📙", "Outils et jeux de données ⚙️", "Éducation 🎓", "Mentions ⭐️"]
    assert [c.notify for c in platform.sends("drip")] == [True, False, False, False]


async def test_digest_sends_one_summary_post(store: Store, clock: Clock, platform: ScriptedPlatform,
                                            feeder: Feeder) -> None:
    clock.set(datetime(2024, 3, 21, 12, 0, tzinfo=UTC))  # Thursday
    config = make_config(dest("weekly", schedule="digest 0 8 * * 1", timezone="Europe/Paris"))
    service = make_service(config, store, clock, platform, feeder)
    feeder.publish(make_issue("fr-4"))
    await service.run_once()
    clock.set(datetime(2024, 3, 25, 6, 59, tzinfo=UTC))  # Monday 07:59 Paris
    service.run_due()
    await service.worker.drain()
    assert platform.sends("weekly") == []
    clock.set(datetime(2024, 3, 25, 7, 0, tzinfo=UTC))  # Monday 08:00 Paris (crontab 1 = Monday)
    service.run_due()
    await service.worker.drain()
    [post] = platform.sends("weekly")
    assert post.text.startswith("📬 NLP Newsletter #4 — NLP Newsletter #4 (FR)")
    assert "⚙️ Outils et jeux de données\n  • Outils et jeux de données item 0" in post.text
    clock.advance(days=7)
    service.run_due()
    await service.worker.drain()
    assert len(platform.sends("weekly")) == 1  # nothing new to digest


async def test_missed_ticks_are_coalesced_within_grace_and_skipped_beyond(
        store: Store, clock: Clock, platform: ScriptedPlatform, feeder: Feeder) -> None:
    config = make_config(dest("drip", schedule="cron 0 9 * * *"), misfire_grace_time="2d")
    service = make_service(config, store, clock, platform, feeder)
    feeder.publish(make_issue("fr-4"))
    await service.run_once()
    clock.advance(days=3, hours=4)  # down for three ticks; the last one 1 h ago
    service.run_due()
    await service.worker.drain()
    assert len(platform.sends("drip")) == 1  # one catch-up, not a burst of three

    config = make_config(dest("drip", schedule="cron 0 9 * * *"), misfire_grace_time="30m")
    late = make_service(config, store, clock, platform, feeder)  # a restart with a short grace
    clock.advance(days=2, hours=2)  # two missed ticks, the last one 2 h ago: too late
    late.run_due()
    await late.worker.drain()
    assert len(platform.sends("drip")) == 1
    clock.set(clock.now.replace(hour=9, minute=0) + timedelta(days=1))
    late.run_due()
    await late.worker.drain()
    assert len(platform.sends("drip")) == 2  # the schedule carries on normally


def _cron(text: str, timezone: str = "UTC") -> CronDrip:
    schedule = parse_schedule(f"cron {text}", timezone)
    assert isinstance(schedule, CronDrip)
    return schedule


def test_due_tick_and_crontab_weekdays() -> None:
    trigger = ScheduleTrigger(_cron("0 8 * * 0"))  # crontab 0 = Sunday
    fire = trigger.get_next_fire_time(None, datetime(2024, 3, 25, tzinfo=UTC))
    assert fire is not None and fire.strftime("%a %H:%M") == "Sun 08:00"
    weekdays = ScheduleTrigger(_cron("30 7 * * 1-5"))
    fire = weekdays.get_next_fire_time(None, datetime(2024, 3, 23, tzinfo=UTC))  # a Saturday
    assert fire is not None and fire.strftime("%a %H:%M") == "Mon 07:30"
    assert weekdays.get_next_fire_time(fire, fire) == fire + timedelta(days=1)
    last = datetime(2024, 3, 25, 9, 0, tzinfo=UTC)
    hourly = _cron("0 * * * *")
    assert due_tick(hourly, last, last + timedelta(minutes=59), 60) == (None, 0)
    assert due_tick(hourly, last, last + timedelta(hours=5, minutes=1), 120) == (last + timedelta(hours=5), 5)
    assert due_tick(hourly, last, last + timedelta(hours=5, minutes=3), 120) == (None, 5)


def test_trigger_fires_in_the_destinations_zone_across_dst() -> None:
    """The APScheduler job and bot/contract/schedule.py agree: 09:00 Paris is 08:00 UTC, then 07:00 UTC after
    March 29."""
    trigger = ScheduleTrigger(_cron("0 9 * * *", "Europe/Paris"))
    fire = trigger.get_next_fire_time(None, datetime(2026, 3, 28, 10, tzinfo=UTC))
    assert fire is not None and fire.astimezone(UTC).hour == 7
    before = trigger.get_next_fire_time(None, datetime(2026, 3, 27, 10, tzinfo=UTC))
    assert before is not None and before.astimezone(UTC).hour == 8


def test_config_names_the_schedule_key() -> None:
    with pytest.raises(ValueError, match='hour: "25"'):
        make_config(dest("bad", schedule="cron 0 25 * * *"))
    with pytest.raises(ValueError, match="day of week"):
        make_config(dest("bad", schedule="cron 0 9 * * funday"))
    assert make_config(dest("ok", schedule="digest @weekly")).destinations[0].schedule == "digest 0 0 * * 0"


async def test_restart_reconciles_destinations_without_duplicates(
        store: Store, clock: Clock, platform: ScriptedPlatform, feeder: Feeder) -> None:
    first = make_config(dest("kept"), dest("dropped", schedule="cron 0 9 * * *"),
                        dest("changed", schedule="cron 0 9 * * *"))
    service = make_service(first, store, clock, platform, feeder)
    feeder.publish(make_issue("fr-3", number=3, day=3), make_issue("fr-4", number=4, day=4))
    await service.run_once()
    service._sync_jobs()
    assert {j.id for j in service.scheduler.get_jobs()} == {"poll:nlp", "tick:dropped", "tick:changed"}
    assert len(platform.sends("kept")) == 4

    second = make_config(dest("kept"), dest("changed", schedule="cron 0 18 * * *", timezone="Asia/Tokyo"),
                         dest("added"))
    restarted = make_service(second, store, clock, platform, feeder)
    await restarted.run_once()
    restarted._sync_jobs()
    jobs = {j.id: j for j in restarted.scheduler.get_jobs()}
    assert set(jobs) == {"poll:nlp", "tick:changed"}
    assert str(jobs["tick:changed"].trigger) == "schedule[cron 0 18 * * * Asia/Tokyo]"
    assert len(platform.sends("kept")) == 4  # nothing resent
    assert [h.split("#")[1] for h in platform.headers("added")] == ["4 (FR)"] * 4  # backfill 1, not the archive
    status = {d["name"]: d for d in restarted.status()["destinations"]}
    assert status["dropped"]["removed"] is True
    assert status["changed"]["next_run"].endswith("+09:00")
    assert status["kept"]["outbox"]["sent"] == 4


async def test_feed_failure_leaves_outbox_untouched_and_is_reported(
        store: Store, clock: Clock, platform: ScriptedPlatform, feeder: Feeder) -> None:
    service = make_service(make_config(dest("a")), store, clock, platform, feeder)
    feeder.publish(make_issue("fr-4"))
    await service.run_once()
    before = [(r.id, r.state) for r in service.outbox.rows()]
    feeder.fail = "HTTP 503"
    await service.run_once()
    assert [(r.id, r.state) for r in service.outbox.rows()] == before
    [feed] = service.status()["feeds"]
    assert feed["last_error"] == "HTTP 503" and feed["error_count"] >= 1


async def test_send_now_and_status(store: Store, clock: Clock, platform: ScriptedPlatform,
                                   feeder: Feeder) -> None:
    service = make_service(make_config(dest("a", schedule="cron 0 9 * * *")), store, clock, platform, feeder)
    feeder.publish(make_issue("fr-3", number=3, day=3), make_issue("fr-4", number=4, day=4))
    await service.run_once()
    operations = Operations(service)
    assert _messages(await operations.send(SendRequest("a", issue=3, section="outils"))) == 1
    assert platform.headers("a") == ["Outils et jeux de données ⚙️ — NLP Newsletter #3 (FR)"]
    assert _messages(await operations.send(SendRequest("a"))) == 4
    status = {d["name"]: d for d in service.status()["destinations"]}["a"]
    assert status["next_run"] == "2024-03-25T09:00:00+00:00"
    assert status["outbox"]["sent"] == 5 and status["last_delivery"] is not None
    with pytest.raises(ConfigError):
        await operations.send(SendRequest("nope"))


def _messages(outcome: SendReport | DryRun) -> int:
    """Messages a send enqueued (and delivered), over all its posts."""
    assert isinstance(outcome, SendReport) and outcome.ok
    return sum(post.messages for post in outcome.posts)


async def test_index_follow_up_recorded_with_the_last_section_survives_a_crash(
        store: Store, clock: Clock, platform: ScriptedPlatform, feeder: Feeder) -> None:
    """The worker's commit records a sent row's follow-up and the planner reacts after it: a crash
    in between (every section recorded sent, the index not queued yet) still posts the index."""
    config = make_config(dest("all", index=True))
    crashed = make_service(config, store, clock, platform, feeder)
    store.save_issues([make_issue("fr-4")])
    crashed._prepare()
    crashed._plan()
    sections = crashed.outbox.rows("all")
    assert sections and {r.kind for r in sections} == {"section"}
    # what the worker's commits leave when the process dies right after the last one
    now = clock().timestamp()
    crashed.outbox.complete([Outcome(r.id, "sent", now, sent=Sent("c", (str(r.id),), f"https://x/{r.id}"))
                             for r in sections])
    assert [r.id for r in crashed.outbox.followups()] == [r.id for r in sections]

    restarted = make_service(config, store, clock, platform, feeder)
    await restarted.run_once()
    assert platform.headers("all") == ["🗂 Index — NLP Newsletter #4 (FR)"]  # no section sent twice
    assert f"https://x/{sections[0].id}" in platform.sends("all")[0].text
    assert restarted.outbox.followups() == []
