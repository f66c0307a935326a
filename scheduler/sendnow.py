"""`send DEST`: one destination now, and an honest account of what happened to each post.

`scheduler.operations.Operations.send` (which the CLI's `send` and the panel's Send call) uses these
pieces: resolve the request (`Target`), show it (`plan_send`), deliver it (`deliver`, or
`hand_over` beside a running `run`). A send touches only the
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
from typing import Literal, Protocol, assert_never

from bot.core.errors import ConfigError, DigestbotError
from bot.core.messages import DigestPost, IndexPost, Post, SectionPost
from bot.core.models import Issue, IssueRef
from bot.ports import Destination, Outlet, Rendered
from scheduler.outbox import OPEN_STATES, OutboxRow
from scheduler.planner import DIGEST, INDEX, Planner
from scheduler.selection import SectionMatcher

__all__ = ["Drain", "PlannedPost", "PostReport", "SendReport", "SendRequest", "SendView", "Target", "deliver",
           "describe_unit", "hand_over", "plan_send", "planned_units"]

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


@dataclass(frozen=True, slots=True)
class SendRequest:
    """What a `send` asks for: a destination, an issue (None: its newest), a section (None: the whole
    edition), and whether to only show the posts (`--dry-run`, the panel's first step)."""

    destination: str
    issue: int | None = None
    section: str | None = None
    dry_run: bool = False


class SendView(Protocol):
    """What a send reads of the delivery service (`DeliveryService` is one)."""

    planner: Planner
    matcher: SectionMatcher
    platforms: Mapping[str, Outlet]

    def destinations(self) -> dict[str, Destination]: ...


@dataclass(frozen=True, slots=True)
class Target:
    """The destination, edition and section a `send` asked for, resolved or refused in one line.

    The edition is picked among the destination's own feeds and languages only (its newest one
    by default; `--issue N` is issue N of those feeds), so a send never crosses newsletters.
    """

    dest: Destination
    issue: Issue
    key: str | None

    @classmethod
    def resolve(cls, view: SendView, request: SendRequest) -> Target:
        name, number, planner = request.destination, request.issue, view.planner
        dests = view.destinations()
        dest = dests.get(name)
        if dest is None:
            known = ", ".join(sorted(dests)) or "none"
            raise ConfigError(f"destinations.{name}", f"unknown destination (configured: {known})")
        if dest.platform not in view.platforms:
            raise DigestbotError(f"destination {name!r}: platform {dest.platform} is not available")
        ref: IssueRef | None = next(iter(planner.candidates(dest, number)), None)
        if ref is None:
            which = f" issue #{number}" if number is not None else " edition"
            raise DigestbotError(f"no stored{which} for destination {name!r}{_scope(dest)}")
        issue = planner.issue(ref.entry_id)
        if issue is None:
            raise DigestbotError(f"{ref.label} is no longer stored")
        key = None if request.section is None else _section_key(view, dest, issue, request.section)
        return cls(dest, issue, key)


def _section_key(view: SendView, dest: Destination, issue: Issue, section: str) -> str:
    """The stored key of the section `section` names (a key, a heading, an alias), or one clear refusal."""
    match = next((s for s in issue.sections if view.matcher.wanted(s, (section,))), None)
    label = issue.ref.label
    if match is None:
        keys = ", ".join(s.key for s in issue.sections)
        raise DigestbotError(f"{label} has no section {section!r} (it has: {keys})")
    if not view.planner.receives(dest, issue, only=match.key).sections:
        raise DigestbotError(f"{label}: no item of section {match.key!r} passes {dest.name}'s topic filters")
    return match.key


def _scope(dest: Destination) -> str:
    """" (feeds: nlp; languages: fr)": what a destination picks editions from, for a refusal."""
    parts = []
    if dest.feeds:
        parts.append("feeds: " + ", ".join(dest.feeds))
    if dest.languages:
        parts.append("languages: " + ", ".join(dest.languages))
    return f" ({'; '.join(parts)})" if parts else ""


def planned_units(planner: Planner, target: Target) -> list[tuple[str, Post]]:
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


def plan_send(view: SendView, target: Target) -> list[PlannedPost]:
    """Exactly the posts a real send of `target` posts (the index included), rendered for the
    destination's platform; reads only, sends nothing."""
    renderer = view.platforms[target.dest.platform].renderer
    return [PlannedPost(describe_unit(target.issue, unit), tuple(renderer.render(post, target.dest)))
            for unit, post in planned_units(view.planner, target)]


class Drain(Protocol):
    """Whoever delivers the rows a send enqueued: a worker of its own, or the running service's."""

    async def drain(self) -> int: ...


async def deliver(planner: Planner, target: Target, drain: Drain, *, clock: Callable[[], float],
                  wait: float = 30.0) -> SendReport:
    """Enqueue an edition (or one section) for one destination, deliver it, and report each post.

    Retries the platform asks for within `wait` seconds (a 429, a 5xx) are awaited; later
    ones stay queued for `digestbot run` and are reported as failed with their reason.
    """
    name, outbox = target.dest.name, planner.outbox
    outbox.ensure_dest(name, clock())
    before = max((row.id for row in outbox.rows(name)), default=0)
    planner.send_now(target.dest, target.issue.entry_id, target.key)
    deadline = clock() + wait
    while True:
        await drain.drain()
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


async def hand_over(planner: Planner, target: Target, *, clock: Callable[[], float], wait: float = 60.0,
                    poll: float = 0.2) -> SendReport:
    """`send` while `digestbot run` holds the database: enqueue, and let the running service deliver.

    The rows go into the outbox this process shares with the service (SQLite); the service's loop
    looks at the outbox at least every second, delivers them as its own, and posts the index after
    them. This waits until every post it expects (the dry run's list) has its outcome, or until
    `wait` seconds have passed, then reports each post as `deliver` does.
    """
    name, outbox = target.dest.name, planner.outbox
    expected = {unit for unit, _ in planned_units(planner, target)}
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
