"""The CLI as tests run it: in-process through click's `CliRunner`, or `python -m app.cli` as a process.

A process gets a clean environment (no DIGESTBOT_*, TELEGRAM_*, DISCORD_* from the developer's shell)
plus what the test passes, and `PYTHONPATH` pointing at this checkout. Only tests under tests/e2e/ start
processes (tests/test_layout.py checks it), so `pytest -m "not subprocess"` really skips them all.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, NamedTuple

from click.testing import CliRunner, Result

from app.cli import main
from tests.harness.paths import ROOT

__all__ = ["CliResult", "check_config", "check_config_online", "clean_env", "invoke", "one_line", "run_cli",
           "run_cli_async", "run_cli_on", "run_cli_on_async", "start_run", "start_run_async", "start_run_on", "stop"]

_OURS = ("DIGESTBOT", "TELEGRAM", "DISCORD")


class CliResult(NamedTuple):
    """What an async run of the CLI gave: exit code, stdout, stderr (decoded)."""

    code: int
    out: str
    err: str


def clean_env(extra: Mapping[str, str] | None = None, **more: str) -> dict[str, str]:
    """This process's environment without our variables, with this checkout importable, plus the extras."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra or {})
    env.update(more)
    return env


def _command(args: tuple[str, ...]) -> list[str]:
    return [sys.executable, "-m", "app.cli", *args]


def invoke(*args: str, env: Mapping[str, str] | None = None) -> Result:
    """`digestbot ARGS` in this process (click's runner): fast, for what needs no process of its own."""
    return CliRunner().invoke(main, list(args), env=dict(env) if env else None)


def run_cli(*args: str, env: Mapping[str, str] | None = None, cwd: Path = ROOT,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`python -m app.cli ARGS` to completion, output captured as text."""
    return subprocess.run(_command(args), capture_output=True, text=True, timeout=timeout, env=clean_env(env),
                          cwd=cwd)


async def run_cli_async(*args: str, env: Mapping[str, str] | None = None, cwd: Path = ROOT,
                        timeout: float = 120) -> CliResult:
    """`run_cli` for async tests: the fakes in this event loop keep answering while the CLI runs."""
    proc = await asyncio.create_subprocess_exec(*_command(args), env=clean_env(env), cwd=cwd,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return CliResult(proc.returncode, out.decode(), err.decode())


def start_run(*args: str, env: Mapping[str, str] | None = None, cwd: Path = ROOT,
              stdout: int | IO[str] | None = subprocess.DEVNULL,
              stderr: int | IO[str] | None = subprocess.PIPE) -> subprocess.Popen[str]:
    """`python -m app.cli ARGS` started and left running (usually `run ...`); stop it with `stop`."""
    return subprocess.Popen(_command(args), stdout=stdout, stderr=stderr, text=True, env=clean_env(env), cwd=cwd)


async def start_run_async(*args: str, env: Mapping[str, str] | None = None, cwd: Path = ROOT,
                          stdout: int | IO[bytes] | None = asyncio.subprocess.DEVNULL,
                          stderr: int | IO[bytes] | None = asyncio.subprocess.PIPE) -> asyncio.subprocess.Process:
    """`start_run` for async tests."""
    return await asyncio.create_subprocess_exec(*_command(args), env=clean_env(env), cwd=cwd, stdout=stdout,
                                                stderr=stderr)


def run_cli_on(config: Path, *args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`digestbot ARGS --config CONFIG`, run in the config's folder (as an operator beside it would)."""
    return run_cli(*args, "--config", str(config), env=env, cwd=config.parent)


async def run_cli_on_async(config: Path, *args: str, env: Mapping[str, str] | None = None,
                           timeout: float = 120) -> CliResult:
    """`run_cli_on` for async tests."""
    return await run_cli_async(*args, "--config", str(config), env=env, cwd=config.parent, timeout=timeout)


def start_run_on(config: Path, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """`digestbot run ARGS --config CONFIG` left running in the config's folder; stderr piped for `stop`."""
    return start_run("run", *args, "--config", str(config), env=env, cwd=config.parent)


def check_config(config: Path, *extra: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`digestbot check-config --config CONFIG EXTRA…` as a maintainer runs it."""
    return run_cli("check-config", "--config", str(config), *extra, env=env)


async def check_config_online(config: Path, env: Mapping[str, str] | None = None) -> CliResult:
    """`digestbot check-config --online`, while the test's fake platforms answer in this event loop."""
    return await run_cli_async("check-config", "--online", "--config", str(config), env=env)


def stop(proc: subprocess.Popen[str], timeout: float = 30) -> tuple[int, str]:
    """SIGTERM, then its exit code and stderr; killed after `timeout` so a hang fails rather than blocks."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err or ""


def one_line(stderr: str) -> str:
    """The one line an error gives a user: no traceback, nothing else on stderr."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, stderr
    return lines[0]
