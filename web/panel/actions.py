"""The panel's actions (POST, CSRF-checked by the gate): pause, resume, retry, reset, send, poll now.

Each calls the same method the CLI does (`DeliveryService.pause/resume/retry/poll_feed`,
`scheduler.sendnow.plan_send/send_to`), puts its result in the session's one-shot
messages and redirects back (POST → 303 → GET), so a reload never repeats an action.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, cast
from urllib.parse import quote

from aiohttp import web

from bot.core.errors import ConfigError, DigestbotError
from bot.core.i18n import plural_en
from bot.feeds.ingest import skipped_words
from bot.ports import Destination
from scheduler.sendnow import plan_send, send_to
from scheduler.worker import DeliveryWorker
from web.panel.access import SESSION
from web.panel.previews import preview_parts
from web.panel.sendview import send_summary
from web.panel.templating import PANEL, page

if TYPE_CHECKING:
    from scheduler.service import DeliveryService

__all__ = ["pause", "poll", "reset", "resume", "retry", "send", "send_form"]

_READY_POLL = 0.05
_DRAIN_LIMIT = 60.0
PAUSED_HERE = "paused in the web panel"


def _flash(request: web.Request, level: str, text: str) -> None:
    request[SESSION].flash.append((level, text))


def _back(name: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/destinations/{quote(name, safe='')}")


def _error(exc: DigestbotError) -> str:
    return f"{exc.key}: {exc.reason}" if isinstance(exc, ConfigError) else str(exc)


async def pause(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    form = await request.post()
    reason = str(form.get("reason", "")).strip()[:200] or PAUSED_HERE
    try:
        request.app[PANEL].service.pause(name, reason)
        _flash(request, "ok", f"{name}: paused ({reason}); posts stay queued until you resume it")
    except DigestbotError as exc:
        _flash(request, "error", _error(exc))
    raise _back(name)


async def resume(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    try:
        request.app[PANEL].service.resume(name)
        _flash(request, "ok", f"{name}: resumed")
    except DigestbotError as exc:
        _flash(request, "error", _error(exc))
    raise _back(name)


async def retry(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    try:
        count = request.app[PANEL].service.retry(name)
        _flash(request, "ok", f"{name}: resumed, {plural_en(count, 'post')} re-queued")
    except DigestbotError as exc:
        _flash(request, "error", _error(exc))
    raise _back(name)


async def reset(request: web.Request) -> web.StreamResponse:
    """Drop the destination's `/subscribe` override (what `digestbot reset NAME` does)."""
    name = request.match_info["name"]
    try:
        dest = request.app[PANEL].service.reset(name)
        _flash(request, "ok", f"{name}: /subscribe override dropped; sections {', '.join(dest.sections)}, "
                              f"{dest.schedule.words()} (from config.toml)")
    except DigestbotError as exc:
        _flash(request, "error", _error(exc))
    raise _back(name)


async def poll(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    service = request.app[PANEL].service
    try:
        await service.poll_feed(name)
    except DigestbotError as exc:
        _flash(request, "error", _error(exc))
        raise web.HTTPSeeOther("/") from None
    state = next((s for s in service.store.feed_states() if s.name == name), None)
    if state is not None and state.last_error:
        _flash(request, "error", f"feed {name}: {state.last_error}")
    else:
        _flash(request, "ok", f"feed {name}: polled" + (f"; {skipped_words(state.skipped)}" if state else ""))
    raise web.HTTPSeeOther("/")


def _choice(form: Mapping[str, object]) -> tuple[int | None, str | None]:
    raw_issue = str(form.get("issue", "")).strip()
    section = str(form.get("section", "")).strip() or None
    try:
        number = int(raw_issue) if raw_issue else None
    except ValueError:
        raise DigestbotError(f"issue: {raw_issue!r} is not an issue number") from None
    return number, section


async def send_form(request: web.Request) -> web.Response:
    """Pick an issue and optionally a section; the next step is a dry run."""
    service = request.app[PANEL].service
    name = request.match_info["name"]
    dest = service.destinations().get(name)
    if dest is None:
        raise web.HTTPNotFound(text="no such destination")
    refs = service.planner.candidates(dest)  # only the destination's feeds and languages
    numbers = sorted({r.number for r in refs if r.number is not None}, reverse=True)
    issues = [service.planner.issue(r.entry_id) for r in refs[:20]]
    sections = sorted({s.key for i in issues if i is not None for s in i.sections})
    return page(request, "send.html", name=name, numbers=numbers, sections=sections, preview=None,
                issue=request.query.get("issue", ""), section=request.query.get("section", ""))


async def send(request: web.Request) -> web.StreamResponse:
    """Without `confirm`: the dry run (what `send --dry-run` prints, drawn). With it: the real send."""
    state = request.app[PANEL]
    service = state.service
    name = request.match_info["name"]
    form = await request.post()
    try:
        number, section = _choice(form)
        if form.get("confirm") != "yes":
            planned = plan_send(service.planner, service.matcher, service.destinations(), service.platforms, name,
                                number, section)
            dest = service.destinations()[name]
            face = state.faces.get(dest.platform)
            posts = [(p.label, preview_parts(face, p.parts), p.parts) for p in planned]
            return page(request, "send.html", name=name, numbers=[], sections=[], preview=posts,
                        summary=send_summary(planned),
                        platform=dest.platform, issue="" if number is None else str(number), section=section or "")
        report = await send_to(service.planner, service.matcher, service.destinations(), service.platforms,
                               lambda dest: _through_service(service, dest), name, number, section,
                               clock=lambda: service.clock().timestamp())
    except DigestbotError as exc:
        _flash(request, "error", _error(exc))
        raise _back(name) from None
    if not report.posts:
        _flash(request, "error", f"{name}: nothing new to send for {report.edition} (already queued or delivered; "
                                 "choose one section to send it again)")
    for post in report.posts:
        outcome = "delivered" if post.state == "delivered" else f"{post.state}: {post.reason}"
        _flash(request, "ok" if post.state == "delivered" else "error",
               f"{name} ← {post.label} ({plural_en(post.messages, 'message')}): {outcome}")
    raise _back(name)


class _ServiceDrain:
    """`send_to`'s worker inside `run`: the running service's own worker delivers, this one waits for it.

    A second worker on the same outbox could attempt a row the service is already sending
    (heads include rows in `sending`) and send it twice; waking the one worker keeps
    every row attempted once, in order, under the same retry rules.
    """

    def __init__(self, service: DeliveryService, name: str) -> None:
        self.service = service
        self.name = name

    def _ready(self) -> bool:
        state = self.service.outbox.dest_state(self.name)
        if state is not None and state.paused_reason:
            return False
        now = self.service.clock().timestamp()
        head = self.service.outbox.head(self.name)
        return head is not None and (head.state == "sending" or head.next_attempt_at <= now)

    async def drain(self) -> int:
        self.service.wake()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _DRAIN_LIMIT
        while self._ready() and loop.time() < deadline:
            await asyncio.sleep(_READY_POLL)
        return 0


def _through_service(service: DeliveryService, dest: Destination) -> DeliveryWorker:
    return cast(DeliveryWorker, _ServiceDrain(service, dest.name))
