"""The Discord message payloads the renderer produces and the sender reads, one structure for both kinds.

A Discord message is content and/or embeds ("text" and "embeds" kinds share the shape);
options say how it is sent. TypedDicts keep it plain JSON for the outbox and checked in code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict, cast

__all__ = ["DiscordPayload", "PageButtonSpec", "ThreadSpec", "payload_of"]


class ThreadSpec(TypedDict):
    """Post into the issue's thread: created once under a header message, then reused."""

    name: str
    header: str


class PageButtonSpec(TypedDict):
    """A ◀/▶ button of a command reply, carrying the engine's page token."""

    token: str
    label: str


class DiscordPayload(TypedDict, total=False):
    """One message: `content` (markdown) and/or `embeds` (Discord's embed objects), and how to send it."""

    content: str
    embeds: list[dict[str, Any]]
    flags: int
    thread: ThreadSpec
    buttons: list[PageButtonSpec]
    ephemeral: bool
    mention_role: str  # the one role this message may ping (a destination's opt-in `mention_role`)


def payload_of(kind: str, payload: Mapping[str, Any]) -> DiscordPayload:
    """A stored payload as `DiscordPayload`.

    Raises:
        ValueError: neither content nor embeds (Discord would refuse an empty message).
    """
    if kind not in ("text", "embeds"):
        raise ValueError(f"unknown Discord message kind {kind!r}")
    if not payload.get("content") and not payload.get("embeds"):
        raise ValueError("a Discord message needs content or embeds")
    return cast(DiscordPayload, payload)
