"""`send DEST`: one destination now, and an honest account of what happened to each post.

The CLI's `send` (and later the web panel's send action) calls this. It touches only the
named destination: the rows it enqueues go through the outbox like any others (same keys,
same ordering, same at-least-once record), but they are drained by a worker that sees no
other destination, so a `send` never delivers anybody else's queue. It waits for the
platform's answers (and for retries that are due within `wait`), then reports each post
as delivered, failed (still queued; `run` retries it) or dead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from bot.errors import ConfigError, DigestbotError
from bot.messages import DigestPost, SectionPost
from bot.models import Issue, IssueRef
from bot.ports import Destination, Outlet, Rendered
from scheduler.outbox import OutboxRow
from scheduler.planner import DIGEST, INDEX, Planner
from scheduler.selection import SectionMatcher, matches_issue, selected_sections
from scheduler.worker import DeliveryWorker

__all__ = ["PlannedPost", "PostReport", "SendReport", "describe_unit", "plan_send", "send_to"]

State = Literal["delivered", "failed", "dead"]


@dataclass(frozen=True, slots=True)
class PostReport:
    """One post (a section, a digest or an index, in one or more messages) and its outcome."""

    label: str
    messages: int
    state: State
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class SendReport:
    destination: str
    edition: str
    posts: tuple[PostReport, ...]

    @property
    def ok(self) -> bool:
        return all(post.state == "delivered" for post in self.posts)


@dataclass(frozen=True, slots=True)
class PlannedPost:
    """What `--dry-run` shows: a post as the platform will receive it."""

    label: str
    parts: tuple[Rendered, ...]


def describe_unit(issue: Issue | None, unit: str) -> str:
    """"Publications · NLP Newsletter #7 (FR)": the words a maintainer reads in logs and reports."""
    label = issue.ref.label if issue is not None else "?"
    if unit == DIGEST:
        return f"digest · {label}"
    if unit == INDEX:
        return f"index · {label}"
    section = next((s for s in issue.sections if s.key == unit), None) if issue is not None else None
    name = section.heading.strip() if section is not None and section.heading.strip() else unit
    return f"{name} · {label}"


class _Target:
    """The destination, edition and section a `send` asked for, resolved or refused in one line."""

    def __init__(self, planner: Planner, matcher: SectionMatcher, dests: Mapping[str, Destination],
                 platforms: Mapping[str, Outlet], name: str, number: int | None, section: str | None) -> None:
        dest = dests.get(name)
        if dest is None:
            known = ", ".join(sorted(dests)) or "none"
            raise ConfigError(f"destinations.{name}", f"unknown destination (configured: {known})")
        if dest.platform not in platforms:
            raise DigestbotError(f"destination {name!r}: platform {dest.platform} is not available")
        store = planner.store
        refs = store.editions(number) if number is not None else store.list_issues(limit=10_000)
        ref: IssueRef | None = next((r for r in refs if matches_issue(dest, r)), None)
        if ref is None:
            which = f" and issue #{number}" if number is not None else ""
            raise DigestbotError(f"no stored edition for destination {name!r}{which}")
        issue = planner.issue(ref.entry_id)
        if issue is None:
            raise DigestbotError(f"{ref.label} is no longer stored")
        key = None
        if section is not None:
            match = next((s for s in issue.sections if matcher.wanted(s, (section,))), None)
            if match is None:
                keys = ", ".join(s.key for s in issue.sections)
                raise DigestbotError(f"{ref.label} has no section {section!r} (it has: {keys})")
            key = match.key
        self.dest, self.issue, self.key = dest, issue, key


def plan_send(planner: Planner, matcher: SectionMatcher, dests: Mapping[str, Destination],
              platforms: Mapping[str, Outlet], name: str, number: int | None = None,
              section: str | None = None) -> list[PlannedPost]:
    """Exactly what `send_to` would send, rendered for the destination's platform; sends nothing."""
    target = _Target(planner, matcher, dests, platforms, name, number, section)
    dest, issue, platform = target.dest, target.issue, platforms[target.dest.platform].renderer
    sections = selected_sections(dest, issue, matcher)
    if dest.schedule.startswith("digest"):
        post = DigestPost(issue=issue.ref, sections=tuple(sections), notify=True)
        return [PlannedPost(describe_unit(issue, DIGEST), tuple(platform.render(post, dest)))]
    chosen = [s for s in issue.sections if s.key == target.key] if target.key else sections
    return [PlannedPost(describe_unit(issue, s.key),
                        tuple(platform.render(SectionPost(issue=issue.ref, section=s, notify=i == 0),
                                              dest)))
            for i, s in enumerate(chosen)]


async def send_to(planner: Planner, matcher: SectionMatcher, dests: Mapping[str, Destination],
                  platforms: Mapping[str, Outlet], worker_for: Callable[[Destination], DeliveryWorker],
                  name: str, number: int | None = None, section: str | None = None, *,
                  clock: Callable[[], float], wait: float = 30.0) -> SendReport:
    """Enqueue an edition (or one section) for one destination, deliver it, and report each post.

    Retries the platform asks for within `wait` seconds (a 429, a 5xx) are awaited; later
    ones stay queued for `digestbot run` and are reported as failed with their reason.
    """
    target = _Target(planner, matcher, dests, platforms, name, number, section)
    outbox = planner.outbox
    outbox.ensure_dest(name, clock())
    before = max((row.id for row in outbox.rows(name)), default=0)
    planner.send_now(target.dest, target.issue.entry_id, target.key)
    worker = worker_for(target.dest)
    deadline = clock() + wait
    while True:
        await worker.drain()
        mine = [row for row in outbox.rows(name) if row.id > before]
        waiting = [row for row in mine if row.state in ("pending", "sending", "failed")]
        state = outbox.dest_state(name)
        if not waiting or (state is not None and state.paused_reason):
            break
        head = next((row for row in outbox.heads() if row.destination == name), None)
        due = head.next_attempt_at if head is not None else deadline + 1
        if due > deadline:
            break
        await asyncio.sleep(max(0.0, due - clock()))
    mine = [row for row in outbox.rows(name) if row.id > before]
    return SendReport(name, target.issue.ref.label, tuple(_posts(planner, mine)))


def _posts(planner: Planner, rows: list[OutboxRow]) -> list[PostReport]:
    groups: dict[tuple[str, str, int, str], list[OutboxRow]] = {}
    for row in rows:
        groups.setdefault((row.entry_id, row.unit, row.revision, row.op), []).append(row)
    reports = []
    for (entry_id, unit, _revision, op), parts in groups.items():
        label = describe_unit(planner.issue(entry_id), unit) + (" (edit)" if op == "edit" else "")
        dead = next((r for r in parts if r.state == "dead"), None)
        open_row = next((r for r in parts if r.state != "sent"), None)
        if dead is not None:
            reports.append(PostReport(label, len(parts), "dead", dead.error))
        elif open_row is not None:
            reason = (open_row.error or "not attempted yet") + "; still queued: `digestbot run` delivers it"
            reports.append(PostReport(label, len(parts), "failed", reason))
        else:
            reports.append(PostReport(label, len(parts), "delivered"))
    return reports
