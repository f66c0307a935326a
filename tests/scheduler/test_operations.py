"""The operations service the CLI and the panel both call: real store, real outbox, the console platform.

Each test drives `scheduler.operations.Operations` as `digestbot send/pause/resume/retry/reset/status/plan`
and the panel's buttons do, and checks what reached the console (its JSON lines) and the outbox.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.console import console_adapter
from bot.core.errors import ConfigError, DigestbotError
from bot.feeds.ingest import Ingestor
from bot.settings.config import Config, DestinationConfig, FeedConfig, NewsletterConfig
from bot.splitting.sections import SectionAliases
from bot.storage.store import Store
from scheduler.operations import DryRun, Operations, SendMode, SendReport, SendRequest
from scheduler.service import DeliveryService
from tests.harness.corpus import CORPUS
from tests.harness.poll import until

FR = DestinationConfig(name="fr", platform="console", languages=["fr"], index=True, schedule="cron 0 9 * * *")
EN = DestinationConfig(name="en", platform="console", languages=["en"])


def _config(db: str) -> Config:
    return Config(newsletter=NewsletterConfig(name="NLP Newsletter"), feeds=[FeedConfig(name="nlp", url=str(CORPUS))],
                  destinations=[FR, EN], storage={"path": db})  # type: ignore[arg-type]


class Deployment:
    """A service over a store holding the corpus, with the console writing JSON lines to a file."""

    def __init__(self, db: str, log: Path, *, ingest: bool = True) -> None:
        self.config = _config(db)
        self.store = Store(db)
        self.ingestor = Ingestor(self.store, self.config, aliases=SectionAliases(self.config.sections.aliases))
        if ingest:
            self.ingestor.ingest_bytes(CORPUS.read_bytes(), "nlp")
        self.log = log
        console = console_adapter(io.StringIO(), jsonl_path=str(log))
        self.service = DeliveryService(self.config, self.store, {"console": console}, self.ingestor)

    def operations(self, mode: SendMode = "own-worker") -> Operations:
        return Operations(self.service, mode)

    def delivered(self, dest: str | None = None) -> list[dict[str, Any]]:
        """The console's record of every message it posted (to `dest` only, if given)."""
        if not self.log.exists():
            return []
        lines = [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]
        return [line for line in lines if dest is None or line["dest"] == dest]


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    built = Deployment(str(tmp_path / "bot.db"), tmp_path / "console.jsonl")
    yield built
    built.store.close()


def _report(outcome: SendReport | DryRun) -> SendReport:
    assert isinstance(outcome, SendReport), outcome
    return outcome


def _dry(outcome: SendReport | DryRun) -> DryRun:
    assert isinstance(outcome, DryRun), outcome
    return outcome


async def test_a_dry_run_shows_exactly_the_posts_the_send_then_delivers(deployment: Deployment) -> None:
    ops = deployment.operations()
    dry = _dry(await ops.send(SendRequest("fr", issue=4, dry_run=True)))
    assert dry.destination == "fr" and dry.platform == "console"
    assert dry.posts[-1].label == "index · NLP Newsletter #4 (FR)"
    assert deployment.service.outbox.rows("fr") == [] and deployment.delivered() == []  # nothing sent

    report = _report(await ops.send(SendRequest("fr", issue=4)))
    assert report.ok and report.edition == "NLP Newsletter #4 (FR)"
    assert [post.label for post in report.posts] == [post.label for post in dry.posts]
    assert [post.messages for post in report.posts] == [len(post.parts) for post in dry.posts]
    assert len(deployment.delivered()) == sum(len(post.parts) for post in dry.posts)
    assert ops.preview(SendRequest("fr", issue=4)) == DryRun("fr", "console", ())  # all sent: nothing new


async def test_a_whole_edition_is_sent_once_and_one_section_again_on_request(deployment: Deployment) -> None:
    ops = deployment.operations()
    first = _report(await ops.send(SendRequest("fr", issue=4)))
    again = _report(await ops.send(SendRequest("fr", issue=4)))
    assert first.posts and again.posts == ()  # already delivered: nothing new, nothing posted twice
    count = len(deployment.delivered())
    one = _report(await ops.send(SendRequest("fr", issue=4, section="outils")))
    assert [post.label for post in one.posts] == ["Outils et jeux de données ⚙️ · NLP Newsletter #4 (FR)",
                                                  "index · NLP Newsletter #4 (FR) (edit)"]  # the index links it
    assert one.ok and len(deployment.delivered()) == count + sum(post.messages for post in one.posts)


async def test_a_send_never_delivers_another_destinations_queue(deployment: Deployment) -> None:
    service = deployment.service
    service.planner.send_now(service.destinations()["en"], service.planner.candidates(
        service.destinations()["en"])[0].entry_id, None)  # queued for "en", not yet delivered
    queued = [row.id for row in service.outbox.rows("en")]
    _report(await deployment.operations().send(SendRequest("fr", issue=4, section="outils")))
    assert [row.id for row in service.outbox.rows("en") if row.state == "pending"] == queued


@pytest.mark.parametrize(("request_", "names"), [
    (SendRequest("nowhere"), "destinations.nowhere: unknown destination (configured: en, fr)"),
    (SendRequest("fr", issue=999), "no stored issue #999 for destination 'fr' (languages: fr)"),
    (SendRequest("fr", issue=4, section="cooking"), "NLP Newsletter #4 (FR) has no section 'cooking'"),
])
async def test_a_request_that_cannot_be_met_is_refused_in_one_line(deployment: Deployment, request_: SendRequest,
                                                                    names: str) -> None:
    for dry_run in (True, False):
        with pytest.raises((ConfigError, DigestbotError)) as refused:
            await deployment.operations().send(SendRequest(request_.destination, request_.issue, request_.section,
                                                           dry_run))
        assert str(refused.value).startswith(names)
    assert deployment.service.outbox.rows() == [] and deployment.delivered() == []


async def test_pause_holds_posts_until_resume_and_retry_requeues(deployment: Deployment) -> None:
    ops = deployment.operations()
    ops.pause("fr", "holiday")
    report = _report(await ops.send(SendRequest("fr", issue=4, section="outils")))
    assert [post.state for post in report.posts] == ["failed"] and deployment.delivered() == []
    assert _status(ops, "fr").paused == "holiday"
    ops.resume("fr")
    assert _status(ops, "fr").paused is None
    ops.pause("fr", "again")
    assert ops.retry("fr") == 0  # nothing dead or failed: it only un-pauses
    assert _status(ops, "fr").paused is None
    with pytest.raises(ConfigError, match="destinations.nowhere"):
        ops.pause("nowhere", "x")


def _status(ops: Operations, name: str) -> Any:
    return next(d for d in ops.status().destinations if d.name == name)


async def test_reset_refuses_a_destination_without_an_override(deployment: Deployment) -> None:
    with pytest.raises(DigestbotError, match="has no /subscribe override"):
        deployment.operations().reset("fr")


async def test_poll_reads_the_feed_and_returns_its_state(tmp_path: Path) -> None:
    fresh = Deployment(str(tmp_path / "fresh.db"), tmp_path / "c.jsonl", ingest=False)
    try:
        ops = fresh.operations()
        state = await ops.poll("nlp")
        assert state is not None and state.last_error is None and state.entries
        assert fresh.store.list_issues(limit=1)
        with pytest.raises(ConfigError, match="feeds.nope"):
            await ops.poll("nope")
    finally:
        fresh.store.close()


async def test_status_and_plan_count_what_a_send_delivered(deployment: Deployment) -> None:
    ops = deployment.operations()
    before = _status(ops, "fr")
    report = _report(await ops.send(SendRequest("fr", issue=4)))
    after = _status(ops, "fr")
    assert after.outbox["sent"] - before.outbox["sent"] == sum(post.messages for post in report.posts)
    assert after.last_delivery is not None
    [plan] = [p for p in ops.plan(3) if p.name == "fr"]
    assert plan.schedule == "cron 0 9 * * *" and len(plan.deliveries) == 3  # one section per daily tick


async def test_inside_run_the_running_service_delivers_what_a_send_enqueues(deployment: Deployment) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(deployment.service.run(stop))
    try:
        await until(lambda: deployment.service.scheduler.running, "the service runs")
        report = _report(await deployment.operations("running-service").send(
            SendRequest("fr", issue=4, section="outils")))
        assert report.ok and [post.state for post in report.posts] == ["delivered"]
        assert len(deployment.delivered("fr")) == report.posts[0].messages
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)


async def test_beside_run_a_send_hands_its_posts_to_the_other_process(tmp_path: Path,
                                                                     deployment: Deployment) -> None:
    db = deployment.config.storage.path
    other = Deployment(db, tmp_path / "running.jsonl", ingest=False)  # the `run` holding the database
    stop = asyncio.Event()
    running = asyncio.create_task(other.service.run(stop))
    try:
        report = _report(await deployment.operations("other-process").send(
            SendRequest("fr", issue=4, section="outils")))
        assert [post.state for post in report.posts] == ["delivered"]
        assert len(other.delivered("fr")) == report.posts[0].messages  # posted by the running service
        assert deployment.delivered() == []  # and not by the process that asked
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
        other.store.close()
