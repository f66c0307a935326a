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

from bot.contract.destination import ConsoleOptions, Destination, DiscordOptions, TelegramOptions
from bot.contract.presentation import Compact
from bot.core.i18n import plural_en
from scheduler.forecast import PlannedDelivery, ServiceView, plan_destination
from scheduler.outbox import OPEN_STATES, OutboxRow, SentPost
from scheduler.sendnow import describe_unit

__all__ = ["HistoryLine", "QueueEntry", "QueueView", "effective_config", "history_lines", "queue_view"]

#: How far ahead planned posts are given a time; a backlog beyond it is counted, not listed.
_HORIZON = timedelta(days=366)


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
    """Each delivered post labelled as `send` reports it, with when it was confirmed in the destination's zone."""
    planner = service.planner
    zone = ZoneInfo(dest_zone)
    lines = []
    for post in posts:
        label = describe_unit(planner.issue(post.entry_id), post.unit)
        when = datetime.fromtimestamp(post.sent_at, UTC).astimezone(zone) if post.sent_at else None
        lines.append(HistoryLine(f"edit of {label}" if post.op == "edit" else label, post, when))
    return lines


def effective_config(dest: Destination, feeds: Sequence[str]) -> list[tuple[str, str]]:
    """(label, value) for every setting that decides what this destination receives and how."""
    facts = [
        ("Languages", ", ".join(dest.languages) or "every language"),
        ("Sections", "all" if tuple(dest.sections) in ((), ("*",)) else ", ".join(dest.sections)),
        ("Feeds", ", ".join(dest.feeds) if dest.feeds else f"all ({', '.join(feeds)})"),
        ("Include (items mentioning)", _terms(dest.filters.include)),
        ("Exclude (items mentioning)", _terms(dest.filters.exclude)),
        ("Schedule", dest.schedule.words()),
        ("Time zone", dest.timezone),
        ("On edit", dest.on_edit),
        ("Backfill", f"the newest {plural_en(dest.backfill, 'issue')} on first start"),
        ("Compact", _COMPACT[dest.presentation.compact]),
    ]
    if dest.presentation.max_item_chars is not None:
        facts.append(("Max characters per item", str(dest.presentation.max_item_chars)))
    match dest.options:
        case TelegramOptions() as tg:
            facts += [("Link previews", _yes(tg.link_preview)), ("Images", tg.images),
                      ("Topic", str(tg.topic) if tg.topic is not None else "— (the chat itself)")]
            if tg.topics:
                facts.append(("Topics per section", ", ".join(f"{k} → {v}" for k, v in tg.topics.items())))
        case DiscordOptions() as dc:
            facts += [("Format", dc.format), ("Thread per issue", _yes(dc.thread)), ("Images", dc.images),
                      ("Mention role", dc.mention_role or "— (pings nobody)")]
            if dc.mention_roles:
                roles = ", ".join(f"{k} → {v}" for k, v in dc.mention_roles.items())
                facts.append(("Mention roles per section", roles))
        case ConsoleOptions():
            pass
    facts.append(("Index message", _yes(dest.index)))
    return facts


def _terms(terms: Sequence[str]) -> str:
    return ", ".join(f'"{t}"' for t in terms) or "—"


#: How the panel says each `compact` setting.
_COMPACT = {Compact.AUTO: "auto (link-only items as a list)", Compact.ALWAYS: "yes (one line per item)",
            Compact.NEVER: "no (every item in full)"}


def _yes(value: bool) -> str:
    return "yes" if value else "no"
