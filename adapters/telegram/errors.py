"""python-telegram-bot errors → digestbot's errors, in one place.

The outbox decides by meaning (retry, pause the destination, dead-letter); the lifecycle
base (`adapters.base.Connection`) calls `delivery_error` for every library error of a send
or edit and redacts what it returns. Nothing else in the adapter interprets PTB errors.
"""

from __future__ import annotations

from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from adapters.telegram.limiter import retry_after_seconds
from bot.core.errors import DeliveryError, DestinationForbidden, Rejected, RetryLater

__all__ = ["delivery_error", "token_refused"]


def token_refused(exc: BaseException) -> bool:
    """401 (`InvalidToken`) or 404 (`EndPointNotFound`: Telegram's answer to an unknown token)."""
    return isinstance(exc, InvalidToken | EndPointNotFound)


def delivery_error(exc: Exception, destination: str) -> DeliveryError | None:
    """The meaning of a PTB error raised by a send or edit (None: not PTB's).

    - 429 → `RetryLater(retry_after)`; timeouts, network errors, 5xx, 409 → `RetryLater`;
    - 403 → `DestinationForbidden` (the bot was removed or may not post here);
    - 400 → `Rejected` (Telegram will never accept this message).
    Messages are redacted by the caller.
    """
    if isinstance(exc, RetryAfter):
        return RetryLater(destination, "flood control (429)", retry_after_seconds(exc))
    if isinstance(exc, Forbidden):
        return DestinationForbidden(destination, exc.message)
    if isinstance(exc, BadRequest):
        return Rejected(destination, exc.message)
    if isinstance(exc, TimedOut):
        return RetryLater(destination, "timed out")
    if isinstance(exc, TelegramError):  # NetworkError, Conflict and the rest: worth another try
        return RetryLater(destination, exc.message)
    return None
