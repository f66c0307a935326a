"""The web panel: status, plan calendar, previews and safe actions, served by `digestbot run`.

`setup_panel` adds the panel's routes and its gate (login, sessions, CSRF, security
headers) to the application `web.app.create_app` builds; without a token the panel is
not added at all and only /healthz and /metrics are served.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from web.panel import actions, pages, runtime
from web.panel.access import Gate, security_headers
from web.panel.errors import not_found
from web.panel.login import GATE, login, login_form, logout
from web.panel.state import Measure, PanelState, PreviewFace
from web.panel.templating import PANEL

__all__ = ["Measure", "PanelState", "PreviewFace", "setup_panel"]

STATIC = Path(__file__).resolve().parents[1] / "static"


def setup_panel(app: web.Application, state: PanelState) -> None:
    """Register the panel on `app` (call before the app starts)."""
    gate = Gate(state.token, ttl=state.session_ttl, delay_base=state.login_delay)
    app[PANEL] = state
    app[GATE] = gate
    app.middlewares.extend([security_headers, gate.middleware, not_found])
    router = app.router
    router.add_get("/login", login_form)
    router.add_post("/login", login)
    router.add_post("/logout", logout)
    router.add_get("/", pages.overview)
    router.add_get("/plan", pages.plan)
    router.add_get("/issues", pages.issues)
    router.add_get("/issues/{id}", pages.issue)
    router.add_get("/search", pages.search)
    router.add_get("/destinations/new", runtime.new_form)  # before /destinations/{name}
    router.add_post("/destinations/new", runtime.save)
    router.add_get("/destinations/{name}", pages.destination)
    router.add_get("/destinations/{name}/edit", runtime.edit_form)
    router.add_post("/destinations/{name}/edit", runtime.save)
    router.add_post("/destinations/{name}/delete", runtime.delete)
    router.add_post("/destinations/{name}/pause", actions.pause)
    router.add_post("/destinations/{name}/resume", actions.resume)
    router.add_post("/destinations/{name}/retry", actions.retry)
    router.add_post("/destinations/{name}/reset", actions.reset)
    router.add_get("/destinations/{name}/send", actions.send_form)
    router.add_post("/destinations/{name}/send", actions.send)
    router.add_post("/feeds/{name}/poll", actions.poll)
    router.add_static("/static/", STATIC, append_version=True)



