"""The panel's pages (GET): overview, plan, issues with previews, a destination, search.

Each handler reads the same objects as a CLI command — `build_status` (status),
`build_plan` (plan), the store and renderers (preview), the query engine (`/search`) —
and hands them to a template.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from bot.commands import Query, parse_command
from bot.messages import SearchResults
from scheduler.outbox import OPEN_STATES
from scheduler.plan import build_plan
from scheduler.status import build_status
from web.panel.access import malformed
from web.panel.calendar import plan_calendar
from web.panel.previews import preview_sections
from web.panel.templating import PANEL, page

__all__ = ["destination", "issue", "issues", "overview", "plan", "search"]

_HISTORY = 100
_ISSUES = 500
_SECTION_ITEMS = 40  # items of each section previewed on an issue's page
_PAGE_ITEMS = 200  # items previewed on one page at most: an issue of 100,000 items is read and drawn in pages


@dataclass(frozen=True, slots=True)
class Window:
    """Which of a section's items a page shows (1-based, inclusive), and where the others are."""

    first: int
    last: int
    total: int
    more: int | None  # where the page with the next items starts (its `from`)
    back: int | None  # where the page with the previous ones starts

    @property
    def partial(self) -> bool:
        return self.total > self.last - self.first + 1 if self.last else self.total > 0


def _number(request: web.Request, name: str, high: int) -> int | None:
    """A non-negative integer query parameter; absent → None; anything else is a 400, not a traceback."""
    raw = request.query.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 9 or int(raw) > high:
        raise malformed(request, f"{name} must be a number")
    return int(raw)


async def overview(request: web.Request) -> web.Response:
    state = request.app[PANEL]
    return page(request, "overview.html", report=build_status(state.service))


async def plan(request: web.Request) -> web.Response:
    state = request.app[PANEL]
    service = state.service
    now = service.clock()
    plans = build_plan(service, state.plan_days, now)
    return page(request, "plan.html", calendar=plan_calendar(plans, now, state.plan_days, state.section_color),
                days=state.plan_days, now=now)


async def issues(request: web.Request) -> web.Response:
    store = request.app[PANEL].service.store
    refs = store.list_issues(limit=_ISSUES)
    return page(request, "issues.html", issues=[(store.rowid_for_entry(r.entry_id), r) for r in refs])


async def issue(request: web.Request) -> web.Response:
    """An issue's sections as each platform renders them, a bounded window of items per page.

    The first page previews the first items of each section; `?section=N&from=K` pages
    through one section. The rendering runs in a worker thread: the bots share this loop.
    """
    state = request.app[PANEL]
    store = state.service.store
    raw_id = request.match_info["id"]
    entry_id = store.entry_for_rowid(int(raw_id)) if raw_id.isdigit() and len(raw_id) <= 18 else None
    section, start = _number(request, "section", 100_000), _number(request, "from", 10**9) or 0
    window = store.issue_window(entry_id, section=section, start=start, per_section=_SECTION_ITEMS,
                                limit=_PAGE_ITEMS) if entry_id else None
    if window is None or (section is not None and not window[0].sections):
        raise web.HTTPNotFound(text="no such issue")
    stored, counts = window
    configured = list(state.service.destinations().values())
    sections = await asyncio.to_thread(preview_sections, stored, state.faces, configured)
    windows = {}
    for s in stored.sections:
        total, first = counts.get(s.position, 0), start if section is not None else 0
        last = first + len(s.items)
        windows[s.position] = Window(first + 1 if s.items else 0, last, total, last if last < total else None,
                                     max(0, first - _PAGE_ITEMS) if first > 0 else None)
    return page(request, "issue.html", issue=stored, faces=state.faces, sections=sections, windows=windows,
                paged=section is not None, issue_id=int(raw_id))


async def destination(request: web.Request) -> web.Response:
    state = request.app[PANEL]
    service = state.service
    name = request.match_info["name"]
    report = build_status(service)
    status = next((d for d in report.destinations if d.name == name), None)
    if status is None:
        raise web.HTTPNotFound(text="no such destination")
    rows = service.outbox.rows(name)
    labelled = [(row, service.describe(row)) for row in rows]
    history = [pair for pair in labelled if pair[0].state == "sent"][-_HISTORY:][::-1]
    queue = [pair for pair in labelled if pair[0].state in OPEN_STATES]
    dead = [pair for pair in labelled if pair[0].state == "dead"]
    return page(request, "destination.html", dest=status, history=history, queue=queue, dead=dead,
                can_act=name in service.destinations(),
                runtime=name not in {d.name for d in service.config.destinations})


async def search(request: web.Request) -> web.Response:
    state = request.app[PANEL]
    words = request.query.get("q", "").strip()
    lang = request.query.get("lang", "").strip().lower() or state.service.config.default_language
    answer = state.engine.answer(Query(parse_command("search", words), lang=lang, platform="web")) if words else None
    hits = answer.hits if isinstance(answer, SearchResults) else ()
    store = state.service.store
    ids = {hit.issue.entry_id: store.rowid_for_entry(hit.issue.entry_id) for hit in hits}
    return page(request, "search.html", words=words, lang=lang, hits=hits, message=getattr(answer, "message", ""),
                ids=ids, asked=answer is not None)
