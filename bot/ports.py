"""The boundary between the core and the chat platforms: three roles, each as small as its caller.

- `Renderer` (pure, no I/O): a post or a query answer → platform messages (`Rendered`).
  The scheduler's planner uses it at enqueue time, `digestbot ask` and the command loops too.
- `Sender` (owns its connection): start, close, send, edit. The scheduler's worker uses it.
- `CommandSource`: answers the engine's replies to chat commands until cancelled. Only the
  composition root (`app/cli.py`) wires it.

Each platform package provides the three as one `Adapter`; the scheduler sees only an
`Outlet` (renderer + sender).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, runtime_checkable

from typing_extensions import TypeVar

from bot.contract.destination import Destination
from bot.core.messages import Answer, Post

if TYPE_CHECKING:
    from bot.chat.query import QueryEngine

__all__ = ["Adapter", "CommandSource", "Destination", "Outlet", "Rendered", "Renderer", "Sender", "Sent",
           "StoredPayload"]

#: A payload as the outbox stores it (JSON). Renderers produce, and senders read, typed payloads
#: (one TypedDict per message kind, in each adapter's `payloads.py`); this is their untyped form.
StoredPayload = Mapping[str, Any]

P = TypeVar("P", default=StoredPayload, covariant=True)
P_contra = TypeVar("P_contra", default=StoredPayload, contravariant=True)


@dataclass(frozen=True, slots=True)
class Rendered(Generic[P]):
    """One platform message, ready to send, JSON-serialisable so the outbox can store it.

    `kind` names the payload's type ("text", "photo", "media_group", "embeds" …);
    `payload` is that typed structure (a TypedDict of the adapter, plain JSON once stored);
    `notify` False means send silently.
    """

    kind: str
    text: str
    payload: P = field(default_factory=dict)  # type: ignore[assignment]
    notify: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "payload": dict(self.payload),  # type: ignore[call-overload]
                "notify": self.notify}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rendered[StoredPayload]:
        return Rendered(kind=data["kind"], text=data["text"], payload=data.get("payload", {}),
                        notify=bool(data.get("notify", True)))


@dataclass(frozen=True, slots=True)
class Sent:
    """Proof of delivery: the platform's ids, kept to edit the message or link to it."""

    chat_id: str
    message_ids: tuple[str, ...]
    url: str | None = None
    migrated_from: str | None = None  # set when the platform moved the chat (a Telegram group upgrade)
    chat_name: str | None = None  # the chat's or channel's name as the platform gave it (the panel shows it)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"chat_id": self.chat_id, "message_ids": list(self.message_ids), "url": self.url}
        if self.migrated_from:
            data["migrated_from"] = self.migrated_from
        if self.chat_name:
            data["chat_name"] = self.chat_name
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Sent:
        return cls(chat_id=str(data["chat_id"]), message_ids=tuple(str(m) for m in data["message_ids"]),
                   url=data.get("url"), migrated_from=data.get("migrated_from"),
                   chat_name=data.get("chat_name") if isinstance(data.get("chat_name"), str) else None)


@runtime_checkable
class Renderer(Protocol[P]):
    """Posts and answers → messages within a platform's limits; pure and deterministic."""

    def render(self, post: Post, dest: Destination) -> Sequence[Rendered[P]]:
        ...

    def render_answer(self, answer: Answer) -> Sequence[Rendered[P]]:
        """A query answer as messages (command replies, `digestbot ask`)."""
        ...


@runtime_checkable
class Sender(Protocol[P_contra]):
    """Delivers rendered messages; owns its connection.

    `start` and `close` are idempotent and may alternate any number of times; `send` starts
    the connection if needed. `send` and `edit` raise only `bot.core.errors.DeliveryError`
    subclasses (`RetryLater`, `DestinationForbidden`, `Rejected`) or `TokenRefused`, with
    every secret redacted. `key` is the outbox row's stable id: senders that can (Discord's
    nonce) use it so that a resend after a crash cannot duplicate a message.
    """

    name: str

    async def start(self) -> None:
        ...

    async def close(self) -> None:
        ...

    async def send(self, dest: Destination, part: Rendered[P_contra], *, key: str) -> Sent:
        ...

    async def edit(self, dest: Destination, sent: Sent, part: Rendered[P_contra]) -> Sent:
        ...


@runtime_checkable
class CommandSource(Protocol):
    """Receives chat commands and answers them with the engine until cancelled.

    `serve` connects if needed and registers the commands on every (re)connection;
    `close` disconnects (idempotent). Errors leave redacted: `TokenRefused` for a refused
    token, `PlatformUnavailable` or another error for an outage worth retrying.
    """

    name: str

    async def serve(self, engine: QueryEngine) -> None:
        ...

    async def close(self) -> None:
        ...


class Outlet(Protocol):
    """What the scheduler needs of one platform: a renderer at enqueue time, a sender in the worker."""

    @property
    def renderer(self) -> Renderer[Any]:
        ...

    @property
    def sender(self) -> Sender[Any]:
        ...


R = TypeVar("R", bound=Renderer[Any], default=Renderer[Any], covariant=True)
S = TypeVar("S", bound=Sender[Any], default=Sender[Any], covariant=True)
C = TypeVar("C", bound=CommandSource | None, default=CommandSource | None, covariant=True)


@dataclass(frozen=True, slots=True)
class Adapter(Generic[R, S, C]):
    """One platform's three roles, as its package builds them (`commands` None: takes no commands).

    Generic so that a platform's factory can say what it builds (tests reach the concrete
    sender); everything else uses the bare `Adapter`.
    """

    name: str
    renderer: R
    sender: S
    commands: C

    async def close(self) -> None:
        """Close the command source and the sender (they may share a connection; both are idempotent)."""
        if self.commands is not None:
            await self.commands.close()
        await self.sender.close()
