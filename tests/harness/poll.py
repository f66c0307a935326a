"""Poll until a condition holds, with a deadline and a message: what tests do instead of sleeping.

`wait_until` (sync) and `until` (async) fail with `what` in the message when the deadline passes, and
fail at once when the process they are watching exits first, with its exit code (and stderr when piped).
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable

__all__ = ["until", "wait_until"]

_Watched = subprocess.Popen[str] | subprocess.Popen[bytes] | asyncio.subprocess.Process | None


def _check(what: str, deadline: float, proc: _Watched, show: Callable[[], object]) -> None:
    if isinstance(proc, subprocess.Popen) and proc.poll() is not None:
        err = proc.stderr.read() if proc.stderr else ""
        raise AssertionError(f"digestbot exited ({proc.returncode}) while waiting for {what}: {err!s}")
    if isinstance(proc, asyncio.subprocess.Process) and proc.returncode is not None:
        raise AssertionError(f"digestbot exited ({proc.returncode}) while waiting for {what}")
    if time.monotonic() > deadline:
        raise AssertionError(f"timed out waiting for {what} {show()}".rstrip())


def wait_until(predicate: Callable[[], object], what: str, *, timeout: float = 60.0, every: float = 0.05,
               proc: _Watched = None, show: Callable[[], object] = lambda: "") -> None:
    """Block until `predicate()` is true; `show()` adds what was seen instead to the timeout message."""
    deadline = time.monotonic() + timeout
    while not predicate():
        _check(what, deadline, proc, show)
        time.sleep(every)


async def until(predicate: Callable[[], object], what: str, *, timeout: float = 30.0, every: float = 0.05,
                proc: _Watched = None, show: Callable[[], object] = lambda: "") -> None:
    """`wait_until` for async tests: the event loop (fakes, the service under test) runs meanwhile."""
    deadline = time.monotonic() + timeout
    while not predicate():
        _check(what, deadline, proc, show)
        await asyncio.sleep(every)
