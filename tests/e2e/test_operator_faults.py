"""Operator faults, as an operator meets them: two `digestbot run` on one database, storage that is
missing, read-only or full, and file modes of what the bot writes.

Every test runs the real CLI as a subprocess; storage faults use a real size-limited or read-only
file system (tmpfs, mounted by the test when the machine allows it, skipped with the reason otherwise).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness.corpus import CORPUS

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT", "TELEGRAM", "DISCORD"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def _config(folder: Path, db: Path | str, *, destinations: int = 1, poll: str = "1h", log: Path | None = None,
            delay: float = 0.0) -> Path:
    lines = [f'[storage]\npath = "{db}"\n', f'[[feeds]]\nname = "nlp"\nurl = "{CORPUS}"\npoll_interval = "{poll}"\n']
    if log is not None:  # the console's JSON-lines delivery log, and how slow each send is
        lines.append(f'[console]\nlog = "{log}"\ndelay = {delay}\n')
    for n in range(destinations):
        lines.append(f'[[destinations]]\nname = "console-{n}"\nplatform = "console"\nlanguages = ["fr"]\n')
    path = folder / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _cli(config: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args, "--config", str(config)], capture_output=True,
                          text=True, timeout=120, env=_env(**env), cwd=config.parent)


def _start(config: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "app.cli", "run", *args, "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=_env(**env), cwd=config.parent)


def _lines(log: Path) -> list[dict[str, str]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.endswith("}")]


def _wait(predicate: object, what: str, timeout: float = 60.0, proc: subprocess.Popen[str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"digestbot exited ({proc.returncode}) while waiting for {what}: "
                                 f"{proc.stderr.read() if proc.stderr else ''}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, stderr
    return lines[0]


# ---------------------------------------------------------------------- one instance per database
def test_two_runs_on_a_fresh_database_leave_one_running_and_the_other_names_its_pid(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    log = tmp_path / "deliveries.jsonl"
    config = _config(tmp_path, db, destinations=3, log=log)
    first, second = _start(config), _start(config)  # race for a database that does not exist
    procs = [first, second]
    try:
        _wait(lambda: any(p.poll() is not None for p in procs), "one of the two to give way", 60)
        loser = next(p for p in procs if p.poll() is not None)
        winner = second if loser is first else first
        _, err = loser.communicate(timeout=10)
        assert loser.returncode != 0
        line = _one_line(err)
        assert f"process {winner.pid}" in line and str(db) in line, line
        assert "database is locked" not in err

        # once it has delivered, a third start is refused at once as well
        _wait(lambda: len(_lines(log)) >= 3, "deliveries", proc=winner)
        third = _cli(config, "run")
        assert third.returncode != 0 and f"process {winner.pid}" in _one_line(third.stderr)
        send = _cli(config, "send", "console-0")  # a send does not deliver itself: it hands over to the bot
        assert send.returncode == 0, send.stderr
        handed = f"console-0: digestbot is running (process {winner.pid}); handing the posts to it"
        assert _one_line(send.stderr) == handed

        # read-only commands work beside the running bot
        status = _cli(config, "status", "--json")
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["storage"]["running_pid"] == winner.pid
        ask = _cli(config, "ask", "/sections", "--lang", "fr")
        assert ask.returncode == 0 and ask.stdout.strip(), ask.stderr
        preview = _cli(config, "preview", "--issue", "4", "--lang", "fr")
        assert preview.returncode == 0 and "#4" in preview.stdout
        assert _cli(config, "retry", "console-0").returncode == 0  # a maintenance command, not a delivery

        # SIGKILL leaves no lock behind: the kernel drops it with the process
        winner.kill()
        winner.wait()
        again = _cli(config, "run", "--once")
        assert again.returncode == 0, again.stderr
    finally:
        for proc in procs:
            _stop(proc)
    sends = [(r["dest"], r["key"]) for r in _lines(log) if r["op"] == "send"]
    assert len(sends) - len(set(sends)) <= 1  # at most the part in flight at the SIGKILL, never a second bot's


def test_status_racing_a_first_run_on_a_fresh_database_never_sees_it_locked(tmp_path: Path) -> None:
    """Schema set-up takes its write lock up front, so the busy timeout applies instead of an instant
    `database is locked` when two processes create the same new database."""
    for round_number in range(3):
        db = tmp_path / f"bot-{round_number}.db"
        config = _config(tmp_path, db)
        readers = [subprocess.Popen([sys.executable, "-m", "app.cli", "status", "--json", "--config", str(config)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env(),
                                    cwd=tmp_path) for _ in range(3)]
        run = _cli(config, "run", "--once")
        assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
        for reader in readers:
            _, err = reader.communicate(timeout=60)
            assert reader.returncode == 0 and not err.strip(), err


def test_database_wal_shm_and_lock_files_are_private(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    config = _config(tmp_path, db, log=tmp_path / "d.jsonl")
    proc = _start(config)
    try:
        _wait(lambda: len(_lines(tmp_path / "d.jsonl")) >= 1, "a delivery", proc=proc)
        modes = {path.name: stat.S_IMODE(path.stat().st_mode)
                 for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}.lock"))}
    finally:
        code, err = _stop(proc)
    assert code == 0, err
    assert modes == dict.fromkeys(modes, 0o600), {k: oct(v) for k, v in modes.items()}


# ---------------------------------------------------------------------- storage faults at start
@pytest.mark.parametrize("command", [("run", "--once"), ("status",), ("ingest",), ("send", "console-0")])
@pytest.mark.parametrize("case", ["folder", "missing folder"])
def test_a_bad_storage_path_is_one_line_and_exit_2(tmp_path: Path, case: str, command: tuple[str, ...]) -> None:
    db = tmp_path if case == "folder" else tmp_path / "nowhere" / "bot.db"
    result = _cli(_config(tmp_path, db), *command)
    assert result.returncode == 2, result.stderr
    line = _one_line(result.stderr)
    assert line.startswith(f"error: storage.path {db}: ")
    assert ("names a folder" in line) if case == "folder" else ("does not exist" in line)
    assert not (tmp_path / "nowhere").exists()  # a typo never quietly starts an empty bot


@contextlib.contextmanager
def _tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A small real file system of its own; skips the test when this machine does not allow mounting."""
    where.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root on Linux (the storage seam test covers the logic)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _fill(folder: Path) -> Path:
    """Take every free byte of the file system; returns the filler to delete to make room again."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (1 << 16, 512, 1):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * chunk):
                    pass
    finally:
        os.close(fd)
    return filler


def test_read_only_storage_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "mnt", "16m") as mnt:
        db = mnt / "bot.db"
        config = _config(tmp_path, db)
        assert _cli(config, "ingest").returncode == 0
        remount = subprocess.run(["mount", "-o", "remount,ro", str(mnt)], capture_output=True, text=True)
        if remount.returncode != 0:
            pytest.skip(f"cannot remount read-only: {remount.stderr.strip()}")
        for command in (("run", "--once"), ("send", "console-0"), ("ingest",)):
            result = _cli(config, *command)
            assert result.returncode == 2, (command, result.stderr)
            line = _one_line(result.stderr)
            assert line.startswith(f"error: storage.path {db}: ") and "read-only" in line, line


def test_a_full_disk_at_start_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "mnt", "16m") as mnt:
        db = mnt / "bot.db"
        config = _config(tmp_path, db)
        assert _cli(config, "ingest").returncode == 0
        _fill(mnt)
        result = _cli(config, "run", "--once")
        assert result.returncode == 2, result.stderr
        line = _one_line(result.stderr)
        assert line.startswith(f"error: storage.path {db}: ") and "full" in line, line
        fresh = _cli(_config(tmp_path, mnt / "fresh.db"), "run", "--once")  # cannot even be created
        assert fresh.returncode == 2 and "full" in _one_line(fresh.stderr), fresh.stderr


# ---------------------------------------------------------------------- a full disk while running
def test_a_disk_that_fills_up_while_running_is_waited_out_and_nothing_is_lost(tmp_path: Path) -> None:
    """Fill the disk mid-delivery: one log line, `status` shows it, delivery resumes once there is room."""
    with _tmpfs(tmp_path / "mnt", "24m") as mnt:
        db = mnt / "bot.db"
        log = tmp_path / "deliveries.jsonl"
        config = _config(tmp_path, db, destinations=4, log=log, delay=0.05)
        proc = _start(config)
        filler: Path | None = None
        try:
            _wait(lambda: len(_lines(log)) >= 4, "the first deliveries", proc=proc)
            filler = _fill(mnt)
            _wait(lambda: "full" in (_storage(config)["error"] or ""), "status to show the full disk", proc=proc)
            stalled = len(_lines(log))
            storage = _storage(config)
            assert storage["running_pid"] == proc.pid and storage["error_since"]
            text = _cli(config, "status")
            assert text.returncode == 0 and "CANNOT WRITE: the disk is full" in text.stdout, text.stdout
            filler.unlink()
            _wait(lambda: _storage(config)["error"] is None, "the bot to find room again", proc=proc)
            _wait(lambda: _open_rows(config) == 0, "every post to go out", proc=proc)
        finally:
            code, err = _stop(proc)
        assert code == 0, err
        assert "Traceback" not in err, err
        assert err.count("cannot write") == 1, err  # once when it started, not once per attempt
        assert err.count("writable again") == 1, err
        sends = [(r["dest"], r["key"]) for r in _lines(log) if r["op"] == "send"]
        per_dest = {d: len({k for dd, k in sends if dd == d}) for d, _ in sends}
        assert len(per_dest) == 4 and len(set(per_dest.values())) == 1, per_dest  # everyone got everything
        assert len(sends) - len(set(sends)) <= 4  # at most the part in flight per destination, re-sent
        assert stalled < len(sends)


def _storage(config: Path) -> dict[str, Any]:
    status = _cli(config, "status", "--json")
    assert status.returncode == 0, status.stderr
    return dict(json.loads(status.stdout)["storage"])


def _open_rows(config: Path) -> int:
    status = _cli(config, "status", "--json")
    counts = [d["outbox"] for d in json.loads(status.stdout)["destinations"]]
    return sum(c["pending"] + c["sending"] + c["failed"] for c in counts) if counts else -1
