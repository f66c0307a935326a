"""Access to the panel over HTTP: every route behind the login, CSRF on every POST, headers, the token."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import pytest
from aiohttp import web

from tests.harness.panel import TOKEN, running_panel, write_config
from web.panel.access import Gate

PUBLIC = {"/healthz", "/metrics", "/login"}
SAMPLE = {"name": "fr-drip", "id": "1", "filename": "panel.css"}


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGESTBOT_WEB_TOKEN", TOKEN)


def _routes(app: web.Application) -> list[tuple[str, str]]:
    """Every (method, path) the application serves, with sample values in its placeholders."""
    found = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        template = info.get("formatter") or info.get("path") or info.get("prefix", "")
        if "prefix" in info:  # static files: one real file under the prefix
            template = info["prefix"].rstrip("/") + "/{filename}"
        path = re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], template)
        found.append((route.method, path))
    return found


async def test_every_route_without_a_session_goes_to_login(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        assert panel.client.app is not None
        routes = _routes(panel.client.app)
        assert len({path for _, path in routes}) >= 12  # the panel's pages and actions are all registered
        checked = 0
        for method, path in routes:
            if method == "HEAD":
                continue
            response = await panel.client.request(method, path, allow_redirects=False,
                                                  data={} if method == "POST" else None)
            if path in PUBLIC:
                assert response.status in (200, 401, 403), (method, path, response.status)
            elif path.startswith("/static/"):
                assert response.status == 200 and response.content_type == "text/css", path  # the login page's CSS
            else:
                assert response.status == 303, (method, path, response.status)
                assert response.headers["Location"] == "/login", (method, path)
                checked += 1
        assert checked >= 12
        # an unknown path too: nothing about the panel's shape leaks before login
        response = await panel.client.get("/no/such/page", allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/login"


async def test_login_sets_a_strict_expiring_session_cookie(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        form = await panel.client.get("/login")
        html = await form.text()
        assert form.status == 200 and 'name="token"' in html and 'for="token"' in html
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert csrf is not None
        response = await panel.client.post("/login", data={"token": TOKEN, "csrf_token": csrf.group(1)},
                                           allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/"
        cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and "digestbot_session=" in v)
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=" in cookie
        assert TOKEN not in cookie and "Secure" not in cookie  # plain http on 127.0.0.1
        overview = await panel.client.get("/")
        assert overview.status == 200 and "fr-drip" in await overview.text()
        html = await (await panel.client.get("/login")).text()  # behind a TLS proxy: Secure too
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert csrf is not None
        behind_tls = await panel.client.post("/login", data={"token": TOKEN, "csrf_token": csrf.group(1)},
                                             headers={"X-Forwarded-Proto": "https"}, allow_redirects=False)
        assert "Secure" in behind_tls.headers["Set-Cookie"]


async def test_wrong_token_is_401_and_missing_csrf_is_403(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        html = await (await panel.client.get("/login")).text()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert csrf is not None
        wrong = await panel.client.post("/login", data={"token": "guess", "csrf_token": csrf.group(1)},
                                        allow_redirects=False)
        assert wrong.status == 401 and "Wrong token" in await wrong.text()
        assert "digestbot_session" not in wrong.cookies
        forged = await panel.client.post("/login", data={"token": TOKEN, "csrf_token": "forged"},
                                         allow_redirects=False)
        assert forged.status == 403 and "digestbot_session" not in forged.cookies
        bare = await panel.client.post("/login", data={"token": "guess"}, allow_redirects=False)
        assert bare.status == 401  # a script posting only the token gets the same answers as the form
        token = await panel.login()
        for data in ({}, {"csrf_token": "forged"}, {"csrf_token": token + "x"}):
            response = await panel.client.post("/destinations/fr-drip/pause", data=data, allow_redirects=False)
            assert response.status == 403, data
        state = panel.service.outbox.dest_state("fr-drip")
        assert state is None or state.paused_reason is None  # nothing happened
        ok = await panel.client.post("/destinations/fr-drip/pause", data={"csrf_token": token},
                                     allow_redirects=False)
        assert ok.status == 303
        state = panel.service.outbox.dest_state("fr-drip")
        assert state is not None and state.paused_reason == "paused in the web panel"


async def test_repeated_failures_are_slowed_down(monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr("web.panel.access.asyncio.sleep", record)
    gate = Gate("right-token", delay_base=0.25)
    for _ in range(7):
        assert await gate.login("wrong") is None
    assert delays == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0]  # doubling, capped
    assert await gate.login("right-token") is not None
    assert await gate.login("wrong") is None
    assert delays[-1] == 0.25  # a success starts over


async def test_security_headers_on_pages(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        await panel.login()
        for path in ("/", "/login", "/plan"):
            response = await panel.client.get(path)
            csp = response.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "style-src 'self'" in csp and "default-src 'none'" in csp
            assert "unsafe-inline" not in csp
            assert response.headers["X-Frame-Options"] == "DENY"
            assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_logout_ends_the_session(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        token = await panel.login()
        response = await panel.client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/login"
        again = await panel.client.get("/", allow_redirects=False)
        assert again.status == 303 and again.headers["Location"] == "/login"


async def test_without_a_token_only_health_and_metrics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("DIGESTBOT_WEB_TOKEN")
    caplog.set_level(logging.WARNING)
    async with running_panel(write_config(tmp_path)) as panel:
        assert (await panel.client.get("/healthz")).status == 200
        assert (await panel.client.get("/metrics")).status == 200
        for path in ("/", "/login", "/plan"):
            assert (await panel.client.get(path, allow_redirects=False)).status == 404
    assert any("panel off" in r.getMessage() and "DIGESTBOT_WEB_TOKEN" in r.getMessage() for r in caplog.records)


async def test_token_env_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIGESTBOT_WEB_TOKEN")
    monkeypatch.setenv("MY_PANEL_TOKEN", TOKEN)
    config = write_config(tmp_path)
    config.write_text(config.read_text().replace('listen = "127.0.0.1:8080"',
                                                 'listen = "127.0.0.1:8080"\ntoken_env = "MY_PANEL_TOKEN"'))
    async with running_panel(config) as panel:
        await panel.login()
        assert (await panel.client.get("/")).status == 200



def test_sessions_expire() -> None:
    now = [1000.0]
    gate = Gate("right-token", ttl=60.0, clock=lambda: now[0])

    class _Request:
        def __init__(self, sid: str) -> None:
            self.cookies = {"digestbot_session": sid}

    sid = asyncio.run(gate.login("right-token"))
    assert sid is not None
    assert gate.session(_Request(sid)) is not None  # type: ignore[arg-type]
    now[0] += 61
    assert gate.session(_Request(sid)) is None  # type: ignore[arg-type]


async def test_every_form_control_is_labelled(tmp_path: Path) -> None:
    """Keyboard and screen-reader users reach every control by its label."""
    async with running_panel(write_config(tmp_path)) as panel:
        await panel.login()
        for path in ("/", "/plan", "/issues", "/search?q=bert", "/destinations/fr-drip", "/destinations/fr-drip/send",
                     "/destinations/new", "/destinations/fr-drip/edit", "/login"):
            page = await (await panel.client.get(path)).text()
            labels = set(re.findall(r'<label for="([^"]+)"', page))
            for control in re.findall(r"<(?:input|select|textarea)\b[^>]*>", page):
                if 'type="hidden"' in control:
                    continue
                ident = re.search(r'id="([^"]+)"', control)
                assert ident is not None and ident.group(1) in labels, (path, control)
            for button in re.findall(r"<button[^>]*>(.*?)</button>", page, re.S):
                assert button.strip(), (path, "a button without text")
            assert 'class="skip" href="#main"' in page and '<main id="main">' in page


@pytest.mark.parametrize(("host", "warned"), [("127.0.0.1", False), ("0.0.0.0", True)])
async def test_listening_beyond_this_machine_warns_about_tls(host: str, warned: bool,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    from scheduler.outbox import Outbox
    from tests.harness.corpus import corpus_store
    from web import Metrics, WebState, create_app, start_server

    store = corpus_store()
    app = create_app(WebState(store, Metrics(store, Outbox(store.db), dict, ()), lambda: True))
    caplog.set_level(logging.WARNING, logger="web.app")
    runner = await start_server(app, host, 0)
    await runner.cleanup()
    assert any("TLS-terminating proxy" in r.getMessage() for r in caplog.records) is warned
