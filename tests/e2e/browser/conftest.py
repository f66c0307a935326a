"""Browser tests need Debian's Chromium and Playwright for Python; without them they skip, and the
run ends with one line saying so and how to install what they need (`.ci/run` installs Chromium
and sets DIGESTBOT_BROWSER_TESTS=required, which turns the skip into a failure)."""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest
from _pytest.terminal import TerminalReporter

CHROMIUM = os.environ.get("DIGESTBOT_CHROMIUM", "/usr/bin/chromium")  # Debian's package puts it here
SKIP_REASON = "browser tests skipped"
INSTALL = ("apt-get update && apt-get install -y --no-install-recommends chromium "
           "(and `pip install -e '.[dev]'` for Playwright; never `playwright install`)")


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if shutil.which(CHROMIUM) is None:
        return f"{SKIP_REASON}: {CHROMIUM} not found"
    if importlib.util.find_spec("playwright") is None:
        return f"{SKIP_REASON}: Playwright for Python is not installed"
    return None


_NOTICE = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter: TerminalReporter, config: pytest.Config) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if SKIP_REASON in str(r.longrepr)]
    if skipped:
        config.stash[_NOTICE] = (f"{len(skipped)} web panel browser tests skipped (no Chromium here); "
                                 f"to run them: {INSTALL}")


def pytest_unconfigure(config: pytest.Config) -> None:
    """After pytest's own summary line, so it is the last line of `make test`."""
    notice = config.stash.get(_NOTICE, None)
    if notice:
        config.get_terminal_writer().line(notice, yellow=True)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    reason = browser_missing()
    if reason is not None and os.environ.get("DIGESTBOT_BROWSER_TESTS") == "required":  # CI: never skip them
        pytest.fail(f"{reason}; to install: {INSTALL}")
    if reason is not None:
        pytest.skip(reason)
    return CHROMIUM
