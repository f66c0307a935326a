"""The one adapter lifecycle: a template method base that every platform connection subclasses.

In the spirit of PTB's `BaseRequest.post` and aiogram's `BaseSession`: the base owns what
must be the same on every platform, subclasses write only the wire calls.

- idempotent `start`/`close`, serialised by a lock: close → start → serve works any number
  of times, and `generation` tells command sources that a new connection needs its
  commands registered again;
- a refused token becomes `TokenRefused` once and for all (no retry loop, no network call
  after it); other start failures become `PlatformUnavailable`;
- `send`/`edit` check and type the payload (`_payload`: a malformed stored one is `Rejected`),
  start the connection if needed, and map every
  library error onto `bot.core.errors` (`_delivery_error`); anything unforeseen becomes
  `RetryLater` rather than a crash;
- every message that leaves, of any error, is redacted of the connection's secrets, and
  the secrets are added to the product's one log filter (`bot.core.redact`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Generic

from typing_extensions import TypeVar

from bot.core.errors import DeliveryError, DigestbotError, PlatformUnavailable, Rejected, RetryLater, TokenRefused
from bot.core.redact import protect, redact
from bot.ports import Destination, Rendered, Sent, StoredPayload

__all__ = ["Connection"]

log = logging.getLogger(__name__)

P = TypeVar("P", default=StoredPayload)


class Connection(ABC, Generic[P]):
    """A platform connection with one lifecycle (see module docstring).

    Args:
        name: the platform ("telegram", "discord", "console").
        secrets: strings that must never appear in an error or log line (the token).
        token_key: the config key a refused token is reported under (`telegram.token_env`).
        token_source: where the token came from, for the one-line error (`$TELEGRAM_BOT_TOKEN`).
    """

    def __init__(self, name: str, *, secrets: tuple[str, ...] = (), token_key: str = "",
                 token_source: str = "") -> None:
        self.name = name
        self._secrets = tuple(s for s in secrets if s)
        self._token_key = token_key or f"{name}.token_env"
        self._token_source = token_source or "its token setting"
        self._started = False
        self._refused: TokenRefused | None = None
        self._lock: asyncio.Lock | None = None
        self.generation = 0  # +1 at every successful start
        if self._secrets:
            protect(*self._secrets)

    # ------------------------------------------------------------------ wire calls (subclasses)
    @abstractmethod
    async def _connect(self) -> None:
        """Open the connection and log in; raise the library's errors as they are."""

    @abstractmethod
    async def _disconnect(self) -> None:
        """Release everything `_connect` opened; must work after a half-done `_connect`."""

    @abstractmethod
    def _payload(self, kind: str, payload: Mapping[str, Any]) -> P:
        """A payload as it comes (from a renderer, or as JSON from the outbox) → its type; ValueError if malformed."""

    @abstractmethod
    async def _send(self, dest: Destination, part: Rendered[P], key: str) -> Sent:
        """Post one message (library errors propagate; the base maps them)."""

    @abstractmethod
    async def _edit(self, dest: Destination, sent: Sent, part: Rendered[P]) -> Sent:
        """Replace a sent message (library errors propagate; the base maps them)."""

    def _token_refused(self, exc: BaseException) -> bool:
        """Whether a library error means the platform refused the token."""
        return False

    def _delivery_error(self, exc: Exception, destination: str) -> DeliveryError | None:
        """The `bot.core.errors` meaning of a library error during send/edit (None: not a library error)."""
        return None

    @contextlib.asynccontextmanager
    async def pace(self, channel: str | None) -> AsyncIterator[None]:
        """Pacing hook around one request to `channel` (None: counts towards global limits only)."""
        yield

    # ------------------------------------------------------------------ the template
    @property
    def started(self) -> bool:
        return self._started

    def redact(self, text: str) -> str:
        """`text` without this connection's secrets."""
        return redact(text, self._secrets)

    def _refusal(self) -> TokenRefused:
        return TokenRefused(self.name, self._token_key, self._token_source)

    async def start(self) -> None:
        """Connect and log in; idempotent and safe to call concurrently.

        Raises:
            TokenRefused: the platform refused the token (remembered: later calls fail at once).
            PlatformUnavailable: anything else stopped the connection; worth retrying later.
        """
        if self._refused is not None:
            raise self._refused
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._started:
                return
            try:
                await self._connect()
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    await self._disconnect()
                if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                    raise
                if isinstance(exc, TokenRefused) or self._token_refused(exc):
                    self._refused = self._refusal()
                    raise self._refused from None
                if isinstance(exc, DigestbotError):
                    raise
                raise PlatformUnavailable(self.name, self.redact(f"{type(exc).__name__}: {exc}")[:300]) from None
            self._started = True
            self.generation += 1

    async def close(self) -> None:
        """Disconnect; idempotent. A later `start` builds a fresh connection."""
        if not self._started:
            return
        self._started = False
        try:
            await self._disconnect()
        except Exception as exc:  # closing must not fail the caller's shutdown
            log.warning("%s: error while closing: %s", self.name, self.redact(f"{type(exc).__name__}: {exc}"))

    @contextlib.contextmanager
    def delivery_errors(self, destination: str) -> Iterator[None]:
        """Library errors raised inside → `bot.core.errors`, redacted, chained without the library's text.

        Raises:
            TokenRefused: the token was refused mid-run.
            RetryLater, DestinationForbidden, Rejected: see the subclass's `_delivery_error`.
        """
        try:
            yield
        except TokenRefused:
            raise
        except DeliveryError as exc:
            exc.reason = self.redact(exc.reason)
            exc.args = tuple(self.redact(str(a)) for a in exc.args)
            raise
        except DigestbotError:
            raise
        except Exception as exc:
            if self._token_refused(exc):
                self._refused = self._refusal()
                raise self._refused from None
            mapped = self._delivery_error(exc, destination)
            if mapped is None:
                log.error("%s: unexpected error sending to %s: %s", self.name, destination,
                          self.redact(f"{type(exc).__name__}: {exc}"), exc_info=exc)
                mapped = RetryLater(destination, f"unexpected: {type(exc).__name__}: {exc}")
            mapped.reason = self.redact(mapped.reason)
            mapped.args = tuple(self.redact(str(a)) for a in mapped.args)
            raise mapped from None

    async def _ensure_started(self, destination: str) -> None:
        try:
            await self.start()
        except PlatformUnavailable as exc:
            raise RetryLater(destination, exc.reason) from None

    def _typed(self, destination: str, part: Rendered[Any]) -> Rendered[P]:
        """The part with its payload checked and typed: a malformed one can never be sent (`Rejected`)."""
        try:
            payload = self._payload(part.kind, part.payload)
        except ValueError as exc:
            raise Rejected(destination, f"malformed {self.name} payload: {exc}") from None
        return Rendered(kind=part.kind, text=part.text, payload=payload, notify=part.notify)

    async def send(self, dest: Destination, part: Rendered[Any], *, key: str) -> Sent:
        """Deliver one message (see `bot.ports.Sender`); the payload may come typed or as stored JSON."""
        typed = self._typed(dest.name, part)
        await self._ensure_started(dest.name)
        with self.delivery_errors(dest.name):
            return await self._send(dest, typed, key)

    async def edit(self, dest: Destination, sent: Sent, part: Rendered[Any]) -> Sent:
        """Replace a delivered message (see `bot.ports.Sender`)."""
        typed = self._typed(dest.name, part)
        await self._ensure_started(dest.name)
        with self.delivery_errors(dest.name):
            return await self._edit(dest, sent, typed)
