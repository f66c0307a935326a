"""What a destination's page shows: its effective configuration, its one queue, its history by post.

The queue is the plan `digestbot status` counts (`build_status` → `plan_destination`):
posts already in the outbox (with their rows' state) and posts the schedule will release,
so the page's "N waiting" is status's `queued`, item for item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.models import Destination
from scheduler.outbox import OPEN_STATES, OutboxRow, SentPost
from scheduler.plan import PlannedDelivery, ServiceView, plan_destination, unit_label

__all__ = ["HistoryLine", "QueueEntry", "QueueView", "effective_config", "history_lines", "queue_view"]

#: How far ahead planned posts are given a time; a backlog beyond it is counted, not listed.
_HORIZON = timedelta(days=366)
_OPTION_LABELS = {
    "feeds": "Feeds", "include": "Include (items mentioning)", "exclude": "Exclude (items mentioning)",
    "topic": "Topic", "topics": "Topics per section", "per_tick": "Sections per tick", "compact": "Compact",
    "max_item_chars": "Max characters per item", "images": "Images", "link_preview": "Link previews",
    "index": "Index message", "format": "Format", "thread": "Thread per issue", "mention_role": "Mention role",
    "mention_roles": "Mention roles per section",
}

_COMMON = frozenset({"compact", "max_item_chars", "per_tick"})
_PLATFORM = {"telegram": frozenset({"link_preview", "images", "topic", "topics", "index"}),
             "discord": frozenset({"format", "thread", "images", "index", "mention_role", "mention_roles"})}


@dataclass(frozen=True, slots=True)
class QueueEntry:
    delivery: PlannedDelivery
    rows: tuple[OutboxRow, ...]  # its outbox rows (empty for a post the schedule has not released yet)

    @property
    def state(self) -> str:
        """The state of the part the worker is at: failed before sending before pending."""
        states = {row.state for row in self.rows}
        return next((s for s in ("failed", "sending", "pending") if s in states), "planned")

    @property
    def error(self) -> str | None:
        return next((row.error for row in self.rows if row.error), None)


@dataclass(frozen=True, slots=True)
class QueueView:
    entries: tuple[QueueEntry, ...]
    in_outbox: int  # posts already in the outbox
    planned: int  # posts the schedule will release (the whole backlog)

    @property
    def total(self) -> int:
        """What `digestbot status` shows as `queued`."""
        return self.in_outbox + self.planned

    @property
    def later(self) -> int:
        """Planned posts beyond the listed horizon."""
        return self.planned - sum(1 for e in self.entries if not e.delivery.queued)


def queue_view(service: ServiceView, dest: Destination, now: datetime) -> QueueView:
    """The outbox's posts (one per post, its rows attached) then the schedule's, in the order they go out."""
    plan = plan_destination(service, dest, now, now + _HORIZON)
    rows = [r for r in service.outbox.rows(dest.name) if r.state in OPEN_STATES]
    entries = []
    for delivery in plan.deliveries:
        mine = tuple(r for r in rows if delivery.queued and (r.entry_id, r.unit) == (delivery.entry_id, delivery.unit))
        entries.append(QueueEntry(delivery, mine))
    return QueueView(tuple(entries), sum(1 for d in plan.deliveries if d.queued), plan.backlog)


@dataclass(frozen=True, slots=True)
class HistoryLine:
    label: str
    post: SentPost
    when: datetime | None  # in the destination's zone


def history_lines(service: ServiceView, dest_zone: str, posts: Sequence[SentPost]) -> list[HistoryLine]:
    """Each delivered post labelled as `status` labels it, with when it was confirmed in the destination's zone."""
    planner = service.planner
    zone = ZoneInfo(dest_zone)
    lines = []
    for post in posts:
        label = unit_label(planner.issue(post.entry_id), post.entry_id, post.unit)
        when = datetime.fromtimestamp(post.sent_at, UTC).astimezone(zone) if post.sent_at else None
        lines.append(HistoryLine(f"edit of {label}" if post.op == "edit" else label, post, when))
    return lines


def effective_config(dest: Destination, feeds: Sequence[str]) -> list[tuple[str, str]]:
    """(label, value) for every setting that decides what this destination receives and how."""
    options = dict(dest.options)
    chosen_feeds = options.pop("feeds", None)
    facts = [
        ("Languages", ", ".join(dest.languages) or "every language"),
        ("Sections", "all" if tuple(dest.sections) in ((), ("*",)) else ", ".join(dest.sections)),
        ("Feeds", ", ".join(chosen_feeds) if chosen_feeds else f"all ({', '.join(feeds)})"),
        ("Time zone", dest.timezone),
        ("On edit", dest.on_edit),
        ("Backfill", f"the newest {dest.backfill} issue(s) on first start"),
    ]
    for key in ("include", "exclude"):
        facts.append((_OPTION_LABELS[key], ", ".join(f'"{w}"' for w in options.pop(key, None) or ()) or "—"))
    shown_keys = _COMMON | _PLATFORM.get(dest.platform, frozenset())
    for key, value in sorted(options.items()):
        if key not in shown_keys or value is None or value in ("", (), [], {}):
            continue
        if isinstance(value, bool):
            facts.append((_OPTION_LABELS.get(key, key), "yes" if value else "no"))
            continue
        shown = (", ".join(f"{k} → {v}" for k, v in value.items()) if isinstance(value, dict)
                 else ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value))
        facts.append((_OPTION_LABELS.get(key, key), shown))
    return facts
