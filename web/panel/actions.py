"""The panel's actions (POST, CSRF-checked by the gate): pause, resume, retry, reset, send, poll now.

Each calls the same `scheduler.operations.Operations` method the CLI does (pause, resume, retry,
reset, poll, send with or without a dry run), puts its result in the session's one-shot
messages and redirects back (POST → 303 → GET), so a reload never repeats an action.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import assert_never
from urllib.parse import quote

from aiohttp import web

from bot.core.errors import ConfigError, DigestbotError
from bot.core.i18n import plural_en
from bot.feeds.ingest import skipped_words
from scheduler.operations import DryRun, SendReport, SendRequest
from web.panel.access import SESSION
from web.panel.previews import preview_parts
from web.panel.sendview import send_summary
from web.panel.templating import PANEL, page

__all__ = ["pause", "poll", "reset", "resume", "retry", "send", "send_form"]

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
        request.app[PANEL].operations.pause(name, reason)
        _flash(request, "ok", f"{name}: paused ({reason}); posts stay queued until you resume it")
    except DigestbotError as exc:
        _flash(request, "error", _error(exc))
    raise _back(name)


async def resume(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    try:
        request.app[PANEL].operations.resume(name)
        _flash(request, "ok", f"{name}: resumed")
    except DigestbotError as exc:
        _flash(request, "error", _error(exc))
    raise _back(name)


async def retry(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    try:
        count = request.app[PANEL].operations.retry(name)
        _flash(request, "ok", f"{name}: resumed, {plural_en(count, 'post')} re-queued")
    except DigestbotError as exc:
        _flash(request, "error", _error(exc))
    raise _back(name)


async def reset(request: web.Request) -> web.StreamResponse:
    """Drop the destination's `/subscribe` override (what `digestbot reset NAME` does)."""
    name = request.match_info["name"]
    try:
        dest = request.app[PANEL].operations.reset(name)
        _flash(request, "ok", f"{name}: /subscribe override dropped; sections {', '.join(dest.sections)}, "
                              f"{dest.schedule.words()} (from config.toml)")
    except DigestbotError as exc:
        _flash(request, "error", _error(exc))
    raise _back(name)


async def poll(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    try:
        state = await request.app[PANEL].operations.poll(name)
    except DigestbotError as exc:
        _flash(request, "error", _error(exc))
        raise web.HTTPSeeOther("/") from None
    if state is not None and state.last_error:
        _flash(request, "error", f"feed {name}: {state.last_error}")
    else:
        _flash(request, "ok", f"feed {name}: polled" + (f"; {skipped_words(state.skipped)}" if state else ""))
    raise web.HTTPSeeOther("/")


def _request(name: str, form: Mapping[str, object]) -> SendRequest:
    """The send the form asks for: without `confirm` its dry run, with it the real send."""
    raw_issue = str(form.get("issue", "")).strip()
    section = str(form.get("section", "")).strip() or None
    try:
        number = int(raw_issue) if raw_issue else None
    except ValueError:
        raise DigestbotError(f"issue: {raw_issue!r} is not an issue number") from None
    return SendRequest(name, number, section, dry_run=form.get("confirm") != "yes")


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
    name = request.match_info["name"]
    try:
        asked = _request(name, await request.post())
        outcome = await state.operations.send(asked)
    except DigestbotError as exc:
        _flash(request, "error", _error(exc))
        raise _back(name) from None
    match outcome:
        case DryRun():
            return _dry_run(request, asked, outcome)
        case SendReport():
            _report(request, outcome)
            raise _back(name)
        case _:
            assert_never(outcome)


def _dry_run(request: web.Request, asked: SendRequest, dry: DryRun) -> web.Response:
    face = request.app[PANEL].faces.get(dry.platform)
    posts = [(p.label, preview_parts(face, p.parts), p.parts) for p in dry.posts]
    return page(request, "send.html", name=dry.destination, numbers=[], sections=[], preview=posts,
                summary=send_summary(dry.posts), platform=dry.platform,
                issue="" if asked.issue is None else str(asked.issue), section=asked.section or "")


def _report(request: web.Request, report: SendReport) -> None:
    name = report.destination
    if not report.posts:
        _flash(request, "error", f"{name}: nothing new to send for {report.edition} (already queued or delivered; "
                                 "choose one section to send it again)")
    for post in report.posts:
        outcome = "delivered" if post.state == "delivered" else f"{post.state}: {post.reason}"
        _flash(request, "ok" if post.state == "delivered" else "error",
               f"{name} ← {post.label} ({plural_en(post.messages, 'message')}): {outcome}")
