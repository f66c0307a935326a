"""The one lifecycle (`adapters.base.Connection`) and the one redaction (`bot.core.redact`), on a scripted wire.

The subclass below writes only wire calls, as the platform senders do; what is checked is
the base's template: idempotent start/close, reconnection, error mapping and redaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import pytest

from adapters.base import Connection
from bot.core.errors import PlatformUnavailable, Rejected, RetryLater, TokenRefused
from bot.core.redact import MASK, SecretFilter, redact
from bot.ports import Destination, Rendered, Sent

SECRET = "777:very-secret-token-value"
DEST = Destination(name="d", platform="wire", chat="c")


class WireRefused(Exception):
    pass


class WireDown(Exception):
    pass


class ScriptedWire(Connection[dict[str, str]]):
    """Connects after a short await; `connect_errors` and `send_errors` are raised in turn."""

    def __init__(self) -> None:
        super().__init__("wire", secrets=(SECRET,), token_key="wire.token_env", token_source="$WIRE_TOKEN")
        self.connects = 0
        self.disconnects = 0
        self.connect_errors: list[Exception] = []
        self.send_errors: list[Exception] = []

    async def _connect(self) -> None:
        await asyncio.sleep(0)
        self.connects += 1
        if self.connect_errors:
            raise self.connect_errors.pop(0)

    async def _disconnect(self) -> None:
        self.disconnects += 1

    def _token_refused(self, exc: BaseException) -> bool:
        return isinstance(exc, WireRefused)

    def _delivery_error(self, exc: Exception, destination: str) -> RetryLater | None:
        return RetryLater(destination, str(exc)) if isinstance(exc, WireDown) else None

    def _payload(self, kind: str, payload: Mapping[str, Any]) -> dict[str, str]:
        if "body" not in payload:
            raise ValueError("no body")
        return {"body": str(payload["body"])}

    async def _send(self, dest: Destination, part: Rendered[dict[str, str]], key: str) -> Sent:
        if self.send_errors:
            raise self.send_errors.pop(0)
        return Sent(chat_id=dest.chat, message_ids=(key,))

    async def _edit(self, dest: Destination, sent: Sent, part: Rendered[dict[str, str]]) -> Sent:
        return sent


PART = Rendered(kind="text", text="x", payload={"body": "x"})


async def test_start_is_idempotent_and_close_then_start_reconnects() -> None:
    wire = ScriptedWire()
    await asyncio.gather(wire.start(), wire.start(), wire.start())
    assert wire.connects == 1 and wire.generation == 1
    for round_ in range(2, 5):
        await wire.close()
        await wire.close()
        await wire.start()
        assert wire.generation == round_
    assert wire.connects == 4 and wire.disconnects == 3


async def test_send_starts_the_connection_itself() -> None:
    wire = ScriptedWire()
    assert (await wire.send(DEST, PART, key="k")).message_ids == ("k",)
    assert wire.started


async def test_a_refused_token_is_a_config_error_once_and_for_all() -> None:
    wire = ScriptedWire()
    wire.connect_errors.append(WireRefused(f"token {SECRET} rejected"))
    with pytest.raises(TokenRefused) as refused:
        await wire.start()
    assert refused.value.key == "wire.token_env" and "$WIRE_TOKEN" in str(refused.value)
    assert SECRET not in str(refused.value) and refused.value.__cause__ is None
    with pytest.raises(TokenRefused):
        await wire.send(DEST, PART, key="k")  # no second login attempt, no attempt burnt as a retry
    assert wire.connects == 1 and wire.disconnects == 1  # the half-open connection was released


async def test_an_outage_at_start_is_retryable_and_redacted() -> None:
    wire = ScriptedWire()
    wire.connect_errors.append(OSError(f"cannot reach https://api.example/bot{SECRET}/getMe"))
    with pytest.raises(PlatformUnavailable) as down:
        await wire.start()
    assert SECRET not in str(down.value) and MASK in str(down.value)
    wire.connect_errors.append(OSError("still down"))
    with pytest.raises(RetryLater):  # from send, an outage is the outbox's to retry
        await wire.send(DEST, PART, key="k")
    await wire.start()
    assert wire.started


async def test_errors_leave_mapped_and_redacted() -> None:
    wire = ScriptedWire()
    half = SECRET.partition(":")[2]
    wire.send_errors += [WireDown(f"502 for /bot{SECRET}/send"), KeyError(f"bug near {half}"),
                         WireRefused("401")]
    with pytest.raises(RetryLater) as mapped:
        await wire.send(DEST, PART, key="a")
    with pytest.raises(RetryLater) as unexpected:
        await wire.send(DEST, PART, key="b")
    for error in (mapped.value, unexpected.value):
        assert SECRET not in str(error) and half not in str(error) and half not in error.reason
    assert "unexpected: KeyError" in str(unexpected.value)
    with pytest.raises(TokenRefused):  # a token revoked while running
        await wire.send(DEST, PART, key="c")


async def test_a_malformed_stored_payload_is_rejected_before_any_call() -> None:
    wire = ScriptedWire()
    with pytest.raises(Rejected):
        await wire.send(DEST, Rendered(kind="text", text="x", payload={"html": "x"}), key="k")
    assert wire.connects == 0


def test_the_filter_redacts_message_arguments_and_tracebacks() -> None:
    secret_filter = SecretFilter([SECRET])
    try:
        raise RuntimeError(f"boom {SECRET}")
    except RuntimeError as exc:
        record = logging.LogRecord("httpx", logging.ERROR, __file__, 1, "GET %s", (f"/bot{SECRET}/getMe",),
                                   (type(exc), exc, exc.__traceback__))
    assert secret_filter.filter(record)
    assert SECRET not in record.getMessage() and SECRET.partition(":")[2] not in (record.exc_text or "")
    assert "boom" in (record.exc_text or "")
    assert redact("short 1:ab", ["1:ab"]) == "short 1:ab"  # too short to be a secret: left alone
