"""Logging for every command: one stderr handler behind the one redaction, text or JSON lines.

Answering commands (`status`, `plan`, `ask`, …) log warnings only, one line each, so what they
print on stdout is what shows; `-v` brings back DEBUG and tracebacks.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import Literal

from bot.core.errors import ConfigError
from bot.core.redact import protect
from bot.settings.config import Config

__all__ = ["QUIET_COMMANDS", "LogFormat", "setup_logging"]

LogFormat = Literal["text", "json"]
#: Commands that answer on stdout: their log is warnings only (unless -v), so the answer is what shows.
QUIET_COMMANDS = frozenset({"ask", "preview", "check-config", "status", "plan"})


class _DropNotices(logging.Filter):
    """Drops third-party notices an operator cannot act on (discord.py's voice support at every start)."""

    NOTICES = ("PyNaCl is not installed", "davey is not installed")

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.NOTICES)


class _OneLine(logging.Formatter):
    """A record's message only: the tracebacks a library attaches to a platform's error (PTB's "Can not
    load invalid JSON data" for a proxy's error page) are not for the user of a one-shot command."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


def _formatter(log_format: LogFormat, *, brief: bool = False) -> logging.Formatter:
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter("%(levelname)s %(name)s %(message)s", timestamp="time",
                             rename_fields={"levelname": "level", "name": "logger"})
    line = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    return _OneLine(line) if brief else logging.Formatter(line)


def setup_logging(config: Config, verbose: bool, log_format: LogFormat = "text", quiet: bool = False) -> None:
    """One stderr handler behind the one redaction; quiet (answering) commands log one line per record."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else getattr(logging, config.log_level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_formatter(log_format, brief=quiet and not verbose))
    secrets: list[str] = []
    platforms: tuple[Literal["telegram", "discord"], ...] = ("telegram", "discord")
    for platform in platforms:
        with contextlib.suppress(ConfigError):
            secrets.append(config.secret(platform))
    secrets += [token for token in [config.web.token()] if token]
    handler.addFilter(_DropNotices())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    protect(*secrets)  # the one redaction filter, on this handler and the libraries' loggers
    for noisy in ("httpx", "httpcore", "apscheduler.scheduler", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
