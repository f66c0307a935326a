"""A failed start on a full disk leaves no empty database behind, and `status` still answers read-only.

Black-box on a real full file system (tmpfs, root only; skipped with the reason elsewhere). The same
failed start through the storage seam, which runs anywhere: tests/bot/storage/test_failed_start.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.harness.cli import one_line, run_cli_on
from tests.harness.config import console_deployment
from tests.harness.disk import fill, tmpfs


def test_full_disk_failed_start_then_status(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "mnt", "16m") as mnt:
        db = mnt / "bot.db"
        config = console_deployment(tmp_path, db)
        assert run_cli_on(config, "ingest").returncode == 0  # a database without the scheduler's tables yet
        fill(mnt)
        fresh_dir = tmp_path / "fresh"
        fresh_dir.mkdir()
        fresh = mnt / "fresh.db"
        fresh_config = console_deployment(fresh_dir, fresh)
        for command in (("run", "--once"), ("ingest",)):
            failed = run_cli_on(fresh_config, *command)
            assert failed.returncode == 2 and "full" in one_line(failed.stderr), failed.stderr
            assert not fresh.exists(), command  # no empty database left behind
        status = run_cli_on(fresh_config, "status")
        assert status.returncode == 2 and "unexpected" not in status.stderr
        assert "full" in one_line(status.stderr)
        status = run_cli_on(config, "status", "--json")  # the existing database, read without writing
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        assert report["storage"]["path"] == str(db)
