"""The console's renderer and sender: posts printed to a stream, optionally logged as JSON lines.

The JSON-lines log is flushed and fsync'ed before `send` returns, so that a delivery the
outbox records as sent is on disk: the crash test counts posts from it.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from collections.abc import Mapping
from typing import IO, Any, TextIO, TypedDict

from adapters.base import Connection
from adapters.console.render import render_answer_text, render_post_text
from bot.messages import Answer, Post
from bot.ports import Adapter, Destination, Rendered, Sent

__all__ = ["ConsolePayload", "ConsoleRenderer", "ConsoleSender", "console_adapter"]


class ConsolePayload(TypedDict):
    """The console needs nothing beyond `Rendered.text`."""


class ConsoleRenderer:
    """Posts and answers as plain text (see `bot.ports.Renderer`).

    Args:
        max_chars: split posts longer than this, between items.
    """

    def __init__(self, max_chars: int = 4000) -> None:
        self.max_chars = max_chars

    def render(self, post: Post, dest: Destination) -> list[Rendered[ConsolePayload]]:
        return [Rendered(kind="text", text=text, payload=ConsolePayload(), notify=post.notify and i == 0)
                for i, text in enumerate(render_post_text(post, self.max_chars))]

    def render_answer(self, answer: Answer) -> list[Rendered[ConsolePayload]]:
        return [Rendered(kind="text", text=text, payload=ConsolePayload())
                for text in render_answer_text(answer, self.max_chars)]


class ConsoleSender(Connection[ConsolePayload]):
    """Writes messages to a text stream (default stdout) (see `bot.ports.Sender`).

    Args:
        stream: where posts are printed (default: sys.stdout at send time).
        jsonl_path: also log each delivered part as a JSON line (`[console] log`).
        delay: mean seconds each send takes (±50 %, at random), to mimic a network platform in
            demos and crash tests (`[console] delay`, default 0).
    """

    def __init__(self, stream: TextIO | None = None, *, jsonl_path: str | None = None, delay: float = 0.0) -> None:
        super().__init__("console")
        self.stream = stream
        self.jsonl_path = jsonl_path or None
        self.delay = delay
        self._log: IO[str] | None = None

    async def _connect(self) -> None:
        if self.jsonl_path:
            self._log = open(self.jsonl_path, "a", encoding="utf-8")  # noqa: SIM115 - kept open while running

    async def _disconnect(self) -> None:
        log, self._log = self._log, None
        if log is not None:
            log.close()

    def _payload(self, kind: str, payload: Mapping[str, Any]) -> ConsolePayload:
        return ConsolePayload()  # everything is in `Rendered.text`

    async def _send(self, dest: Destination, part: Rendered[ConsolePayload], key: str) -> Sent:
        if self.delay:
            await asyncio.sleep(self.delay * random.uniform(0.5, 1.5))
        self._print(f"── {dest.name} ──", part.text)
        self._append({"op": "send", "dest": dest.name, "key": key, "notify": part.notify, "text": part.text})
        return Sent(chat_id=dest.chat or dest.name, message_ids=(key,), url=f"console://{dest.name}/{key}")

    async def _edit(self, dest: Destination, sent: Sent, part: Rendered[ConsolePayload]) -> Sent:
        message = sent.message_ids[0] if sent.message_ids else ""
        self._print(f"── {dest.name} (edit of {message}) ──", part.text)
        self._append({"op": "edit", "dest": dest.name, "key": message, "text": part.text})
        return sent

    def _print(self, banner: str, text: str) -> None:
        stream = self.stream if self.stream is not None else sys.stdout
        stream.write(f"{banner}\n{text}\n\n")

    def _append(self, record: dict[str, Any]) -> None:
        if self._log is None:
            return
        self._log.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._log.flush()
        os.fsync(self._log.fileno())


def console_adapter(stream: TextIO | None = None, *, jsonl_path: str | None = None, delay: float = 0.0,
                    max_chars: int = 4000) -> Adapter[ConsoleRenderer, ConsoleSender, None]:
    """Renderer and sender of the console; it takes no chat commands (`digestbot ask` answers them)."""
    return Adapter("console", ConsoleRenderer(max_chars), ConsoleSender(stream, jsonl_path=jsonl_path, delay=delay),
                   None)
