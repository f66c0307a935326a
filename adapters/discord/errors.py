"""Maps discord.py and network failures to digestbot's delivery errors, in one place.

The outbox decides what to do (retry, pause, dead-letter) from the error type alone,
so every send and edit goes through `delivery_errors`. Messages never carry the token.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import discord

from bot.errors import DeliveryError, DestinationForbidden, Rejected, RetryLater

__all__ = ["delivery_errors"]


def _describe(exc: discord.HTTPException) -> str:
    return f"HTTP {exc.status} (code {exc.code}): {exc.text or 'no message'}"[:500]


@contextmanager
def delivery_errors(destination: str) -> Iterator[None]:
    """Turn what discord.py raises into `RetryLater`, `DestinationForbidden` or `Rejected`.

    - 429 that discord.py would not wait for (`RateLimited`, or a 429 it did not retry)
      → `RetryLater(retry_after)`;
    - 5xx, timeouts, connection errors → `RetryLater(None)` (the outbox backs off);
    - 403 (Missing Access/Permissions) and 404 (channel deleted) → `DestinationForbidden`:
      pause at once, never loop on an invalid request (Discord bans after 10,000);
    - any other 4xx (400 Invalid Form Body…) → `Rejected`: resending cannot help.

    Raises:
        RetryLater, DestinationForbidden, Rejected: chained from the library error.
    """
    try:
        yield
    except DeliveryError:
        raise
    except discord.RateLimited as exc:
        raise RetryLater(destination, f"rate limited for {exc.retry_after:.1f}s", exc.retry_after) from exc
    except (discord.Forbidden, discord.NotFound) as exc:
        raise DestinationForbidden(destination, _describe(exc)) from exc
    except discord.DiscordServerError as exc:
        raise RetryLater(destination, _describe(exc)) from exc
    except discord.HTTPException as exc:
        if exc.status == 429:
            retry_after = _retry_after(exc)
            raise RetryLater(destination, _describe(exc), retry_after) from exc
        if exc.status >= 500:
            raise RetryLater(destination, _describe(exc)) from exc
        raise Rejected(destination, _describe(exc)) from exc
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise RetryLater(destination, f"network: {type(exc).__name__}: {exc}"[:300]) from exc


def _retry_after(exc: discord.HTTPException) -> float | None:
    """Retry-After of a 429 that discord.py handed back (a Cloudflare-style 429)."""
    header = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return float(header) if header is not None else None
    except ValueError:
        return None
