"""ConsolePlatform: prints posts to a stream and, optionally, logs each delivery as a JSON line.

The JSON-lines log is flushed and fsync'ed before `send` returns, so that a
delivery the outbox records as sent is on disk: the crash test counts posts from it.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from typing import IO, TYPE_CHECKING, Any, TextIO

from adapters.console.render import render_answer_text, render_post_text
from bot.messages import Answer, Post
from bot.ports import Destination, Rendered, Sent

if TYPE_CHECKING:
    from bot.query import QueryEngine

__all__ = ["ConsolePlatform"]

LOG_ENV = "DIGESTBOT_CONSOLE_LOG"
DELAY_ENV = "DIGESTBOT_CONSOLE_DELAY"


class ConsolePlatform:
    """A `bot.ports.Platform` that writes to a text stream (default stdout)."""

    name = "console"

    def __init__(self, stream: TextIO | None = None, *, jsonl_path: str | None = None,
                 max_chars: int = 4000, delay: float | None = None) -> None:
        """Args:
            stream: where posts are printed (default: sys.stdout at send time).
            jsonl_path: also log each delivered part as a JSON line (default: $DIGESTBOT_CONSOLE_LOG).
            max_chars: split posts longer than this, between items.
            delay: mean seconds each send takes (±50 %, at random), to mimic a network
                platform in demos and crash tests (default: $DIGESTBOT_CONSOLE_DELAY, else 0).
        """
        self.stream = stream
        self.jsonl_path = jsonl_path or os.environ.get(LOG_ENV) or None
        self.max_chars = max_chars
        self.delay = delay if delay is not None else float(os.environ.get(DELAY_ENV) or 0)
        self._log: IO[str] | None = None

    async def start(self) -> None:
        if self.jsonl_path and self._log is None:
            self._log = open(self.jsonl_path, "a", encoding="utf-8")  # noqa: SIM115 - kept open while running

    async def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    # ------------------------------------------------------------------ rendering (pure)
    def render(self, post: Post, dest: Destination) -> list[Rendered]:
        texts = render_post_text(post, self.max_chars)
        return [Rendered(kind="text", text=text, notify=post.notify and i == 0) for i, text in enumerate(texts)]

    def render_answer(self, answer: Answer) -> list[Rendered]:
        return [Rendered(kind="text", text=text) for text in render_answer_text(answer, self.max_chars)]

    # ------------------------------------------------------------------ delivery
    async def send(self, dest: Destination, part: Rendered, *, key: str) -> Sent:
        if self.delay:
            await asyncio.sleep(self.delay * random.uniform(0.5, 1.5))
        self._print(f"── {dest.name} ──", part.text)
        self._append({"op": "send", "dest": dest.name, "key": key, "notify": part.notify, "text": part.text})
        return Sent(chat_id=dest.chat or dest.name, message_ids=(key,), url=f"console://{dest.name}/{key}")

    async def edit(self, dest: Destination, sent: Sent, part: Rendered) -> Sent:
        message = sent.message_ids[0] if sent.message_ids else ""
        self._print(f"── {dest.name} (edit of {message}) ──", part.text)
        self._append({"op": "edit", "dest": dest.name, "key": message, "text": part.text})
        return sent

    async def serve(self, engine: QueryEngine) -> None:
        """The console takes no chat commands (`digestbot ask` answers them); returns at once."""
        return None

    def _print(self, banner: str, text: str) -> None:
        stream = self.stream if self.stream is not None else sys.stdout
        stream.write(f"{banner}\n{text}\n\n")

    def _append(self, record: dict[str, Any]) -> None:
        if not self.jsonl_path:
            return
        if self._log is None:
            self._log = open(self.jsonl_path, "a", encoding="utf-8")  # noqa: SIM115
        self._log.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._log.flush()
        os.fsync(self._log.fileno())
