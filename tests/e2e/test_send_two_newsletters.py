"""`send`, `plan`, `status` and `reset` on a two-newsletter deployment, as a maintainer runs them.

`send DEST` picks from DEST's own feeds and languages; `--section` leaves the schedule alone;
`--dry-run` lists exactly the posts the real send posts; both work while `digestbot run` runs
(the real send is handed to the running service); a `/subscribe` override shows in `status`
and `reset` drops it.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
from pathlib import Path

from bot.chat.commands import Query, parse_command
from bot.chat.query import QueryEngine
from bot.core.messages import Subscribed
from bot.settings.config import bundled_feed_path, load_config
from bot.settings.destinations import destination_from_config
from bot.storage.lock import holder
from bot.storage.store import Store
from tests.harness.cli import run_cli_async, start_run_async
from tests.harness.config import ConfigFile
from tests.harness.paths import TWIR_FEED
from tests.harness.poll import until

RUST = TWIR_FEED
AT = "2026-12-07T06:00:00Z"
_POST = re.compile(r"^(?:── )?(\S+) ← (.+) \((\d+) messages?\)")


def _config(tmp: Path) -> Path:
    return (ConfigFile(tmp).storage().table("console", log=tmp / "console.jsonl")
            .feed("nlp", bundled_feed_path(), poll_interval="1h").feed("rust", RUST, poll_interval="1h")
            .destination("nlp-digest", "console", feeds=["nlp"], schedule="digest @weekly")
            .destination("fr-drip", "console", feeds=["nlp"], languages=["fr"], schedule="cron 0 9 * * *")
            .destination("rust", "console", feeds=["rust"])
            .write())


def _posts(out: str) -> list[tuple[str, str, int]]:
    """(destination, label, messages) of each post a `send` (or its dry run) lists."""
    return [(m[1], m[2], int(m[3])) for line in out.splitlines() if (m := _POST.match(line))]


async def test_send_picks_only_from_the_destinations_feeds(tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, out, err = await run_cli_async("send", "nlp-digest", "--dry-run", "--config", str(config))
    assert code == 0, err
    assert [label for _, label, _ in _posts(out)] == ["digest · dair.ai #7 (FR)"]  # not This Week in Rust #635
    assert "This Week in Rust" not in out
    code, out, err = await run_cli_async("send", "nlp-digest", "--issue", "635", "--dry-run", "--config", str(config))
    assert code == 1 and err.strip() == "error: no stored issue #635 for destination 'nlp-digest' (feeds: nlp)"
    code, out, err = await run_cli_async("send", "rust", "--issue", "634", "--dry-run", "--config", str(config))
    assert code == 0, err
    labels = [label for _, label, _ in _posts(out)]
    assert labels and all(label.endswith("· This Week in Rust #634 (EN)") for label in labels)


async def test_send_section_leaves_the_plan_byte_identical(tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, _, err = await run_cli_async("ingest", "--config", str(config))  # fr-drip has received nothing yet
    assert code == 0, err
    code, before, err = await run_cli_async("plan", "--json", "--at", AT, "--config", str(config))
    assert code == 0, err
    assert "#4 (FR)" not in before and "#7 (FR)" in before  # fr-drip receives #7 onwards, not #4
    code, out, err = await run_cli_async("send", "fr-drip", "--issue", "4", "--section", "tools_datasets",
                                         "--config", str(config))
    assert code == 0, err
    assert _posts(out) == [("fr-drip", "Outils et jeux de données ⚙️ · dair.ai #4 (FR)", 2)]
    code, after, err = await run_cli_async("plan", "--json", "--at", AT, "--config", str(config))
    assert code == 0, err
    assert after == before


async def test_dry_run_lists_the_posts_the_real_send_posts_index_included(tmp_path: Path) -> None:
    config = _config(tmp_path)
    for name in ("rust", "nlp-digest"):
        code, dry, err = await run_cli_async("send", name, "--dry-run", "--config", str(config))
        assert code == 0, err
        planned = _posts(dry)
        code, out, err = await run_cli_async("send", name, "--config", str(config))
        assert code == 0, err
        assert all(line.endswith(": delivered") for line in out.splitlines() if line.startswith(f"{name} ← "))
        assert _posts(out) == planned, name
    assert planned == [("nlp-digest", "digest · dair.ai #7 (FR)", 1)]
    code, dry, err = await run_cli_async("send", "rust", "--issue", "635", "--dry-run", "--config", str(config))
    assert code == 0 and _posts(dry) == []  # already delivered: the real send would post nothing either
    code, out, err = await run_cli_async("send", "rust", "--issue", "635", "--config", str(config))
    assert code == 0 and "nothing new to send" in out


async def test_send_while_run_runs_is_delivered_by_the_running_service(tmp_path: Path) -> None:
    config = _config(tmp_path)
    db = tmp_path / "bot.db"
    log = tmp_path / "run.log"
    with log.open("wb") as err_file:
        proc = await start_run_async("run", "--config", str(config), stderr=err_file)
        try:
            await until(lambda: db.is_file() and holder(str(db)) is not None, "run to hold the database", timeout=30)
            await until(lambda: "rust ← index · This Week in Rust #635" in log.read_text(encoding="utf-8"),
                        "run's first deliveries", timeout=60)
            code, dry, err = await run_cli_async("send", "rust", "--issue", "633", "--dry-run", "--config", str(config))
            assert code == 0, err  # the dry run only reads: no "in use by process"
            code, out, err = await run_cli_async("send", "rust", "--issue", "633", "--config", str(config))
            assert code == 0, err
            assert f"digestbot is running (process {proc.pid})" in err
            posts = _posts(out)
            assert posts and posts == _posts(dry)
            assert out.strip().endswith(f"rust: {len(posts)} of {len(posts)} posts delivered")
            served = log.read_text(encoding="utf-8")
            for _, label, _ in posts:  # the running service's worker delivered each of them
                assert f"rust ← {label}" in served
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 30)
    assert code == 0, log.read_text(encoding="utf-8")[-2000:]


async def test_status_shows_a_subscribe_override_and_reset_drops_it(tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, _, err = await run_cli_async("ingest", "--config", str(config))
    assert code == 0, err
    store = Store(tmp_path / "bot.db")
    engine = QueryEngine(store, destinations=[destination_from_config(d) for d in load_config(config).destinations])
    answer = engine.answer(Query(parse_command("/subscribe outils | cron @daily"), lang="fr", platform="console",
                                 chat="fr-drip", user="alice", is_admin=True, is_private=False))
    assert isinstance(answer, Subscribed), answer
    store.close()
    code, out, err = await run_cli_async("status", "--json", "--config", str(config))
    assert code == 0, err
    selection = {d["name"]: d for d in json.loads(out)["destinations"]}["fr-drip"]["selection"]
    assert selection["sections"] == ["tools_datasets"] and selection["overridden"] is True
    assert selection["feeds"] == ["nlp"] and selection["languages"] == ["fr"]  # config.toml's stay
    assert (selection["changed_by"], selection["changed_in"]) == ("alice", "fr-drip")
    assert selection["source"].startswith("changed by /subscribe in chat fr-drip at ")
    code, text, err = await run_cli_async("status", "--config", str(config))
    assert code == 0, err
    (line,) = [line for line in text.splitlines() if line.strip().startswith("fr-drip: feeds")]
    assert "sections tools_datasets" in line and "changed by /subscribe in chat fr-drip" in line
    code, out, err = await run_cli_async("reset", "fr-drip", "--config", str(config))
    assert code == 0, err
    assert "override dropped" in out and "sections *" in out
    code, out, err = await run_cli_async("status", "--json", "--config", str(config))
    selection = {d["name"]: d for d in json.loads(out)["destinations"]}["fr-drip"]["selection"]
    assert selection["sections"] == ["*"] and selection["source"] == "config.toml" and not selection["overridden"]
    code, out, err = await run_cli_async("reset", "fr-drip", "--config", str(config))
    assert code == 1 and "has no /subscribe override" in err
