"""Who may see the panel: the token login, sessions, CSRF tokens and the security headers.

Access comes first because everything else the panel does (pausing, sending) acts on
real chats. The panel has one secret, the token from `[web] token_env`; logging in
with it gives a random session id in an HttpOnly, SameSite=Strict, expiring cookie.
Sessions live in memory: a restart logs everybody out, which is the safe direction.
Every POST form carries the session's CSRF token (the login form a cookie-bound one),
and repeated wrong tokens are answered more and more slowly — per client address, so one
address guessing never slows down the operator logging in from another — each logged.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from multidict import MultiDictProxy

__all__ = ["CSRF_FIELD", "LOGIN_COOKIE", "SESSION", "SESSION_COOKIE", "Gate", "Session", "malformed", "posted_form",
           "security_headers"]

SESSION_COOKIE = "digestbot_session"
LOGIN_COOKIE = "digestbot_login"  # binds the login form's CSRF token before there is a session
CSRF_FIELD = "csrf_token"
#: Pages served without a session: the probes a monitor scrapes, the login form and its stylesheet.
PUBLIC_PATHS = frozenset({"/healthz", "/metrics", "/login"})
PUBLIC_PREFIXES = ("/static/",)
#: Scripts and styles from the panel itself only; feed images may come from their https hosts.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
_MAX_DELAY = 8.0
_MAX_CLIENTS = 4096  # addresses whose failures are remembered; the least recently seen are forgotten first

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Session:
    """One logged-in browser: its CSRF token, when it ends, and a one-shot message for the next page."""

    csrf: str
    expires: float
    flash: list[tuple[str, str]] = field(default_factory=list)  # (level, text)


SESSION = web.RequestKey("session", Session)


def malformed(request: web.Request, reason: str) -> web.HTTPBadRequest:
    """A 400 for a request we cannot read, with one log line (never a traceback, never the body)."""
    log.warning("web: malformed request %s %s from %s: %s", request.method, request.path[:200],
                request.remote or "unknown", reason[:200])
    return web.HTTPBadRequest(text=f"400: {reason[:200]}")


async def posted_form(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The request's form (aiohttp keeps it for the handler); a body that is no form is a 400."""
    try:
        return await request.post()
    except (ValueError, UnicodeDecodeError, AssertionError) as exc:  # a bad boundary, bad encoding
        raise malformed(request, f"unreadable form ({type(exc).__name__})") from None


@dataclass(slots=True)
class _Client:
    """One client address's wrong tokens in a row, and the line its guesses wait in."""

    failures: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Gate:
    """The token check, the session table and the failure slow-down, for one running panel."""

    def __init__(self, token: str, *, ttl: float = 12 * 3600.0, clock: Callable[[], float] = time.monotonic,
                 delay_base: float = 0.25) -> None:
        self._token = token.encode("utf-8")
        self.ttl = ttl
        self.clock = clock
        self.delay_base = delay_base
        self._sessions: dict[str, Session] = {}
        self._clients: OrderedDict[str, _Client] = OrderedDict()

    # ------------------------------------------------------------------ sessions
    def session(self, request: web.Request) -> Session | None:
        sid = request.cookies.get(SESSION_COOKIE)
        session = self._sessions.get(sid) if sid else None
        if session is None or sid is None:
            return None
        if session.expires <= self.clock():
            del self._sessions[sid]
            return None
        return session

    def _open(self) -> tuple[str, Session]:
        now = self.clock()
        for sid in [sid for sid, s in self._sessions.items() if s.expires <= now]:
            del self._sessions[sid]
        sid = secrets.token_urlsafe(32)
        session = Session(csrf=secrets.token_urlsafe(32), expires=now + self.ttl)
        self._sessions[sid] = session
        return sid, session

    def close(self, request: web.Request) -> None:
        sid = request.cookies.get(SESSION_COOKIE)
        if sid:
            self._sessions.pop(sid, None)

    # ------------------------------------------------------------------ login
    async def login(self, offered: str, client: str = "") -> str | None:
        """A new session id when `offered` is the token; else None, after a delay that doubles per failure.

        Failures count per `client` address: its guesses wait in line (parallel requests cannot
        skip the delay), while another address is answered at once. Each failure is one log line
        naming the address, never what was typed.
        """
        entry = self._client(client)
        async with entry.lock:
            if secrets.compare_digest(offered.encode("utf-8"), self._token):
                entry.failures = 0
                sid, _ = self._open()
                return sid
            entry.failures += 1
            log.warning("web: failed panel login from %s (%d in a row from this address)", client or "unknown",
                        entry.failures)
            await asyncio.sleep(min(_MAX_DELAY, self.delay_base * 2 ** (entry.failures - 1)))
            return None

    def _client(self, address: str) -> _Client:
        entry = self._clients.get(address)
        if entry is None:
            entry = self._clients[address] = _Client()
            while len(self._clients) > _MAX_CLIENTS:  # bounded: forget the quietest idle address
                idle = next((a for a, c in self._clients.items() if not c.lock.locked()), None)
                if idle is None or idle == address:
                    break
                del self._clients[idle]
        self._clients.move_to_end(address)
        return entry

    def set_cookie(self, request: web.Request, response: web.StreamResponse, sid: str) -> None:
        """HttpOnly, SameSite=Strict, expiring; Secure too when the browser came over https (the proxy says so)."""
        secure = request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
        response.set_cookie(SESSION_COOKIE, sid, max_age=int(self.ttl), httponly=True, samesite="Strict", path="/",
                            secure=secure)

    # ------------------------------------------------------------------ middleware
    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """No session → /login (pages) ; a POST without the session's CSRF token → 403."""
        path = request.path
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return await handler(request)
        session = self.session(request)
        if session is None:
            raise web.HTTPSeeOther("/login")
        if request.method not in ("GET", "HEAD"):
            form = await posted_form(request)
            offered = form.get(CSRF_FIELD)
            if not isinstance(offered, str) or not secrets.compare_digest(offered, session.csrf):
                raise web.HTTPForbidden(text="403: missing or wrong csrf_token (reload the page and try again)")
        request[SESSION] = session
        return await handler(request)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """CSP (self only), no framing, no referrer leaving the panel, no MIME sniffing — on every answer."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _harden(exc)
        raise
    _harden(response)
    return response


def _harden(response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
