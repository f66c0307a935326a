"""`GET /metrics`: the bot's state in the Prometheus text format (prometheus-client).

Delivery and feed figures are read from the database at scrape time — the outbox and the
feed table are already the source of truth, so a restart never resets or double-counts
them. Command answers are counted as they happen (they are not stored anywhere).

`/metrics` needs no login, so its labels name only what the operator wrote in config.toml:
a runtime subscription's name is its chat id (for a private chat, the person's user id), so
every destination not in config.toml is summed into one series per platform labelled
`destination="(subscriptions)"`, and `digestbot_subscriptions` counts them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.chat.commands import Query
from bot.chat.query import QueryEngine
from bot.core.messages import Answer
from bot.ports import Destination
from bot.storage.store import Store
from scheduler.outbox import OPEN_STATES, Outbox

__all__ = ["CONTENT_TYPE", "MeteredEngine", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SUBSCRIPTIONS = "(subscriptions)"  # the one label value every destination not in config.toml is counted under


class _StateCollector(Collector):
    """Outbox and feed figures, read at each scrape."""

    def __init__(self, store: Store, outbox: Outbox, destinations: Callable[[], Mapping[str, Destination]],
                 configured: Collection[str]) -> None:
        self.store = store
        self.outbox = outbox
        self.destinations = destinations
        self.configured = frozenset(configured)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["destination", "platform"]
        families = {
            "sent": GaugeMetricFamily("digestbot_delivered_messages", "Messages delivered", labels=labels),
            "failed": GaugeMetricFamily("digestbot_failed_messages",
                                        "Messages whose last attempt failed, waiting for a retry", labels=labels),
            "dead": GaugeMetricFamily("digestbot_dead_messages",
                                      "Messages given up on (`digestbot retry` re-queues them)", labels=labels),
        }
        queue = GaugeMetricFamily("digestbot_queue_depth", "Messages queued and not yet delivered", labels=labels)
        dests = self.destinations()
        series: dict[tuple[str, str], dict[str, int]] = {}  # (label, platform) → rows by state
        subscriptions: dict[str, int] = {}
        for name, subscribed in dests.items():
            if name not in self.configured:
                subscriptions[subscribed.platform] = subscriptions.get(subscribed.platform, 0) + 1
        for name, states in self.outbox.counts().items():
            dest = dests.get(name)
            platform = dest.platform if dest is not None else "removed"
            label = name if name in self.configured else SUBSCRIPTIONS
            total = series.setdefault((label, platform), {})
            for state, n in states.items():
                total[state] = total.get(state, 0) + n
        for (label, platform), states in sorted(series.items()):
            for state, family in families.items():
                family.add_metric([label, platform], states.get(state, 0))
            queue.add_metric([label, platform], sum(states.get(state, 0) for state in OPEN_STATES))
        count = GaugeMetricFamily("digestbot_subscriptions",
                                  "Runtime subscriptions: chats that /subscribe'd outside config.toml",
                                  labels=["platform"])
        for platform, n in sorted(subscriptions.items()):
            count.add_metric([platform], n)
        yield count
        yield from families.values()
        yield queue
        last_ok = GaugeMetricFamily("digestbot_feed_last_success_timestamp_seconds",
                                    "When the feed was last fetched successfully (Unix time)", labels=["feed"])
        errors = GaugeMetricFamily("digestbot_feed_consecutive_errors",
                                   "Polls that failed since the last successful one", labels=["feed"])
        for feed in self.store.feed_states():
            if feed.last_ok:
                last_ok.add_metric([feed.name], _epoch(feed.last_ok))
            errors.add_metric([feed.name], feed.error_count)
        yield last_ok
        yield errors


def _epoch(value: str) -> float:
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return 0.0


class Metrics:
    """One registry per running bot (not the process-global one, so tests stay independent)."""

    def __init__(self, store: Store, outbox: Outbox, destinations: Callable[[], Mapping[str, Destination]],
                 commands: Iterable[str], *, configured: Collection[str] = ()) -> None:
        """`configured`: the names of config.toml's destinations, the only ones labelled by name."""
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_StateCollector(store, outbox, destinations, configured))
        self.commands = frozenset(commands)
        self.answers = Counter("digestbot_command_answers", "Chat commands answered", ["command", "platform"],
                               registry=self.registry)

    def count_answer(self, query: Query) -> None:
        command = query.command.name if query.command.name in self.commands else "other"
        self.answers.labels(command=command, platform=query.platform).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MeteredEngine(QueryEngine):
    """The query engine, counting each answer by command for /metrics."""

    def __init__(self, *args: object, metrics: Metrics, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.metrics = metrics

    def answer(self, query: Query) -> Answer:
        result = super().answer(query)
        self.metrics.count_answer(query)
        return result
