"""Who may see the panel: the token login, sessions, CSRF tokens and the security headers.

Access comes first because everything else the panel does (pausing, sending) acts on
real chats. The panel has one secret, the token from `[web] token_env`; logging in
with it gives a random session id in an HttpOnly, SameSite=Strict, expiring cookie.
Sessions live in memory: a restart logs everybody out, which is the safe direction.
Every POST form carries the session's CSRF token (the login form a cookie-bound one),
and repeated wrong tokens are answered more and more slowly.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

__all__ = ["CSRF_FIELD", "LOGIN_COOKIE", "SESSION", "SESSION_COOKIE", "Gate", "Session", "security_headers"]

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

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Session:
    """One logged-in browser: its CSRF token, when it ends, and a one-shot message for the next page."""

    csrf: str
    expires: float
    flash: list[tuple[str, str]] = field(default_factory=list)  # (level, text)


SESSION = web.RequestKey("session", Session)


class Gate:
    """The token check, the session table and the failure slow-down, for one running panel."""

    def __init__(self, token: str, *, ttl: float = 12 * 3600.0, clock: Callable[[], float] = time.monotonic,
                 delay_base: float = 0.25) -> None:
        self._token = token.encode("utf-8")
        self.ttl = ttl
        self.clock = clock
        self.delay_base = delay_base
        self._sessions: dict[str, Session] = {}
        self._failures = 0
        self._lock = asyncio.Lock()

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
    async def login(self, offered: str) -> str | None:
        """A new session id when `offered` is the token; else None, after a delay that doubles per failure.

        The lock makes guesses wait in line, so parallel requests cannot skip the delay.
        """
        async with self._lock:
            if secrets.compare_digest(offered.encode("utf-8"), self._token):
                self._failures = 0
                sid, _ = self._open()
                return sid
            self._failures += 1
            await asyncio.sleep(min(_MAX_DELAY, self.delay_base * 2 ** (self._failures - 1)))
            return None

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
            form = await request.post()
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
