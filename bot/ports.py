"""The one interface between the delivery machinery and a chat platform.

The scheduler only knows `Platform`; adapters implement it. Keeping the port small
(render, send, edit, serve) lets the console, Telegram and Discord adapters be
swapped and tested alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bot.messages import Answer, Post
from bot.models import Destination

if TYPE_CHECKING:
    from bot.query import QueryEngine

__all__ = ["Destination", "Platform", "Rendered", "Sent"]


@dataclass(frozen=True, slots=True)
class Rendered:
    """One platform message, ready to send, JSON-serialisable so the outbox can store it.

    `kind` is adapter-defined ("text", "photo", "media_group", "embeds" …);
    `payload` holds everything the adapter needs to send it; `notify` False means
    send silently.
    """

    kind: str
    text: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    notify: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "payload": dict(self.payload), "notify": self.notify}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rendered:
        return cls(kind=data["kind"], text=data["text"], payload=data.get("payload", {}),
                   notify=bool(data.get("notify", True)))


@dataclass(frozen=True, slots=True)
class Sent:
    """Proof of delivery: the platform's ids, kept to edit the message or link to it."""

    chat_id: str
    message_ids: tuple[str, ...]
    url: str | None = None
    migrated_from: str | None = None  # set when the platform moved the chat (a Telegram group upgrade)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"chat_id": self.chat_id, "message_ids": list(self.message_ids), "url": self.url}
        if self.migrated_from:
            data["migrated_from"] = self.migrated_from
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Sent:
        return cls(chat_id=str(data["chat_id"]), message_ids=tuple(str(m) for m in data["message_ids"]),
                   url=data.get("url"), migrated_from=data.get("migrated_from"))


@runtime_checkable
class Platform(Protocol):
    """A chat platform as the scheduler sees it.

    `send` and `edit` raise only `bot.errors.DeliveryError` subclasses:
    `RetryLater` (429/5xx/timeouts), `DestinationForbidden` (403), `Rejected` (400).
    `key` is the outbox row's stable id: adapters that can (Discord's nonce) use it
    so that a resend after a crash cannot duplicate a message.
    """

    name: str

    async def start(self) -> None:
        """Connect/log in so that `send` works; idempotent. Called once by the composition root."""
        ...

    async def close(self) -> None:
        """Finish in-flight work and disconnect; idempotent."""
        ...

    def render(self, post: Post, dest: Destination) -> list[Rendered]:
        """Turn a post into messages within the platform's limits; pure, deterministic."""
        ...

    def render_answer(self, answer: Answer) -> list[Rendered]:
        """Turn a query answer into messages (used by `digestbot ask` and command replies)."""
        ...

    async def send(self, dest: Destination, part: Rendered, *, key: str) -> Sent:
        ...

    async def edit(self, dest: Destination, sent: Sent, part: Rendered) -> Sent:
        ...

    async def serve(self, engine: QueryEngine) -> None:
        """Receive and answer commands until cancelled (no-op for the console)."""
        ...
