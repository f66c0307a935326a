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
from dataclasses import dataclass, replace
from typing import Literal, assert_never

from bot.core.errors import ConfigError, DigestbotError
from bot.core.messages import DigestPost, IndexPost, Post, SectionPost
from bot.core.models import Issue, IssueRef
from bot.ports import Destination, Outlet, Rendered
from scheduler.outbox import OPEN_STATES, OutboxRow
from scheduler.planner import DIGEST, INDEX, Planner
from scheduler.selection import SectionMatcher
from scheduler.worker import DeliveryWorker

__all__ = ["PlannedPost", "PostReport", "SendReport", "describe_unit", "hand_over", "plan_send", "send_to"]

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
    """The destination, edition and section a `send` asked for, resolved or refused in one line.

    The edition is picked among the destination's own feeds and languages only (its newest one
    by default; `--issue N` is issue N of those feeds), so a send never crosses newsletters.
    """

    def __init__(self, planner: Planner, matcher: SectionMatcher, dests: Mapping[str, Destination],
                 platforms: Mapping[str, Outlet], name: str, number: int | None, section: str | None) -> None:
        dest = dests.get(name)
        if dest is None:
            known = ", ".join(sorted(dests)) or "none"
            raise ConfigError(f"destinations.{name}", f"unknown destination (configured: {known})")
        if dest.platform not in platforms:
            raise DigestbotError(f"destination {name!r}: platform {dest.platform} is not available")
        ref: IssueRef | None = next(iter(planner.candidates(dest, number)), None)
        if ref is None:
            which = f" issue #{number}" if number is not None else " edition"
            scope = _scope(dest)
            raise DigestbotError(f"no stored{which} for destination {name!r}{scope}")
        issue = planner.issue(ref.entry_id)
        if issue is None:
            raise DigestbotError(f"{ref.label} is no longer stored")
        key = None
        if section is not None:
            match = next((s for s in issue.sections if matcher.wanted(s, (section,))), None)
            if match is None:
                keys = ", ".join(s.key for s in issue.sections)
                raise DigestbotError(f"{ref.label} has no section {section!r} (it has: {keys})")
            if not planner.receives(dest, issue, only=match.key).sections:
                raise DigestbotError(f"{ref.label}: no item of section {match.key!r} passes {name}'s topic filters")
            key = match.key
        self.dest, self.issue, self.key = dest, issue, key


def _scope(dest: Destination) -> str:
    """" (feeds: nlp; languages: fr)": what a destination picks editions from, for a refusal."""
    parts = []
    if dest.feeds:
        parts.append("feeds: " + ", ".join(dest.feeds))
    if dest.languages:
        parts.append("languages: " + ", ".join(dest.languages))
    return f" ({'; '.join(parts)})" if parts else ""


def _planned_units(planner: Planner, target: _Target) -> list[tuple[str, Post]]:
    """(unit, post) for every post a real send of `target` enqueues, index included, in order.

    Mirrors `Planner.send_now` and `Planner.after_sent`: a whole edition leaves out the sections
    already queued or delivered (and an index already posted); one section is always sent again.
    """
    dest, issue = target.dest, target.issue
    receipt = planner.receives(dest, issue, only=target.key)
    posts = receipt.posts()
    if target.key is not None:
        return [(target.key, post) for post in posts]
    done = planner.outbox.units_enqueued(dest.name, issue.entry_id)
    units: list[tuple[str, Post]] = []
    first = not planner.outbox.has_rows(dest.name, issue.entry_id)
    for post in posts:
        match post:
            case DigestPost():
                unit = DIGEST
            case IndexPost():
                unit = INDEX
            case SectionPost(section=section):
                unit = section.key
            case _:
                assert_never(post)
        if unit in done:
            continue
        if isinstance(post, SectionPost):
            post = replace(post, notify=first)
            first = False
        units.append((unit, post))
    if all(unit == INDEX for unit, _ in units):
        return []  # nothing new: the index is only (re)posted after sections go out
    return units


def plan_send(planner: Planner, matcher: SectionMatcher, dests: Mapping[str, Destination],
              platforms: Mapping[str, Outlet], name: str, number: int | None = None,
              section: str | None = None) -> list[PlannedPost]:
    """Exactly the posts `send_to` would post (the index included), rendered for the destination's
    platform; reads only, sends nothing."""
    target = _Target(planner, matcher, dests, platforms, name, number, section)
    renderer = platforms[target.dest.platform].renderer
    return [PlannedPost(describe_unit(target.issue, unit), tuple(renderer.render(post, target.dest)))
            for unit, post in _planned_units(planner, target)]


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
        waiting = [row for row in mine if row.state in OPEN_STATES]
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


async def hand_over(planner: Planner, matcher: SectionMatcher, dests: Mapping[str, Destination],
                    platforms: Mapping[str, Outlet], name: str, number: int | None = None,
                    section: str | None = None, *, clock: Callable[[], float], wait: float = 60.0,
                    poll: float = 0.2) -> SendReport:
    """`send` while `digestbot run` holds the database: enqueue, and let the running service deliver.

    The rows go into the outbox this process shares with the service (SQLite); the service's loop
    looks at the outbox at least every second, delivers them as its own, and posts the index after
    them. This waits until every post it expects (the dry run's list) has its outcome, or until
    `wait` seconds have passed, then reports each post as `send_to` does.
    """
    target = _Target(planner, matcher, dests, platforms, name, number, section)
    expected = {unit for unit, _ in _planned_units(planner, target)}
    outbox = planner.outbox
    before = max((row.id for row in outbox.rows(name)), default=0)
    planner.send_now(target.dest, target.issue.entry_id, target.key)
    deadline = clock() + wait
    while True:
        mine = [row for row in outbox.rows(name) if row.id > before]
        settled = _settled(mine, expected, deadline)
        state = outbox.dest_state(name)
        if settled or (state is not None and state.paused_reason) or clock() >= deadline:
            break
        await asyncio.sleep(poll)
    mine = [row for row in outbox.rows(name) if row.id > before]
    return SendReport(name, target.issue.ref.label, tuple(_posts(planner, mine)))


def _settled(rows: list[OutboxRow], expected: set[str], deadline: float) -> bool:
    """Every expected post has rows, and each row is sent, dead, or waiting beyond the deadline."""
    final = all(row.state in ("sent", "dead") or (row.state == "failed" and row.next_attempt_at > deadline)
                for row in rows)
    if not final:
        return False
    if any(row.state != "sent" for row in rows):
        expected = expected - {INDEX}  # the index follows only sections that all got out
    return expected <= {row.unit for row in rows}


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
