"""Secrets never leave: one redaction function and one log filter for the whole product.

Library errors and log records can carry a bot token (Telegram puts it in every request
path, and PTB quotes it in `InvalidToken`; an API error page may echo the path). The
adapters' lifecycle base redacts every error it lets out with `redact`, and the CLI's log
handler, plus every logger a library may write on, carries the one `SECRET_FILTER`.
A token nobody configured yet (one pasted into config.toml) is recognised by its shape
instead: `looks_like_token` refuses it and `mask_tokens` hides it in check-config's lines.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

__all__ = ["MASK", "SECRET_FILTER", "SecretFilter", "looks_like_token", "mask_tokens", "protect", "redact",
           "secret_forms"]

MASK = "[REDACTED]"
_MIN_SECRET = 8  # shorter strings are too likely to be ordinary words
# A Telegram (`123456:AA…`) or a Discord (`xxx.yyy.zzz`) bot token.
_TOKEN_SHAPE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}|[A-Za-z0-9_-]{23,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{25,}")
_LOGGER_PREFIXES = ("httpx", "httpcore", "telegram", "discord", "aiohttp", "adapters", "bot", "scheduler",
                    "apscheduler", "asyncio", "digestbot")


def secret_forms(secret: str) -> tuple[str, ...]:
    """What to hide for one secret: itself and, for a Telegram token `<id>:<secret>`, its secret half."""
    secret = secret.strip()
    forms = [secret] if len(secret) >= _MIN_SECRET else []
    half = secret.partition(":")[2]
    if len(half) >= _MIN_SECRET:
        forms.append(half)
    return tuple(forms)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every form of every secret replaced by `[REDACTED]`."""
    for secret in secrets:
        for form in secret_forms(secret):
            text = text.replace(form, MASK)
    return text


def looks_like_token(value: str) -> bool:
    """A Telegram (`123456:AA…`) or Discord (`xxx.yyy.zzz`) bot token is in `value`: never echo it back."""
    return bool(_TOKEN_SHAPE.search(value))


def mask_tokens(text: str) -> str:
    """`text` with anything shaped like a bot token replaced by `[REDACTED]` (for secrets not known by value)."""
    return _TOKEN_SHAPE.sub(MASK, text)


class SecretFilter(logging.Filter):
    """Redacts known secrets from a record's message, arguments, traceback and stack; never drops one."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        self.add(*secrets)

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._secrets)

    def add(self, *secrets: str) -> None:
        with self._lock:
            self._secrets.update(s for s in secrets if secret_forms(s))

    def _clean(self, text: str) -> str:
        return redact(text, self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix
            return True
        clean = self._clean(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True


#: The one filter of the process: `protect()` adds secrets to it and attaches it where records pass.
SECRET_FILTER = SecretFilter()


def protect(*secrets: str) -> SecretFilter:
    """Hide `secrets` from every log line from now on; returns the shared filter.

    Attached to the root logger's handlers (every propagated record passes there) and to
    each existing library or digestbot logger (so handlers added later, such as a test's
    capture handler, see redacted records too). Safe to call again: nothing is added twice.
    """
    SECRET_FILTER.add(*secrets)
    names = {"httpx", "httpcore", "telegram", "discord", "aiohttp"} | {
        name for name in logging.root.manager.loggerDict if name.startswith(_LOGGER_PREFIXES)}
    for name in names:
        logger = logging.getLogger(name)
        if SECRET_FILTER not in logger.filters:
            logger.addFilter(SECRET_FILTER)
    for handler in logging.getLogger().handlers:
        if SECRET_FILTER not in handler.filters:
            handler.addFilter(SECRET_FILTER)
    return SECRET_FILTER
