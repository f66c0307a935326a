"""Shared pieces for the scheduler/outbox tests: a settable clock, issues, a scripted platform.

The platform here is a test double at the port boundary (`bot.ports.Outlet`): it renders
with the real console renderer and, as the sender, raises our delivery errors on cue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.console import ConsolePayload, ConsoleRenderer
from bot.core.errors import FeedUnavailable
from bot.core.messages import Post
from bot.core.models import Block, Issue, Item, Section, Span
from bot.ports import Destination, Rendered, Sent
from bot.settings.config import Config, DeliveryConfig, DestinationConfig, FeedConfig
from bot.storage.store import SaveResult, Store
from scheduler.service import DeliveryService


class Clock:
    """A clock the test moves by hand: no real waiting for cron ticks."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when


SECTIONS = [("publications", "Publications 📙", "📙"), ("tools_datasets", "Outils et jeux de données ⚙️", "⚙️"),
            ("education", "Éducation 🎓", "🎓"), ("mentions", "Mentions ⭐️", "⭐️")]


def make_issue(entry_id: str, *, lang: str = "fr", number: int = 4, day: int = 1, feed: str = "nlp",
               sections: Sequence[tuple[str, str, str]] = SECTIONS, items: int = 2, tag: str = "",
               long: int = 0) -> Issue:
    """An edition with `items` items per section; `tag` changes the text (an edit); `long` pads bodies."""
    built = []
    for pos, (key, heading, emoji) in enumerate(sections):
        title = heading.replace(emoji, "").strip()
        its = tuple(
            Item(title=f"{title} item {i}{tag}",
                 body=(Block("paragraph", (Span(f"Text {i} of {key}{tag}. " + "x" * long),)),),
                 links=(f"https://example.org/{key}/{i}",), sources=(f"https://example.org/{key}/{i}",))
            for i in range(items))
        built.append(Section(key=key, heading=heading, title=title, emoji=emoji, position=pos, items=its))
    return Issue(entry_id=entry_id, link=f"https://dair.ai/{entry_id}", title=f"NLP Newsletter #{number}",
                 published=datetime(2020, 3, day, tzinfo=UTC), language=lang, number=number,
                 sections=tuple(built), feed=feed)


class Feeder:
    """Stands in for the Ingestor: a poll saves the issues queued for it, or fails on cue."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.queue: list[Issue] = []
        self.fail: str | None = None
        self.polls = 0

    def publish(self, *issues: Issue) -> None:
        self.queue.extend(issues)

    async def poll(self, feed: FeedConfig) -> list[SaveResult]:
        self.polls += 1
        if self.fail:
            self.store.record_feed_error(feed.name, feed.url, self.fail)
            raise FeedUnavailable(feed.name, self.fail)
        issues, self.queue = self.queue, []
        results = self.store.save_issues(issues)
        self.store.record_feed_success(feed.name, feed.url, etag=None, last_modified=None)
        return results


@dataclass
class Call:
    op: str
    dest: str
    key: str
    text: str
    notify: bool
    at: datetime


@dataclass
class ScriptedPlatform:
    """Renders like the console; as the sender, `faults[dest]` holds errors raised by the next calls there."""

    clock: Clock
    name: str = "console"
    max_chars: int = 4000
    calls: list[Call] = field(default_factory=list)
    faults: dict[str, list[Exception]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._console = ConsoleRenderer(max_chars=self.max_chars)

    @property
    def renderer(self) -> ConsoleRenderer:
        return self._console

    @property
    def sender(self) -> ScriptedPlatform:
        return self

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def render(self, post: Post, dest: Destination) -> list[Rendered[ConsolePayload]]:
        return self._console.render(post, dest)

    def render_answer(self, answer: Any) -> list[Rendered[ConsolePayload]]:
        return self._console.render_answer(answer)

    def _fault(self, dest: Destination) -> None:
        queue = self.faults.get(dest.name)
        if queue:
            raise queue.pop(0)

    async def send(self, dest: Destination, part: Rendered, *, key: str) -> Sent:
        self._fault(dest)
        self.calls.append(Call("send", dest.name, key, part.text, part.notify, self.clock()))
        return Sent(chat_id=dest.chat, message_ids=(key,), url=f"https://chat.example/{dest.name}/{key}")

    async def edit(self, dest: Destination, sent: Sent, part: Rendered) -> Sent:
        self._fault(dest)
        self.calls.append(Call("edit", dest.name, sent.message_ids[0], part.text, part.notify, self.clock()))
        return sent

    async def serve(self, engine: Any) -> None: ...

    def sends(self, dest: str) -> list[Call]:
        return [c for c in self.calls if c.op == "send" and c.dest == dest]

    def headers(self, dest: str) -> list[str]:
        return [c.text.splitlines()[0] for c in self.sends(dest)]


def dest(name: str, **kwargs: Any) -> DestinationConfig:
    kwargs.setdefault("platform", "console")
    kwargs.setdefault("languages", ["fr"])
    kwargs.setdefault("index", False)
    return DestinationConfig(name=name, **kwargs)


def make_config(*dests: DestinationConfig, **delivery: Any) -> Config:
    delivery.setdefault("backoff_base", 2.0)
    return Config(feeds=[FeedConfig(name="nlp", url="https://dair.ai/feed.xml")],
                  destinations=list(dests), delivery=DeliveryConfig(**delivery))


def make_service(config: Config, store: Store, clock: Clock, platform: ScriptedPlatform,
                 feeder: Feeder) -> DeliveryService:
    return DeliveryService(config, store, {"console": platform}, feeder, clock=clock)  # type: ignore[arg-type]
