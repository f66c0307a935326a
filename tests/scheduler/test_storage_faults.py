"""Storage faults through the storage seam: `Store(connect=...)` with a connection whose writes fail
the way SQLite fails on a full disk (`tests/harness/disk.py`), so these run on any machine (the tmpfs
tests in tests/e2e/test_operator_faults.py need root).

The service is the real one (real Ingestor on the corpus file, real outbox and worker, real
APScheduler); only the platform is a scripted double at the port boundary.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from bot.core.errors import StorageError
from bot.feeds.ingest import Ingestor
from bot.ports import Destination, Rendered, Sent
from bot.settings.config import Config, DestinationConfig, FeedConfig
from bot.storage.fault import StorageHealth
from bot.storage.lock import InstanceLock, holder
from bot.storage.store import Store
from scheduler.service import DeliveryService
from tests.harness.corpus import CORPUS
from tests.harness.disk import DiskFull, connect_disk_full
from tests.harness.poll import until
from tests.harness.scheduling import ScriptedPlatform


class RealClock:
    def __call__(self) -> datetime:
        return datetime.now(UTC)


class FillsTheDisk(ScriptedPlatform):
    """Delivers, and fills the disk right after the `after`-th send (before its outcome is recorded)."""

    after: int = 0
    conn: DiskFull | None = None

    async def send(self, dest: Destination, part: Rendered, *, key: str) -> Sent:
        sent = await super().send(dest, part, key=key)
        if len(self.calls) == self.after and self.conn is not None:
            self.conn.full = True
        return sent


def _service(tmp_path: Path, platform: ScriptedPlatform, lock: InstanceLock) -> tuple[DeliveryService, DiskFull]:
    store = Store(tmp_path / "bot.db", connect=connect_disk_full)
    conn = store.db.conn
    assert isinstance(conn, DiskFull)
    config = Config(feeds=[FeedConfig(name="nlp", url=str(CORPUS), poll_interval=3600)],
                    destinations=[DestinationConfig(name=f"c{n}", platform="console", languages=["fr"], index=False)
                                  for n in range(3)])
    health = StorageHealth(store.path, log_every=3600, retry_every=0.05, on_change=lock.publish)
    service = DeliveryService(config, store, {"console": platform}, Ingestor(store, config), health=health)
    return service, conn


def _all_sent(service: DeliveryService) -> bool:
    counts = service.outbox.counts()
    return len(counts) == 3 and all(set(c) == {"sent"} for c in counts.values())


@pytest.mark.parametrize("fill_after", [0, 5], ids=["full-from-the-start", "full-mid-delivery"])
async def test_a_full_disk_is_logged_once_shown_and_waited_out(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                              fill_after: int) -> None:
    platform = FillsTheDisk(RealClock())  # type: ignore[arg-type]
    platform.after = fill_after
    with InstanceLock(str(tmp_path / "bot.db")) as lock:
        service, conn = _service(tmp_path, platform, lock)
        platform.conn = conn
        conn.full = fill_after == 0
        stop = asyncio.Event()
        with caplog.at_level(logging.INFO):
            task = asyncio.create_task(service.run(stop))
            await until(lambda: service.health.problem is not None and service.health.problem.failures >= 10,
                        "ten failed writes seen by the health", timeout=20)
            seen = holder(str(tmp_path / "bot.db"))  # what `status`, another process, reads
            assert seen is not None and seen.storage_problem is not None
            assert seen.storage_problem.cause == "the disk is full"
            assert fill_after <= len(platform.calls) < fill_after + 3  # the round in flight at most
            conn.full = False
            await until(lambda: _all_sent(service), "every post sent", timeout=20)
            stop.set()
            await asyncio.wait_for(task, 10)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "cannot write (the disk is full)" in errors[0].getMessage(), errors
    assert sum("writable again" in r.getMessage() for r in caplog.records) == 1
    keys = [(c.dest, c.key) for c in platform.calls]
    # only parts whose outcome could not be recorded (one per destination at most) go out twice
    assert len(keys) - len(set(keys)) <= (3 if fill_after else 0)
    per_dest = {d: sum(1 for dd, _ in set(keys) if dd == d) for d in ("c0", "c1", "c2")}
    assert len(set(per_dest.values())) == 1 and per_dest["c0"] > 0, per_dest  # nothing lost anywhere


def test_a_full_disk_when_the_database_is_created_is_one_storage_error(tmp_path: Path) -> None:
    class FullFromTheStart(DiskFull):
        full = True

    with pytest.raises(StorageError, match=r"^storage.path .*bot.db: the disk is full$"):
        Store(tmp_path / "bot.db", connect=partial(sqlite3.connect, factory=FullFromTheStart))
