"""The exception tree: every failure the bot can explain to a maintainer or a user.

Callers catch by meaning (`FeedError`, `RetryLater`), never by library type; each
adapter maps its library's errors onto these in one place.
"""

from __future__ import annotations

__all__ = [
    "BadQuery",
    "ConfigError",
    "DeliveryError",
    "DestinationForbidden",
    "DigestbotError",
    "FeedError",
    "FeedMalformed",
    "FeedUnavailable",
    "PlatformUnavailable",
    "QueryError",
    "Rejected",
    "RetryLater",
    "StorageError",
    "TokenRefused",
    "UnknownSection",
]


class DigestbotError(Exception):
    """Base of every error digestbot raises on purpose."""


class ConfigError(DigestbotError):
    """A configuration value is wrong; names the key so a maintainer can fix it."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


class TokenRefused(ConfigError):
    """The platform refused the bot token (Telegram 401/404 on getMe, Discord 401).

    A configuration error, not an outage: retrying cannot help and posts must not burn
    their attempts on it. `key` names where the token comes from (`telegram.token_env`).
    """

    def __init__(self, platform: str, key: str, source: str) -> None:
        super().__init__(key, f"{platform.capitalize()} refused the bot token from {source}; set a valid token")
        self.platform = platform


class PlatformUnavailable(DigestbotError):
    """A platform could not be reached or logged in to (network, 5xx); worth retrying later."""

    def __init__(self, platform: str, reason: str) -> None:
        super().__init__(f"{platform}: cannot connect: {reason}")
        self.platform = platform
        self.reason = reason


class FeedError(DigestbotError):
    """A feed could not be used; stored data is left untouched."""

    def __init__(self, feed: str, reason: str) -> None:
        super().__init__(f"feed {feed!r}: {reason}")
        self.feed = feed
        self.reason = reason


class FeedUnavailable(FeedError):
    """Network error, timeout or HTTP error status."""


class FeedMalformed(FeedError):
    """The bytes arrived but are not a usable feed (not XML, truncated, too large)."""


class QueryError(DigestbotError):
    """A chat query that cannot be answered as asked; turned into a helpful reply."""


class UnknownSection(QueryError):
    pass


class BadQuery(QueryError):
    pass


class DeliveryError(DigestbotError):
    """A platform refused or failed a send; the outbox decides what happens next."""

    def __init__(self, destination: str, reason: str) -> None:
        super().__init__(f"destination {destination!r}: {reason}")
        self.destination = destination
        self.reason = reason


class RetryLater(DeliveryError):
    """429, 5xx, timeouts: try again after `retry_after` seconds (None: use backoff)."""

    def __init__(self, destination: str, reason: str, retry_after: float | None = None) -> None:
        super().__init__(destination, reason)
        self.retry_after = retry_after


class DestinationForbidden(DeliveryError):
    """403: the bot was removed or lacks rights; pause this destination only."""


class Rejected(DeliveryError):
    """400: the platform will never accept this message; dead-letter it, never retry."""


class StorageError(DigestbotError):
    """The database at `storage.path` cannot be opened or written (read-only, full, missing folder)."""

    def __init__(self, path: str, cause: str) -> None:
        super().__init__(f"storage.path {path}: {cause}")
        self.path = path
        self.cause = cause
