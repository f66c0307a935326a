"""The outbox under platform faults, edits and crashes (a scripted platform at the port boundary)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.core.errors import DestinationForbidden, Rejected, RetryLater
from bot.ports import Destination, Rendered, Sent
from bot.storage.store import Store
from scheduler.operations import Operations
from scheduler.worker import backoff_delay
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


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2024, 3, 25, 6, 0, tzinfo=UTC))


@pytest.fixture
def platform(clock: Clock) -> ScriptedPlatform:
    return ScriptedPlatform(clock)


@pytest.fixture
def feeder(store: Store) -> Feeder:
    return Feeder(store)


async def test_forbidden_pauses_only_that_destination(store: Store, clock: Clock, platform: ScriptedPlatform,
                                                      feeder: Feeder) -> None:
    service = make_service(make_config(dest("kicked"), dest("fine")), store, clock, platform, feeder)
    platform.faults["kicked"] = [DestinationForbidden("kicked", "bot was kicked from the channel chat")]
    feeder.publish(make_issue("fr-4"))
    await service.run_once()
    assert len(platform.sends("fine")) == 4
    assert platform.sends("kicked") == []
    status = {d["name"]: d for d in service.status()["destinations"]}
    assert status["kicked"]["paused"] == "bot was kicked from the channel chat"
    assert status["kicked"]["outbox"]["pending"] == 4
    clock.advance(hours=1)
    await service.worker.drain()
    assert platform.sends("kicked") == []  # no retrying forever
    assert Operations(service).retry("kicked") == 0
    await service.worker.drain()
    assert len(platform.sends("kicked")) == 4
    assert {d["name"]: d for d in service.status()["destinations"]}["kicked"]["paused"] is None


async def test_retry_after_is_honoured(store: Store, clock: Clock, platform: ScriptedPlatform,
                                       feeder: Feeder) -> None:
    service = make_service(make_config(dest("a")), store, clock, platform, feeder)
    platform.faults["a"] = [RetryLater("a", "Too Many Requests: retry after 30", retry_after=30)]
    feeder.publish(make_issue("fr-4"))
    await service.run_once()
    assert platform.sends("a") == []
    [head] = [r for r in service.outbox.rows("a") if r.state == "failed"]
    assert head.next_attempt_at == pytest.approx(clock.now.timestamp() + 30)
    clock.advance(seconds=29)
    await service.worker.drain()
    assert platform.sends("a") == []  # the next section is not sent before the first either
    clock.advance(seconds=1)
    await service.worker.drain()
    assert [h.split(" —")[0] for h in platform.headers("a")] == [s[1] for s in SECTIONS]


async def test_server_errors_back_off_exponentially_then_dead_letter(
        store: Store, clock: Clock, platform: ScriptedPlatform, feeder: Feeder) -> None:
    config = make_config(dest("a"), dest("b"), max_attempts=4, backoff_base="10s", backoff_max="1h")
    service = make_service(config, store, clock, platform, feeder)
    service.worker.rng = random.Random(7)
    platform.faults["a"] = [RetryLater("a", "HTTP 502") for _ in range(4)]
    feeder.publish(make_issue("fr-4", sections=SECTIONS[:1]))
    await service.run_once()
    delays = []
    for _ in range(3):
        [row] = service.outbox.rows("a")
        assert row.state == "failed"
        delays.append(row.next_attempt_at - clock.now.timestamp())
        clock.advance(seconds=delays[-1] + 0.001)
        await service.worker.drain()
    for n, delay in enumerate(delays):
        assert 10 * 2**n * 0.5 <= delay <= 10 * 2**n  # exponential, with jitter
    [row] = service.outbox.rows("a")
    assert row.state == "dead" and row.attempts == 4 and "HTTP 502" in (row.error or "")
    assert len(platform.sends("b")) == 1
    assert Operations(service).retry("a") == 1
    await service.worker.drain()
    assert len(platform.sends("a")) == 1


def test_backoff_delay_is_capped() -> None:
    rng = random.Random(1)
    assert all(450 <= backoff_delay(30, 2, 900, rng) <= 900 for _ in range(50))


async def test_rejected_part_is_dead_lettered_and_the_queue_moves_on(
        store: Store, clock: Clock, platform: ScriptedPlatform, feeder: Feeder) -> None:
    service = make_service(make_config(dest("a")), store, clock, platform, feeder)
    platform.faults["a"] = [Rejected("a", "Bad Request: can't parse entities")]
    feeder.publish(make_issue("fr-4"))
    await service.run_once()
    assert [r.state for r in service.outbox.rows("a")] == ["dead", "sent", "sent", "sent"]


async def test_parts_go_out_in_order_even_when_one_fails(store: Store, clock: Clock, feeder: Feeder) -> None:
    platform = ScriptedPlatform(clock, max_chars=300)
    service = make_service(make_config(dest("a")), store, clock, platform, feeder)
    platform.faults["a"] = [RetryLater("a", "timeout", retry_after=5)]
    feeder.publish(make_issue("fr-4", sections=SECTIONS[:2], items=3, long=120))
    await service.run_once()
    rows = service.outbox.rows("a")
    assert max(r.parts for r in rows) > 1
    clock.advance(seconds=5)
    await service.worker.drain()
    sent = [(r.unit, r.part) for r in sorted(rows, key=lambda r: r.id)]
    keys = {service.outbox.rows("a")[i].key: sent[i] for i in range(len(sent))}
    assert [keys[c.key] for c in platform.sends("a")] == sent


async def test_rows_left_sending_by_a_crash_are_sent_again_with_the_same_key(
        store: Store, clock: Clock, platform: ScriptedPlatform, feeder: Feeder) -> None:
    service = make_service(make_config(dest("a")), store, clock, platform, feeder)
    feeder.publish(make_issue("fr-4"))
    service._prepare()
    await service._poll(service.config.feeds[0])
    head = service.outbox.heads()[0]
    service.outbox.mark_sending([head.id], clock.now.timestamp())  # then the process dies
    restarted = make_service(make_config(dest("a")), store, clock, platform, feeder)
    await restarted.run_once()
    assert platform.sends("a")[0].key == head.key
    assert len(platform.sends("a")) == 4
    assert {r.state for r in restarted.outbox.rows("a")} == {"sent"}


@pytest.mark.parametrize("mode", ["ignore", "edit", "repost"])
async def test_edits(mode: str, store: Store, clock: Clock, platform: ScriptedPlatform, feeder: Feeder) -> None:
    service = make_service(make_config(dest("a", on_edit=mode, index=True)), store, clock, platform, feeder)
    feeder.publish(make_issue("fr-4"))
    await service.run_once()
    first = list(platform.calls)
    assert len(first) == 5  # four sections and the index

    edited = make_issue("fr-4", sections=SECTIONS, tag="")
    changed = edited.sections[1]
    new_section = changed.__class__(key=changed.key, heading=changed.heading, title=changed.title,
                                    emoji=changed.emoji, position=changed.position,
                                    items=changed.items[:1] + (changed.items[1].__class__(
                                        title="Corrected title", body=changed.items[1].body),))
    feeder.publish(edited.__class__(**{**{f: getattr(edited, f) for f in edited.__slots__},
                                       "sections": (edited.sections[0], new_section, *edited.sections[2:])}))
    await service.run_once()
    later = platform.calls[len(first):]
    if mode == "ignore":
        assert later == []
    elif mode == "edit":
        [call] = later
        assert call.op == "edit" and call.key == first[1].key and "Corrected title" in call.text
    else:
        assert [c.op for c in later] == ["send", "edit"]  # the section again, then the index points to it
        assert "Corrected title" in later[0].text and later[0].notify is False
        assert later[1].key == first[4].key and later[0].key in later[1].text
    await service.run_once()
    assert len(platform.calls) == len(first) + len(later)  # nothing twice


async def test_added_section_is_sent_and_the_index_edited_in_place(
        store: Store, clock: Clock, platform: ScriptedPlatform, feeder: Feeder) -> None:
    service = make_service(make_config(dest("a", on_edit="edit", index=True)), store, clock, platform, feeder)
    feeder.publish(make_issue("fr-4", sections=SECTIONS[:3]))
    await service.run_once()
    index_key = platform.sends("a")[-1].key
    feeder.publish(make_issue("fr-4", sections=SECTIONS))
    await service.run_once()
    later = platform.calls[4:]
    assert [(c.op, c.text.splitlines()[0]) for c in later] == [
        ("send", "Mentions ⭐️ — NLP Newsletter #4 (FR)"), ("edit", "🗂 Index — NLP Newsletter #4 (FR)")]
    assert later[1].key == index_key and "Mentions" in later[1].text


async def test_edit_with_more_parts_edits_existing_and_sends_the_extra(
        store: Store, clock: Clock, feeder: Feeder) -> None:
    platform = ScriptedPlatform(clock, max_chars=400)
    service = make_service(make_config(dest("a", on_edit="edit")), store, clock, platform, feeder)
    feeder.publish(make_issue("fr-4", sections=SECTIONS[:1], items=1))
    await service.run_once()
    assert len(platform.calls) == 1
    feeder.publish(make_issue("fr-4", sections=SECTIONS[:1], items=4, long=150))
    await service.run_once()
    ops = [c.op for c in platform.calls[1:]]
    assert ops[0] == "edit" and ops[1:] and set(ops[1:]) == {"send"}
    assert platform.calls[1].key == platform.calls[0].key


class MigratingPlatform(ScriptedPlatform):
    """Answers like Telegram after a group became a supergroup: the post lands under a new chat id."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock)
        self.chats: list[str] = []

    async def send(self, dest: Destination, part: Rendered, *, key: str) -> Sent:
        self.chats.append(dest.chat)
        sent = await super().send(dest, part, key=key)
        if dest.chat == "-1":
            return replace(sent, chat_id="-1009", migrated_from="-1")
        return sent


async def test_a_migrated_chat_is_remembered_for_later_posts(store: Store, clock: Clock, feeder: Feeder) -> None:
    platform = MigratingPlatform(clock)
    service = make_service(make_config(dest("group", chat="-1")), store, clock, platform, feeder)
    feeder.publish(make_issue("fr-4"))
    await service.run_once()
    assert platform.chats[0] == "-1"
    assert set(platform.chats[1:]) == {"-1009"} and len(platform.chats) > 1
    restarted = make_service(make_config(dest("group", chat="-1")), store, clock, platform, feeder)
    feeder.publish(make_issue("fr-5", number=5, day=8))
    before = len(platform.chats)
    await restarted.run_once()
    assert platform.chats[before:] and set(platform.chats[before:]) == {"-1009"}


@pytest.mark.parametrize("retry_after", [999_999_999.0, float("inf"), None])
async def test_waits_are_capped_and_retry_releases_failed_and_parked_rows(
        store: Store, clock: Clock, platform: ScriptedPlatform, feeder: Feeder, retry_after: float | None) -> None:
    service = make_service(make_config(dest("a"), max_retry_wait="10m", backoff_max="1d", backoff_base="1d"),
                           store, clock, platform, feeder)
    platform.faults["a"] = [RetryLater("a", "flood", retry_after=retry_after)]
    feeder.publish(make_issue("fr-4"))
    await service.run_once()
    [head] = [r for r in service.outbox.rows("a") if r.state == "failed"]
    wait = head.next_attempt_at - clock.now.timestamp()
    assert 0 < wait <= 600  # never longer than max_retry_wait, whatever was asked
    [shown] = {d["name"]: d for d in service.status()["destinations"]}["a"]["failed"]
    assert shown["attempts"] == 1
    assert datetime.fromisoformat(shown["next_attempt_at"]).timestamp() == pytest.approx(head.next_attempt_at, abs=1)
    # a row parked in the future (as an older version of the bot could leave it) is released too
    store.db.execute("update outbox set next_attempt_at = ? where id = ?", [clock.now.timestamp() + 1e9, head.id + 1])
    assert Operations(service).retry("a") == 2
    await service.worker.drain()
    assert [h.split(" —")[0] for h in platform.headers("a")] == [s[1] for s in SECTIONS]
    assert Operations(service).retry("a") == 0  # sent rows are never re-queued
