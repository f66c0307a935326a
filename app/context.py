"""What every command shares: the configuration (read once), the store, the one-instance lock, and
how a known error becomes one clear line instead of a traceback."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import click

from app.logs import LogFormat, setup_logging
from bot.core.errors import ConfigError, DigestbotError, StorageError
from bot.core.redact import SECRET_FILTER, redact
from bot.settings.config import Config, load_config, resolve_config_path
from bot.splitting.sections import SectionAliases
from bot.storage.fault import check_storage_path
from bot.storage.lock import InstanceLock
from bot.storage.store import Store

__all__ = ["Context", "errors", "fail"]

log = logging.getLogger("digestbot")


class Context:
    """Lazily built parts shared by the subcommands."""

    def __init__(self, config_path: str | None, verbose: bool, config: Config | None = None, *,
                 log_format: LogFormat = "text", quiet: bool = False) -> None:
        self.config_path: Path | None = resolve_config_path(config_path)
        self.verbose = verbose
        self.log_format: LogFormat = log_format
        self.quiet = quiet
        self._config = config
        if config is not None:
            setup_logging(config, verbose, log_format, quiet)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
            setup_logging(self._config, self.verbose, self.log_format, self.quiet)
        return self._config

    def store(self, path: str | None = None, *, read_only: bool = False) -> Store:
        return Store(path or self.config.storage.path, read_only=read_only)

    @contextlib.contextmanager
    def single_instance(self, path: str | None = None) -> Iterator[InstanceLock | None]:
        """Held by every command that delivers: one bot per database, or posts go out twice."""
        target = path or self.config.storage.path
        if target == ":memory:":
            yield None
            return
        check_storage_path(target)
        with InstanceLock(target) as lock:
            yield lock

    def aliases(self) -> SectionAliases:
        return SectionAliases(self.config.sections.aliases)


def fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


@contextlib.contextmanager
def errors() -> Iterator[None]:
    """Known errors become one clear line and exit status 1 (2 for configuration); nothing shows a secret."""
    try:
        yield
    except ConfigError as exc:
        fail(f"config: {redact(str(exc), SECRET_FILTER.secrets)}", 2)
    except StorageError as exc:
        fail(redact(str(exc), SECRET_FILTER.secrets), 2)
    except DigestbotError as exc:
        fail(redact(str(exc), SECRET_FILTER.secrets))
    except Exception as exc:  # a bug: the traceback goes to the (redacting) log at DEBUG, one line to the user
        log.debug("unexpected error", exc_info=exc)
        fail(redact(f"unexpected {type(exc).__name__}: {exc} (run with -v for details)", SECRET_FILTER.secrets))
