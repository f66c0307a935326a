"""`/login` and `/logout`: the token form, the session cookie, and the way out."""

from __future__ import annotations

import secrets

from aiohttp import web

from web.panel.access import CSRF_FIELD, LOGIN_COOKIE, SESSION_COOKIE, Gate, posted_form
from web.panel.templating import page

__all__ = ["GATE", "login", "login_form", "logout"]

GATE = web.AppKey("gate", Gate)


def _form(request: web.Request, status: int = 200, error: str | None = None) -> web.Response:
    """The form, with a CSRF token bound to a short-lived cookie (there is no session yet).

    An existing cookie's token is kept: the browser's own requests (its favicon, redirected
    here) must not replace the token of the form on screen.
    """
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    response = page(request, "login.html", status=status, error=error, login_csrf=token)
    response.set_cookie(LOGIN_COOKIE, token, max_age=900, httponly=True, samesite="Strict", path="/login")
    return response


async def login_form(request: web.Request) -> web.Response:
    return _form(request)


async def login(request: web.Request) -> web.StreamResponse:
    """The token → a session and a redirect to /; a wrong one → 401, each failure slower than the last.

    The form's csrf_token is checked when sent (a forged one → 403); a client posting only `token`
    (a script, a monitor) is not refused for lacking it: a login request carries the secret itself,
    so a forged cross-site login could only log a browser in with the real token.
    """
    form = await posted_form(request)
    offered = form.get(CSRF_FIELD)
    if offered is not None:
        bound = request.cookies.get(LOGIN_COOKIE, "")
        if not bound or not isinstance(offered, str) or not secrets.compare_digest(offered, bound):
            raise web.HTTPForbidden(text="403: wrong csrf_token (reload the login page and try again)")
    gate = request.app[GATE]
    token = form.get("token")
    sid = await gate.login(token, request.remote or "") if isinstance(token, str) else None
    if sid is None:
        return _form(request, status=401, error="Wrong token.")
    response = web.HTTPSeeOther("/")
    gate.set_cookie(request, response, sid)
    response.del_cookie(LOGIN_COOKIE, path="/login")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    request.app[GATE].close(request)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response
