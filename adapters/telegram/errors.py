"""python-telegram-bot errors → digestbot's delivery errors, in one place.

The outbox decides by meaning (retry, pause the destination, dead-letter), so every send
and edit runs inside `delivery_errors`; nothing else in the adapter catches PTB errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from adapters.telegram.limiter import retry_after_seconds
from bot.errors import DestinationForbidden, Rejected, RetryLater

__all__ = ["ChatMoved", "delivery_errors", "redact"]


class ChatMoved(Exception):
    """A group became a supergroup; `new_chat_id` is where it lives now (handled by the platform)."""

    def __init__(self, new_chat_id: int) -> None:
        super().__init__(f"chat migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


def redact(text: str, token: str | None) -> str:
    """`text` without the bot token (or its secret half), whatever the library put in it."""
    if token:
        text = text.replace(token, "<token>")
        secret = token.partition(":")[2]
        if len(secret) >= 8:
            text = text.replace(secret, "<token>")
    return text


@contextmanager
def delivery_errors(destination: str, token: str | None = None) -> Iterator[None]:
    """Map PTB exceptions raised inside the block to `bot.errors.DeliveryError` subclasses.

    Raises:
        RetryLater: 429 (with `retry_after`), timeouts, network errors, 5xx, 409, bad token.
        DestinationForbidden: 403, the bot was removed or may not post here.
        Rejected: 400, Telegram will never accept this message.
        ChatMoved: the chat migrated; the caller retries on the new id.
    """
    try:
        yield
    except RetryAfter as exc:
        raise RetryLater(destination, "flood control (429)", retry_after_seconds(exc)) from exc
    except ChatMigrated as exc:
        raise ChatMoved(int(exc.new_chat_id)) from exc
    except Forbidden as exc:
        raise DestinationForbidden(destination, redact(exc.message, token)) from exc
    except BadRequest as exc:
        raise Rejected(destination, redact(exc.message, token)) from exc
    except TimedOut as exc:
        raise RetryLater(destination, "timed out") from exc
    except (InvalidToken, EndPointNotFound) as exc:
        raise RetryLater(destination, "the bot token was refused (401/404); check the token") from exc
    except (NetworkError, Conflict) as exc:
        raise RetryLater(destination, redact(exc.message, token)) from exc
    except TelegramError as exc:
        raise RetryLater(destination, redact(exc.message, token)) from exc
