"""The console delivery log holds every post: created 0600 and rotated by size, never unbounded
(black-box: the real CLI delivering the corpus to console destinations)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.harness.cli import run_cli_on
from tests.harness.config import ConfigFile


def _config(folder: Path, log: Path, max_bytes: int) -> Path:
    config = ConfigFile(folder).storage().feed().table("console", log=log, log_max_bytes=max_bytes)
    for n in range(3):
        config.destination(f"c{n}", "console", languages=["fr"])
    return config.write()


def test_console_log_is_private_and_rotated_by_size(tmp_path: Path) -> None:
    log = tmp_path / "deliveries.jsonl"
    config = _config(tmp_path, log, 8192)
    run = run_cli_on(config, "run", "--once")
    assert run.returncode == 0, run.stderr
    files = [log, *(Path(f"{log}.{n}") for n in (1, 2, 3))]
    assert all(f.exists() for f in files), sorted(p.name for p in tmp_path.iterdir())
    assert not Path(f"{log}.4").exists()  # three kept, older ones dropped
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
        lines = file.read_text(encoding="utf-8").splitlines()
        assert lines and all(json.loads(line)["op"] in ("send", "edit") for line in lines)
        assert file.stat().st_size <= 8192 or len(lines) == 1  # only a single larger post exceeds it


def test_an_existing_readable_log_is_made_private(tmp_path: Path) -> None:
    log = tmp_path / "deliveries.jsonl"
    log.write_text("", encoding="utf-8")
    log.chmod(0o644)
    run = run_cli_on(_config(tmp_path, log, 64 * 1024 * 1024), "run", "--once")
    assert run.returncode == 0, run.stderr
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert not Path(f"{log}.1").exists()  # under the limit: nothing rotated


def test_check_config_names_a_too_small_limit(tmp_path: Path) -> None:
    result = run_cli_on(_config(tmp_path, tmp_path / "d.jsonl", 10), "check-config")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0].startswith("console.log_max_bytes:"), result.stderr
