"""The console's renderer and sender: posts printed to a stream, optionally logged as JSON lines.

The JSON-lines log is flushed and fsync'ed before `send` returns, so that a delivery the
outbox records as sent is on disk: the crash test counts posts from it. It holds every post,
so it is created 0600, and it is rotated by size (`[console] log_max_bytes`; `.1`…`.3` kept).
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
from bot.core.messages import Answer, Post
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
        log_max_bytes: rotate the log before it grows past this size (`[console] log_max_bytes`).
    """

    def __init__(self, stream: TextIO | None = None, *, jsonl_path: str | None = None, delay: float = 0.0,
                 log_max_bytes: int = 64 * 1024 * 1024) -> None:
        super().__init__("console")
        self.stream = stream
        self.jsonl_path = jsonl_path or None
        self.delay = delay
        self.log_max_bytes = log_max_bytes
        self._log: IO[str] | None = None

    async def _connect(self) -> None:
        if self.jsonl_path:
            self._log = _open_private(self.jsonl_path)

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
        if self._log is None or self.jsonl_path is None:
            return
        line = json.dumps(record, ensure_ascii=False) + "\n"
        if self._log.tell() and self._log.tell() + len(line.encode("utf-8")) > self.log_max_bytes:
            self._log.close()
            _rotate(self.jsonl_path)
            self._log = _open_private(self.jsonl_path)
        self._log.write(line)
        self._log.flush()
        os.fsync(self._log.fileno())


_KEEP = 3  # rotated logs kept beside the current one


def _open_private(path: str) -> IO[str]:
    """Append to `path`, created 0600 (it holds every post); an existing file is made 0600 too."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "a", encoding="utf-8")


def _rotate(path: str) -> None:
    """path.2 → path.3, path.1 → path.2, path → path.1 (the oldest dropped), as logrotate would."""
    for n in range(_KEEP - 1, 0, -1):
        if os.path.exists(f"{path}.{n}"):
            os.replace(f"{path}.{n}", f"{path}.{n + 1}")
    os.replace(path, f"{path}.1")


def console_adapter(stream: TextIO | None = None, *, jsonl_path: str | None = None, delay: float = 0.0,
                    max_chars: int = 4000, log_max_bytes: int = 64 * 1024 * 1024,
                    ) -> Adapter[ConsoleRenderer, ConsoleSender, None]:
    """Renderer and sender of the console; it takes no chat commands (`digestbot ask` answers them)."""
    sender = ConsoleSender(stream, jsonl_path=jsonl_path, delay=delay, log_max_bytes=log_max_bytes)
    return Adapter("console", ConsoleRenderer(max_chars), sender, None)
