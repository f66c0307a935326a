"""`status` and `plan` as text for a terminal: aligned tables, times in each destination's zone.

Only formatting lives here; the data comes from scheduler/status.py and
scheduler/forecast.py, which `--json` prints as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.i18n import plural_en
from bot.feeds.ingest import skipped_words
from scheduler.forecast import DestinationPlan
from scheduler.status import DestinationStatus, FeedStatus, Selection, ServiceStatus

__all__ = ["plan_text", "status_text"]

_NONE = "—"


def _when(when: datetime | None) -> str:
    """ "Tue 2026-12-01 09:00 CET": the day matters in a plan, seconds do not."""
    return when.strftime("%a %Y-%m-%d %H:%M %Z") if when is not None else _NONE


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    return ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in (headers, *rows)]


def _skipped(feed: FeedStatus) -> str:
    """"2 (fewer sections than min_sections)": entries of the feed's last read that are not issues."""
    total = sum(feed.skipped.values())
    if feed.entries is None:
        return _NONE
    return skipped_words(feed.skipped).replace(" entries skipped", "").replace(" entry skipped", "") if total else "0"


def status_text(status: ServiceStatus) -> str:
    """Two tables, feeds then destinations, each followed by what needs a maintainer's eye: held
    issues; selections; blocked destinations; posts waiting to retry (each part only when it has lines)."""
    parts = [_feeds_table(status.feeds), _held(status.feeds), _destinations_table(status.destinations),
             _selections(status.destinations), _blocked(status.destinations), _retrying(status.destinations)]
    return "\n".join(line for part in parts for line in part)


def _indented(lines: Sequence[str]) -> list[str]:
    return ["  " + line for line in lines]


def _feeds_table(feeds: Sequence[FeedStatus]) -> list[str]:
    lines = ["Feeds"]
    lines += _indented(_table(
        ("name", "last poll", "last error", "skipped entries", "issues"),
        [(f.name, _when(f.last_poll), f.last_error or _NONE, _skipped(f), str(f.issues)) for f in feeds]))
    if not feeds:
        lines.append("  (no feed configured)")
    return lines


def _held(feeds: Sequence[FeedStatus]) -> list[str]:
    held = [(f.name, h) for f in feeds for h in f.held]
    if not held:
        return []
    return ["", "Held: stored, not delivered (over feeds.max_sections / max_items)",
            *(f"  {name}: {h.title or h.entry_id} — {h.reason}" for name, h in held)]


def _destination_row(d: DestinationStatus) -> tuple[str, ...]:
    if d.removed:
        schedule, next_run = "(no longer configured)", _NONE
    else:
        schedule = d.schedule_words or d.schedule or _NONE
        next_run = _when(d.next_run) if d.next_run else ("on publish" if d.schedule == "on_publish" else _NONE)
    queue = f"{d.queued}, next: {d.next}" if d.next else str(d.queued)
    return (d.name, d.platform or _NONE, schedule, next_run, queue, str(d.outbox.get("sent", 0)),
            str(d.outbox.get("failed", 0)), str(d.outbox.get("dead", 0)), d.paused or _NONE)


def _destinations_table(dests: Sequence[DestinationStatus]) -> list[str]:
    lines = ["", "Destinations"]
    lines += _indented(_table(
        ("name", "platform", "schedule", "next run", "queue", "delivered", "failed", "dead", "paused"),
        [_destination_row(d) for d in dests]))
    if not dests:
        lines.append("  (no destination)")
    return lines


def _selection_line(name: str, sel: Selection) -> str:
    what = [f"feeds {', '.join(sel.feeds) or 'all'}", f"languages {', '.join(sel.languages) or 'all'}",
            f"sections {', '.join(sel.sections)}"]
    if sel.include:
        what.append(f"only about {', '.join(sel.include)}")
    if sel.exclude:
        what.append(f"never about {', '.join(sel.exclude)}")
    reset = " — `digestbot reset " + name + "` restores config.toml's" if sel.overridden else ""
    return f"  {name}: {'; '.join(what)} — from {sel.source}{reset}"


def _selections(dests: Sequence[DestinationStatus]) -> list[str]:
    chosen = [_selection_line(d.name, d.selection) for d in dests if d.selection is not None]
    if not chosen:
        return []
    return ["", "Selections (what each destination receives, and where that comes from)", *chosen]


def _blocked(dests: Sequence[DestinationStatus]) -> list[str]:
    blocked = [d for d in dests if d.blocked_until is not None and not d.paused]
    if not blocked:
        return []
    return ["", "Blocked: nothing more goes out to these before the time shown (their posts keep their order)",
            *_indented(_table(("destination", "until", "why"),
                              [(d.name, _when(d.blocked_until), d.blocked_reason or _NONE) for d in blocked]))]


def _retrying(dests: Sequence[DestinationStatus]) -> list[str]:
    failed = [(d.name, f) for d in dests for f in d.failed]
    if not failed:
        return []
    return ["", "Waiting to retry (`digestbot retry NAME` sends them now)",
            *_indented(_table(
                ("destination", "post", "attempts", "next attempt", "error"),
                [(name, f"{f.unit} part {f.part + 1}", str(f.attempts), _when(f.next_attempt), f.error or _NONE)
                 for name, f in failed]))]


def plan_text(plans: Sequence[DestinationPlan], days: int) -> str:
    """Per destination: a line per delivery (when, what), idle ticks summed up, then what follows."""
    lines = [f"Deliveries planned for the next {plural_en(days, 'day')}, in each destination's time zone."]
    for plan in plans:
        lines += ["", f"{plan.name} → {plan.platform} {plan.to} — {plan.schedule_words}"]
        if plan.paused:
            lines.append(f"  PAUSED: {plan.paused} (nothing goes out until this is fixed)")
        rows = [(f"{_when(d.when)} (queued)" if d.queued else _when(d.when), d.what) for d in plan.deliveries]
        lines += ["  " + line for line in _table(("when", "what"), rows)] if rows else ["  nothing in this window"]
        if plan.idle_ticks:
            first, last = plan.idle_ticks[0], plan.idle_ticks[-1]
            span = _when(first) if first == last else f"{_when(first)} … {_when(last)}"
            lines.append(f"  {plural_en(len(plan.idle_ticks), 'more tick')} with nothing to send yet: {span}")
        if plan.then:
            lines.append(f"  then {plan.then}")
    if not plans:
        lines.append("(no destination)")
    return "\n".join(lines)
