"""The aiohttp application factory and its server, run in the bots' event loop."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot.storage.store import Store
from web.health import check_health
from web.metrics import CONTENT_TYPE, Metrics
from web.panel import PanelState, setup_panel
from web.panel.templating import PANEL

__all__ = ["APP_STATE", "WebState", "create_app", "start_server"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WebState:
    """What the HTTP face reads from the running bot; handlers get it from `request.app[APP_STATE]`."""

    store: Store
    metrics: Metrics
    scheduler_running: Callable[[], bool]


APP_STATE = web.AppKey("digestbot", WebState)


async def _healthz(request: web.Request) -> web.Response:
    state = request.app[APP_STATE]
    health = check_health(state.store, state.scheduler_running)
    return web.json_response(health.to_json(), status=200 if health.ok else 503,
                             headers={"Cache-Control": "no-store"})


async def _metrics(request: web.Request) -> web.Response:
    body = request.app[APP_STATE].metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"})


def create_app(state: WebState, panel: PanelState | None = None) -> web.Application:
    """The application with every route; the web panel's when it has a token (`web/panel`)."""
    app = web.Application()
    app[APP_STATE] = state
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    if panel is not None:
        setup_panel(app, panel)
    return app


class OneLineBadRequests(logging.Filter):
    """aiohttp answers a request it cannot parse (a bad request line, header or URL) with 400, and
    logs it as an error with a traceback; here it becomes one warning line naming the client."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and (exc.code or 400) < 500:
            lines = [line.strip() for line in str(exc.message).splitlines() if line.strip()]
            reason = (lines[0] if lines else type(exc).__name__)[:120]
            record.msg, record.args = "web: malformed request from %s: %s %s", (
                (record.args or ("unknown",))[0] if isinstance(record.args, tuple) else "unknown", exc.code,
                reason.encode("ascii", "backslashreplace").decode("ascii"))
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_BAD_REQUESTS = OneLineBadRequests()


async def start_server(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve `app` on host:port in the running loop; `await runner.cleanup()` stops it."""
    server_log = logging.getLogger("aiohttp.server")
    if _BAD_REQUESTS not in server_log.filters:
        server_log.addFilter(_BAD_REQUESTS)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    if not _loopback(host):
        log.warning("web: listening on %s, beyond this machine; put a TLS-terminating proxy in front", host)
    log.info("web: http://%s:%d/healthz and /metrics%s", host, port,
             ", the panel at /" if app.get(PANEL) is not None else "")
    return runner


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
