"""The panel's pages (GET): overview, plan, issues with previews, a destination, search.

Each handler reads the same objects as a CLI command — `Operations.status` (status),
`Operations.plan` (plan), the store and renderers (preview), the query engine (`/search`) —
and hands them to a template.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from bot.chat.commands import Query, parse_command
from bot.contract.destination import Destination
from bot.contract.filters import ItemFilter
from bot.core.i18n import LANGUAGES
from bot.core.messages import Answer, SearchResults
from scheduler.forecast import PlannedDelivery
from web.panel.access import malformed
from web.panel.calendar import plan_calendar
from web.panel.colors import section_slots
from web.panel.destview import effective_config, history_lines, queue_view
from web.panel.filtertest import FilterTrial, newest_issue, parse_terms, try_filters
from web.panel.previews import preview_sections
from web.panel.templating import PANEL, page

if TYPE_CHECKING:
    from scheduler.service import DeliveryService

__all__ = ["destination", "issue", "issues", "overview", "plan", "search"]

_HISTORY = 25  # delivered posts per history page
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
    return page(request, "overview.html", report=state.operations.status())


async def plan(request: web.Request) -> web.Response:
    state = request.app[PANEL]
    service = state.service
    now = service.clock()
    plans = state.operations.plan(state.plan_days, now)

    def name_of(delivery: PlannedDelivery) -> str | None:
        issue = service.planner.issue(delivery.entry_id) if delivery.entry_id else None
        section = next((s for s in issue.sections if s.key == delivery.unit), None) if issue else None
        return (section.title or section.heading) if section else None

    view = "agenda" if request.query.get("view") == "agenda" else "grid"
    return page(request, "plan.html", calendar=plan_calendar(plans, now, state.plan_days, name_of),
                days=state.plan_days, now=now, view=view)


def _language(value: str) -> str:
    """A known language code, or "" (every language) for anything else."""
    code = value.strip().lower()
    return code if code in LANGUAGES else ""


async def issues(request: web.Request) -> web.Response:
    service = request.app[PANEL].service
    store = service.store
    feeds = [f.name for f in service.config.feeds]
    feed = request.query.get("feed", "")
    feed = feed if feed in feeds else ""
    lang = _language(request.query.get("lang", ""))
    refs = store.list_issues(lang=lang or None, feed=feed or None, limit=_ISSUES)
    return page(request, "issues.html", issues=[(store.rowid_for_entry(r.entry_id), r) for r in refs],
                feeds=feeds, feed=feed, lang=lang, languages=LANGUAGES)


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
    destinations = state.service.destinations()
    chosen = destinations.get(request.query.get("as", ""))
    sections = await asyncio.to_thread(preview_sections, stored, state.faces, chosen)
    windows = {}
    for s in stored.sections:
        total, first = counts.get(s.position, 0), start if section is not None else 0
        last = first + len(s.items)
        windows[s.position] = Window(first + 1 if s.items else 0, last, total, last if last < total else None,
                                     max(0, first - _PAGE_ITEMS) if first > 0 else None)
    return page(request, "issue.html", issue=stored, faces=state.faces, sections=sections, chosen=chosen,
                opened=request.query.get("open", ""),
                destinations=sorted(destinations), slots=section_slots(s.key for s in stored.sections),
                windows=windows, paged=section is not None, issue_id=int(raw_id))


async def destination(request: web.Request) -> web.Response:
    state = request.app[PANEL]
    service = state.service
    name = request.match_info["name"]
    report = state.operations.status()
    status = next((d for d in report.destinations if d.name == name), None)
    if status is None:
        raise web.HTTPNotFound(text="no such destination")
    dest = service.destinations().get(name)
    try:
        page_no = max(1, int(request.query.get("page", "1")))
    except ValueError:
        page_no = 1
    posts, total = service.outbox.sent_posts(name, _HISTORY, (page_no - 1) * _HISTORY)
    recent = posts if page_no == 1 else service.outbox.sent_posts(name, 5)[0]
    chat_name = next((p.first.chat_name for p in recent if p.first is not None and p.first.chat_name), None)
    zone = dest.timezone if dest is not None else "UTC"
    dead = [(row, service.describe(row)) for row in service.outbox.rows(name) if row.state == "dead"]
    feeds = [f.name for f in service.config.feeds]
    trial = _filter_trial(request, service, dest) if dest is not None else None
    return page(request, "destination.html", trial=trial, chat_name=chat_name, trying="include" in request.query,
                dest=status, history=history_lines(service, zone, posts),
                history_total=total, page_no=page_no, pages=max(1, -(-total // _HISTORY)), dead=dead,
                queue=queue_view(service, dest, report.generated_at) if dest is not None else None,
                config=effective_config(dest, feeds) if dest is not None else [],
                can_act=dest is not None, runtime=name not in {d.name for d in service.config.destinations})


def _filter_trial(request: web.Request, service: DeliveryService, dest: Destination) -> FilterTrial:
    """The terms typed in the tester (GET: nothing is saved), else the destination's own, on its newest issue."""
    if "include" in request.query or "exclude" in request.query:
        include, bad_include = parse_terms("include", request.query.get("include", ""))
        exclude, bad_exclude = parse_terms("exclude", request.query.get("exclude", ""))
        keep, problems = ItemFilter(include, exclude), bad_include + bad_exclude
    else:
        keep, problems = dest.filters, []
    issue = newest_issue(service.store, service.planner, dest)
    return try_filters(issue, dest, service.matcher, keep, problems)


async def search(request: web.Request) -> web.Response:
    state = request.app[PANEL]
    words = request.query.get("q", "").strip()
    lang = _language(request.query.get("lang", ""))  # "": all languages (the default)
    answer: Answer | None = None
    if words and lang:
        answer = state.engine.answer(Query(parse_command("search", words), lang=lang, platform="web"))
    elif words:
        answer = state.engine.search_everywhere(words, state.service.config.default_language)
    hits = answer.hits if isinstance(answer, SearchResults) else ()
    store = state.service.store
    ids = {hit.issue.entry_id: store.rowid_for_entry(hit.issue.entry_id) for hit in hits}
    return page(request, "search.html", words=words, lang=lang, languages=LANGUAGES, hits=hits,
                message=getattr(answer, "message", ""),
                ids=ids, asked=answer is not None)
