"""Keep the bot token out of every log line.

httpx logs each request URL at INFO, and Telegram URLs contain the token
(`/bot<token>/getUpdates`); PTB's `Bot.__repr__` contains it too. A filter on every
relevant logger and on the root handlers rewrites any record that contains it.
"""

from __future__ import annotations

import logging

from adapters.telegram.errors import redact

__all__ = ["TokenFilter", "install_token_filter"]

_PREFIXES = ("httpx", "httpcore", "telegram", "adapters", "bot", "scheduler", "apscheduler", "asyncio",
             "aiohttp")


class TokenFilter(logging.Filter):
    """Redacts `token` from a record's message, arguments and exception text; never drops a record."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.secret = token.partition(":")[2] or token

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix
            return True
        if self.secret in message:
            record.msg = redact(message, self.token)
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.secret in record.exc_text:
            record.exc_text = redact(record.exc_text, self.token)
        return True


def install_token_filter(token: str) -> TokenFilter:
    """Attach one redacting filter to the loggers that may see the token, and to root's handlers.

    Logger filters only see records logged on that very logger, hence every existing
    logger under the known prefixes; root handlers see the rest that propagates.
    """
    shared = next((f for f in logging.getLogger("httpx").filters
                   if isinstance(f, TokenFilter) and f.token == token), None) or TokenFilter(token)
    names = {"httpx", "httpcore", "telegram"} | {
        name for name in logging.root.manager.loggerDict if name.startswith(_PREFIXES)}
    for name in names:
        logger = logging.getLogger(name)
        if shared not in logger.filters:
            logger.addFilter(shared)
    for handler in logging.getLogger().handlers:
        if shared not in handler.filters:
            handler.addFilter(shared)
    return shared
