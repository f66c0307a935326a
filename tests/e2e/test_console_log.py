"""The console delivery log holds every post: created 0600 and rotated by size, never unbounded
(black-box: the real CLI delivering the corpus to console destinations)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.e2e.test_operator_faults import _cli
from tests.harness.corpus import CORPUS


def _config(folder: Path, log: Path, max_bytes: int) -> Path:
    path = folder / "config.toml"
    path.write_text(f'[storage]\npath = "{folder / "bot.db"}"\n[[feeds]]\nname = "nlp"\nurl = "{CORPUS}"\n'
                    f'[console]\nlog = "{log}"\nlog_max_bytes = {max_bytes}\n'
                    + "".join(f'[[destinations]]\nname = "c{n}"\nplatform = "console"\nlanguages = ["fr"]\n'
                              for n in range(3)), encoding="utf-8")
    return path


def test_console_log_is_private_and_rotated_by_size(tmp_path: Path) -> None:
    log = tmp_path / "deliveries.jsonl"
    config = _config(tmp_path, log, 8192)
    run = _cli(config, "run", "--once")
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
    run = _cli(_config(tmp_path, log, 64 * 1024 * 1024), "run", "--once")
    assert run.returncode == 0, run.stderr
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert not Path(f"{log}.1").exists()  # under the limit: nothing rotated


def test_check_config_names_a_too_small_limit(tmp_path: Path) -> None:
    result = _cli(_config(tmp_path, tmp_path / "d.jsonl", 10), "check-config")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0].startswith("console.log_max_bytes:"), result.stderr
