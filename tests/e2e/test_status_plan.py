"""`digestbot status` and `digestbot plan` as a maintainer runs them (subprocess, real config and database)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from bot.storage.store import Store
from tests.harness.cli import run_cli
from tests.harness.corpus import CORPUS as FEED
from tests.harness.destinations import store_unrunnable

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")  # offset, no microseconds


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three console destinations (on_publish, a Paris drip, a weekly digest), the corpus ingested,
    and a /subscribe row whose schedule the scheduler cannot run."""
    tmp = tmp_path_factory.mktemp("cli")
    path = tmp / "config.toml"
    db = tmp / "db.sqlite"
    path.write_text(f"""
[storage]
path = "{db}"
[[feeds]]
name = "nlp"
url = "{FEED}"
poll_interval = "30m"
[[destinations]]
name = "fr-now"
platform = "console"
languages = ["fr"]
[[destinations]]
name = "fr-drip"
platform = "console"
languages = ["fr"]
schedule = "cron 0 9 * * *"
timezone = "Europe/Paris"
[[destinations]]
name = "en-digest"
platform = "console"
languages = ["en"]
schedule = "digest @weekly"
timezone = "America/New_York"
""")
    ingested = run_cli("ingest", "--config", str(path))
    assert ingested.returncode == 0, ingested.stderr
    store = Store(db)
    store_unrunnable(store, "telegram:-100", "-100", "cron 99 99 * * *")
    store.close()
    return path


def _fr_sections(config: Path) -> list[str]:
    """The newest French edition's non-empty sections in published order, as `plan` labels them."""
    store = Store(config.parent / "db.sqlite")
    try:
        [ref] = store.list_issues(lang="fr", limit=1)
        issue = store.get_issue(ref.entry_id)
    finally:
        store.close()
    assert issue is not None
    return [f"{s.title} #{issue.number} (FR)" for s in sorted(issue.sections, key=lambda s: s.position) if s.items]


def test_status_table_is_readable(config: Path) -> None:
    result = run_cli("status", "--config", str(config))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Feeds" in out and "Destinations" in out
    feed_line = next(line for line in out.splitlines() if line.strip().startswith("nlp "))
    assert "UTC" in feed_line and feed_line.split()[-1].isdigit()
    drip = next(line for line in out.splitlines() if line.strip().startswith("fr-drip"))
    assert "one section at 09:00 every day (Europe/Paris)" in drip
    assert "09:00 CE" in drip  # next run in the destination's zone (CET or CEST)
    assert f"next: {_fr_sections(config)[0]}" in drip
    bad = next(line for line in out.splitlines() if line.strip().startswith("telegram:-100"))
    assert "invalid schedule" in bad and 'minute: "99"' in bad
    assert "{" not in out and "Traceback" not in result.stderr


def test_status_json_times_and_durations(config: Path) -> None:
    result = run_cli("status", "--json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    [feed] = data["feeds"]
    assert feed["poll_interval"] == 1800 and isinstance(feed["poll_interval"], int)
    assert ISO.match(feed["last_poll"]) and feed["issues"] == 19
    dests = {d["name"]: d for d in data["destinations"]}
    assert ISO.match(dests["fr-drip"]["next_run"]) and dests["fr-drip"]["next_run"][11:16] == "09:00"
    assert dests["en-digest"]["next_run"][11:16] == "00:00" and dests["en-digest"]["next_run"][-6:] in ("-05:00",
                                                                                                         "-04:00")
    assert dests["fr-now"]["next_run"] is None and dests["fr-now"]["schedule"] == "on_publish"
    sections = _fr_sections(config)
    assert dests["fr-drip"]["next"] == sections[0] and dests["fr-drip"]["queued"] == len(sections)
    assert dests["telegram:-100"]["paused"].startswith("invalid schedule:")
    assert set(dests["fr-drip"]["outbox"]) == {"pending", "sending", "sent", "failed", "dead"}
    assert ISO.match(data["generated_at"])


def test_plan_json_lists_every_delivery_in_the_destinations_zone(config: Path) -> None:
    result = run_cli("plan", "--days", "3", "--json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    plans = {p["name"]: p for p in data["destinations"]}
    drip = plans["fr-drip"]
    times = [datetime.fromisoformat(d["when"]) for d in drip["deliveries"]]
    assert len(times) == 3 and all(t.strftime("%H:%M") == "09:00" for t in times)
    assert [(t.date() - times[0].date()).days for t in times] == [0, 1, 2]  # one a day, in local time
    whats = [d["what"] for d in drip["deliveries"]]
    assert whats == _fr_sections(config)[:3]  # the next three sections, in order
    assert all(ISO.match(d["when"]) for d in drip["deliveries"])
    now = plans["fr-now"]
    assert now["deliveries"] and all(d["kind"] == "section" for d in now["deliveries"])
    assert "as soon as it is published" in now["then"]
    assert drip["then"].startswith(f"{len(_fr_sections(config)) - 3} more sections at the next ticks")
    assert plans["telegram:-100"]["paused"].startswith("invalid schedule:")


def test_plan_text(config: Path) -> None:
    result = run_cli("plan", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "fr-drip → console fr-drip — one section at 09:00 every day (Europe/Paris)" in result.stdout
    assert "en-digest → console en-digest — a digest at 00:00 on Sunday (America/New_York)" in result.stdout
    assert "PAUSED: invalid schedule" in result.stdout
    bad = run_cli("plan", "--days", "0", "--config", str(config))
    assert bad.returncode == 2 and "--days" in bad.stderr


def test_run_once_delivers_around_an_invalid_stored_schedule(tmp_path: Path) -> None:
    """The crash loop of issue #8: a stored `cron 99 99 * * *` made every `run` raise at start."""
    db = tmp_path / "db.sqlite"
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\npath = "{db}"\n[[feeds]]\nname = "nlp"\nurl = "{FEED}"\n'
                    '[[destinations]]\nname = "fr-now"\nplatform = "console"\nlanguages = ["fr"]\n')
    store = Store(db)
    store_unrunnable(store, "console:bad", "bad", "cron 99 99 * * *")
    store.close()
    result = run_cli("run", "--once", "--config", str(path))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert 'destination console:bad paused: invalid schedule: minute: "99"' in result.stderr
    status = json.loads(run_cli("status", "--json", "--config", str(path)).stdout)
    dests = {d["name"]: d for d in status["destinations"]}
    assert dests["fr-now"]["outbox"]["sent"] > 0 and dests["console:bad"]["outbox"]["sent"] == 0
