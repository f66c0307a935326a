"""Browser tests need Debian's Chromium and Playwright for Python; without them they skip, and the
run ends with one line saying so and how to install what they need."""

from __future__ import annotations

import importlib.util
import shutil

import pytest
from _pytest.terminal import TerminalReporter

CHROMIUM = "/usr/bin/chromium"
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


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if SKIP_REASON in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} web panel browser tests skipped (no Chromium here); "
                                    f"to run them: {INSTALL}", yellow=True)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    reason = browser_missing()
    if reason is not None:
        pytest.skip(reason)
    return CHROMIUM
