"""One instance, really: a symlinked `storage.path` or a deleted `<db>.lock` never lets a second bot start.

Black-box, as an operator would get there: a running `digestbot run` (real CLI subprocess), then a
second `run` through a symlink to the same database, or after `rm bot.db.lock`.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.harness.cli import one_line, run_cli_on, start_run_on, stop
from tests.harness.config import console_deployment
from tests.harness.poll import wait_until
from tests.harness.probes import console_log


def test_a_symlinked_storage_path_is_the_same_database(tmp_path: Path) -> None:
    real_dir = tmp_path / "data"
    real_dir.mkdir()
    db = real_dir / "bot.db"
    link = tmp_path / "link.db"
    link.symlink_to(db)
    log = tmp_path / "deliveries.jsonl"
    first = start_run_on(console_deployment(real_dir, db, log=log))
    try:
        wait_until(lambda: len(console_log(log)) >= 1, "the first bot delivering", proc=first)
        other = tmp_path / "other"
        other.mkdir()
        second = run_cli_on(console_deployment(other, link), "run", "--once")
        assert second.returncode != 0
        line = one_line(second.stderr)
        assert f"process {first.pid}" in line, line
    finally:
        code, err = stop(first)
    assert "Traceback" not in err


def test_deleting_the_lock_file_does_not_let_a_second_run_in(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    log = tmp_path / "deliveries.jsonl"
    config = console_deployment(tmp_path, db, log=log)
    first = start_run_on(config)
    try:
        wait_until(lambda: len(console_log(log)) >= 1, "the first bot delivering", proc=first)
        lock = Path(f"{db}.lock")
        assert lock.exists()
        lock.unlink()
        second = run_cli_on(config, "run", "--once")
        assert second.returncode != 0, second.stderr
        line = one_line(second.stderr)
        assert "in use by" in line and str(db) in line, line
        assert f"process {first.pid}" in line, line  # found from the kernel's lock table
        send = run_cli_on(config, "send", "console-0")  # never delivers beside it: hands the posts to the holder
        assert f"process {first.pid}" in one_line(send.stderr), send.stderr
        assert first.poll() is None
        status = run_cli_on(config, "status", "--json")
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["storage"]["running_pid"] == first.pid
    finally:
        stop(first)
    again = run_cli_on(config, "run", "--once")  # and once it has stopped, the next start is not blocked
    assert again.returncode == 0, again.stderr
