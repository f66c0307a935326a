"""Operator faults, as an operator meets them: two `digestbot run` on one database, storage that is
missing, read-only or full, and file modes of what the bot writes.

Every test runs the real CLI as a subprocess; storage faults use a real size-limited or read-only
file system (tmpfs, mounted by the test when the machine allows it, skipped with the reason otherwise).
"""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.harness.cli import one_line, run_cli_on, start_run, start_run_on, stop
from tests.harness.config import console_deployment
from tests.harness.disk import fill, tmpfs
from tests.harness.poll import wait_until
from tests.harness.probes import console_log


# ---------------------------------------------------------------------- one instance per database
def test_two_runs_on_a_fresh_database_leave_one_running_and_the_other_names_its_pid(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    log = tmp_path / "deliveries.jsonl"
    config = console_deployment(tmp_path, db, destinations=3, log=log)
    first, second = start_run_on(config), start_run_on(config)  # race for a database that does not exist
    procs = [first, second]
    try:
        wait_until(lambda: any(p.poll() is not None for p in procs), "one of the two to give way", timeout=60)
        loser = next(p for p in procs if p.poll() is not None)
        winner = second if loser is first else first
        _, err = loser.communicate(timeout=10)
        assert loser.returncode != 0
        line = one_line(err)
        assert f"process {winner.pid}" in line and str(db) in line, line
        assert "database is locked" not in err

        # once it has delivered, a third start is refused at once as well
        wait_until(lambda: len(console_log(log)) >= 3, "deliveries", proc=winner)
        third = run_cli_on(config, "run")
        assert third.returncode != 0 and f"process {winner.pid}" in one_line(third.stderr)
        send = run_cli_on(config, "send", "console-0")  # a send does not deliver itself: it hands over to the bot
        assert send.returncode == 0, send.stderr
        handed = f"console-0: digestbot is running (process {winner.pid}); handing the posts to it"
        assert one_line(send.stderr) == handed

        # read-only commands work beside the running bot
        status = run_cli_on(config, "status", "--json")
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["storage"]["running_pid"] == winner.pid
        ask = run_cli_on(config, "ask", "/sections", "--lang", "fr")
        assert ask.returncode == 0 and ask.stdout.strip(), ask.stderr
        preview = run_cli_on(config, "preview", "--issue", "4", "--lang", "fr")
        assert preview.returncode == 0 and "#4" in preview.stdout
        assert run_cli_on(config, "retry", "console-0").returncode == 0  # a maintenance command, not a delivery

        # SIGKILL leaves no lock behind: the kernel drops it with the process
        winner.kill()
        winner.wait()
        again = run_cli_on(config, "run", "--once")
        assert again.returncode == 0, again.stderr
    finally:
        for proc in procs:
            stop(proc)
    sends = [(r["dest"], r["key"]) for r in console_log(log) if r["op"] == "send"]
    assert len(sends) - len(set(sends)) <= 1  # at most the part in flight at the SIGKILL, never a second bot's


def test_status_racing_a_first_run_on_a_fresh_database_never_sees_it_locked(tmp_path: Path) -> None:
    """Schema set-up takes its write lock up front, so the busy timeout applies instead of an instant
    `database is locked` when two processes create the same new database."""
    for round_number in range(3):
        db = tmp_path / f"bot-{round_number}.db"
        config = console_deployment(tmp_path, db)
        readers = [start_run("status", "--json", "--config", str(config), cwd=tmp_path) for _ in range(3)]
        run = run_cli_on(config, "run", "--once")
        assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
        for reader in readers:
            _, err = reader.communicate(timeout=60)
            assert reader.returncode == 0 and not err.strip(), err


def test_database_wal_shm_and_lock_files_are_private(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    config = console_deployment(tmp_path, db, log=tmp_path / "d.jsonl")
    proc = start_run_on(config)
    try:
        wait_until(lambda: len(console_log(tmp_path / "d.jsonl")) >= 1, "a delivery", proc=proc)
        modes = {path.name: stat.S_IMODE(path.stat().st_mode)
                 for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}.lock"))}
    finally:
        code, err = stop(proc)
    assert code == 0, err
    assert modes == dict.fromkeys(modes, 0o600), {k: oct(v) for k, v in modes.items()}


# ---------------------------------------------------------------------- storage faults at start
@pytest.mark.parametrize("command", [("run", "--once"), ("status",), ("ingest",), ("send", "console-0")])
@pytest.mark.parametrize("case", ["folder", "missing folder"])
def test_a_bad_storage_path_is_one_line_and_exit_2(tmp_path: Path, case: str, command: tuple[str, ...]) -> None:
    db = tmp_path if case == "folder" else tmp_path / "nowhere" / "bot.db"
    result = run_cli_on(console_deployment(tmp_path, db), *command)
    assert result.returncode == 2, result.stderr
    line = one_line(result.stderr)
    assert line.startswith(f"error: storage.path {db}: ")
    assert ("names a folder" in line) if case == "folder" else ("does not exist" in line)
    assert not (tmp_path / "nowhere").exists()  # a typo never quietly starts an empty bot


def test_read_only_storage_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "mnt", "16m") as mnt:
        db = mnt / "bot.db"
        config = console_deployment(tmp_path, db)
        assert run_cli_on(config, "ingest").returncode == 0
        remount = subprocess.run(["mount", "-o", "remount,ro", str(mnt)], capture_output=True, text=True)
        if remount.returncode != 0:
            pytest.skip(f"cannot remount read-only: {remount.stderr.strip()}")
        for command in (("run", "--once"), ("send", "console-0"), ("ingest",)):
            result = run_cli_on(config, *command)
            assert result.returncode == 2, (command, result.stderr)
            line = one_line(result.stderr)
            assert line.startswith(f"error: storage.path {db}: ") and "read-only" in line, line


def test_a_full_disk_at_start_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "mnt", "16m") as mnt:
        db = mnt / "bot.db"
        config = console_deployment(tmp_path, db)
        assert run_cli_on(config, "ingest").returncode == 0
        fill(mnt)
        result = run_cli_on(config, "run", "--once")
        assert result.returncode == 2, result.stderr
        line = one_line(result.stderr)
        assert line.startswith(f"error: storage.path {db}: ") and "full" in line, line
        fresh = run_cli_on(console_deployment(tmp_path, mnt / "fresh.db"), "run", "--once")  # cannot even be created
        assert fresh.returncode == 2 and "full" in one_line(fresh.stderr), fresh.stderr


# ---------------------------------------------------------------------- a full disk while running
def test_a_disk_that_fills_up_while_running_is_waited_out_and_nothing_is_lost(tmp_path: Path) -> None:
    """Fill the disk mid-delivery: one log line, `status` shows it, delivery resumes once there is room."""
    with tmpfs(tmp_path / "mnt", "24m") as mnt:
        db = mnt / "bot.db"
        log = tmp_path / "deliveries.jsonl"
        config = console_deployment(tmp_path, db, destinations=4, log=log, delay=0.05)
        proc = start_run_on(config)
        filler: Path | None = None
        try:
            wait_until(lambda: len(console_log(log)) >= 4, "the first deliveries", proc=proc)
            filler = fill(mnt)
            wait_until(lambda: "full" in (_storage(config)["error"] or ""), "status to show the full disk", proc=proc)
            stalled = len(console_log(log))
            storage = _storage(config)
            assert storage["running_pid"] == proc.pid and storage["error_since"]
            text = run_cli_on(config, "status")
            assert text.returncode == 0 and "CANNOT WRITE: the disk is full" in text.stdout, text.stdout
            filler.unlink()
            wait_until(lambda: _storage(config)["error"] is None, "the bot to find room again", proc=proc)
            wait_until(lambda: _open_rows(config) == 0, "every post to go out", proc=proc)
        finally:
            code, err = stop(proc)
        assert code == 0, err
        assert "Traceback" not in err, err
        assert err.count("cannot write") == 1, err  # once when it started, not once per attempt
        assert err.count("writable again") == 1, err
        sends = [(r["dest"], r["key"]) for r in console_log(log) if r["op"] == "send"]
        per_dest = {d: len({k for dd, k in sends if dd == d}) for d, _ in sends}
        assert len(per_dest) == 4 and len(set(per_dest.values())) == 1, per_dest  # everyone got everything
        assert len(sends) - len(set(sends)) <= 4  # at most the part in flight per destination, re-sent
        assert stalled < len(sends)


def _storage(config: Path) -> dict[str, Any]:
    status = run_cli_on(config, "status", "--json")
    assert status.returncode == 0, status.stderr
    return dict(json.loads(status.stdout)["storage"])


def _open_rows(config: Path) -> int:
    status = run_cli_on(config, "status", "--json")
    counts = [d["outbox"] for d in json.loads(status.stdout)["destinations"]]
    return sum(c["pending"] + c["sending"] + c["failed"] for c in counts) if counts else -1
