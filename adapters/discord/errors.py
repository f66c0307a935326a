"""Maps discord.py and network failures to digestbot's delivery errors, in one place.

The outbox decides what to do (retry, pause, dead-letter) from the error type alone,
so the lifecycle base (`adapters.base.Connection`) asks `delivery_error` about every
library error of a send or edit, and redacts what it returns.
"""

from __future__ import annotations

import aiohttp
import discord

from bot.core.errors import DeliveryError, DestinationForbidden, Rejected, RetryLater

__all__ = ["delivery_error", "token_refused"]


def _describe(exc: discord.HTTPException) -> str:
    return f"HTTP {exc.status} (code {exc.code}): {exc.text or 'no message'}"[:500]


def token_refused(exc: BaseException) -> bool:
    """Discord refused the token: `LoginFailure` at login, a 401 on any request, gateway close 4004."""
    if isinstance(exc, discord.LoginFailure):
        return True
    if isinstance(exc, discord.HTTPException):
        return exc.status == 401
    return isinstance(exc, discord.ConnectionClosed) and exc.code == 4004


def delivery_error(exc: Exception, destination: str) -> DeliveryError | None:
    """The meaning of what discord.py raised during a send or edit (None: not a library error).

    - 429 that discord.py would not wait for (`RateLimited`, or a 429 it did not retry)
      → `RetryLater(retry_after)`;
    - 5xx, timeouts, connection errors → `RetryLater(None)` (the outbox backs off);
    - 403 (Missing Access/Permissions) and 404 (channel deleted) → `DestinationForbidden`:
      pause at once, never loop on an invalid request (Discord bans after 10,000);
    - any other 4xx (400 Invalid Form Body…) → `Rejected`: resending cannot help.
    Messages are redacted by the caller.
    """
    if isinstance(exc, discord.RateLimited):
        return RetryLater(destination, f"rate limited for {exc.retry_after:.1f}s", exc.retry_after)
    if isinstance(exc, discord.Forbidden | discord.NotFound):
        return DestinationForbidden(destination, _describe(exc))
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            return RetryLater(destination, _describe(exc), _retry_after(exc))
        if exc.status >= 500:
            return RetryLater(destination, _describe(exc))
        return Rejected(destination, _describe(exc))
    if isinstance(exc, TimeoutError | aiohttp.ClientError | OSError):
        return RetryLater(destination, f"network: {type(exc).__name__}: {exc}"[:300])
    return None


def _retry_after(exc: discord.HTTPException) -> float | None:
    """Retry-After of a 429 that discord.py handed back (a Cloudflare-style 429)."""
    header = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return float(header) if header is not None else None
    except ValueError:
        return None
