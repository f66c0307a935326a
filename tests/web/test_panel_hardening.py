"""Panel hardening, over HTTP: links through the one URL sanitiser, a per-address login slow-down
with one log line per failure, bounded pages of huge issues, and one line (and a 400) per malformed
request. The token-length check runs the real CLI."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.core.urls import safe_href
from tests.harness.corpus import corpus_issues
from tests.harness.panel import TOKEN, running_panel, write_config
from tests.harness.paths import TEMPLATES
from tests.harness.poll import until
from web.app import start_server

HREF = re.compile(r'href="([^"]*)"', re.IGNORECASE)

JAVASCRIPT_FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>hostile</title><id>https://example.org/</id><updated>2026-11-01T00:00:00Z</updated>
<entry>
  <title type="text">NLP Newsletter #9</title>
  <link rel="alternate" href="javascript:alert(document.cookie)"/>
  <id>https://example.org/nlp-9</id>
  <published>2026-11-01T00:00:00Z</published><updated>2026-11-01T00:00:00Z</updated>
  <content type="html">
&lt;h1&gt;Publications 📙&lt;/h1&gt;
&lt;p&gt;&lt;strong&gt;Paper&lt;/strong&gt; is a study. &lt;a href="javascript:alert(2)"&gt;paper&lt;/a&gt;
&lt;a href="https://example.org/paper"&gt;real&lt;/a&gt;&lt;/p&gt;
&lt;h1&gt;Tools and Datasets ⚙️&lt;/h1&gt;
&lt;p&gt;&lt;strong&gt;A tool&lt;/strong&gt; does things. &lt;a href="https://example.org/tool"&gt;tool&lt;/a&gt;&lt;/p&gt;
&lt;h1&gt;Education 🎓&lt;/h1&gt;
&lt;p&gt;&lt;strong&gt;A course&lt;/strong&gt; teaches. &lt;a href="https://example.org/course"&gt;course&lt;/a&gt;&lt;/p&gt;
  </content>
</entry>
</feed>
"""


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGESTBOT_WEB_TOKEN", TOKEN)


def _unsafe_hrefs(page: str) -> list[str]:
    """Every href that is neither the panel's own (a path, a query, a fragment) nor passed by bot.core.urls."""
    return [h for h in HREF.findall(page)
            if not h.startswith(("/", "#", "?")) and safe_href(h.replace("&amp;", "&")) is None]


def test_every_template_href_from_data_passes_the_sanitiser() -> None:
    for template in TEMPLATES.glob("*.html"):
        for expression in re.findall(r'href="\{\{(.*?)\}\}"', template.read_text(encoding="utf-8")):
            assert "| href" in expression, f"{template.name}: href=\"{{{{{expression}}}}}\" bypasses bot.core.urls"


async def test_a_javascript_entry_link_is_never_an_href(tmp_path: Path) -> None:
    feed = tmp_path / "hostile.xml"
    feed.write_text(JAVASCRIPT_FEED, encoding="utf-8")
    async with running_panel(write_config(tmp_path, feed), feed) as panel:
        await panel.login()
        store = panel.service.store
        [ref] = store.list_issues(limit=5)
        assert ref.link.startswith("javascript:")  # stored as the feed said; the page must not link it
        page = await (await panel.client.get(f"/issues/{store.rowid_for_entry(ref.entry_id)}")).text()
        assert "NLP Newsletter #9" in page
        assert not re.search(r'href="\s*javascript', page, re.IGNORECASE)
        assert _unsafe_hrefs(page) == []
        assert 'href="https://example.org/tool"' in page  # safe links still are links


async def test_login_slow_down_is_per_address_and_failures_are_logged(tmp_path: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="web.panel.access")
    async with running_panel(write_config(tmp_path)) as panel:
        url = f"http://127.0.0.1:{panel.client.server.port}/login"
        guesser = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=("127.0.0.2", 0), limit=0))
        operator = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=("127.0.0.1", 0)))
        try:
            async def guess(n: int) -> int:
                async with guesser.post(url, data={"token": f"wrong-guess-{n}"}, allow_redirects=False) as r:
                    return r.status
            guesses = [asyncio.create_task(guess(n)) for n in range(12)]
            await until(lambda: sum("failed panel login" in r.getMessage() for r in caplog.records) >= 2,
                        "two wrong guesses answered and logged", timeout=20)
            started = time.monotonic()
            async with operator.post(url, data={"token": TOKEN}, allow_redirects=False) as right:
                assert right.status == 303
            waited = time.monotonic() - started
            assert waited < 3.0, f"the right login from another address waited {waited:.1f} s"
            assert not all(g.done() for g in guesses)  # the guesser is still being slowed down
            for task in guesses:
                task.cancel()
            await asyncio.gather(*guesses, return_exceptions=True)
        finally:
            await guesser.close()
            await operator.close()
    failures = [r for r in caplog.records if "failed panel login" in r.getMessage()]
    assert failures and all("127.0.0.2" in r.getMessage() for r in failures)
    assert all("\n" not in r.getMessage() and "wrong-guess" not in r.getMessage() and TOKEN not in r.getMessage()
               for r in caplog.records)


def _huge(items: int) -> object:
    base = next(i for i in corpus_issues() if len(i.sections) > 2)
    source = [item for section in base.sections for item in section.items]
    many = tuple(replace(source[k % len(source)], title=f"{source[k % len(source)].title} #{k}") for k in range(items))
    return replace(base, entry_id="huge#1", number=9999, sections=(replace(base.sections[0], items=many),
                                                                   *base.sections[1:]))


async def test_a_huge_issue_is_shown_in_bounded_pages(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        store = panel.service.store
        store.save_issue(_huge(20_000))  # type: ignore[arg-type]
        rowid = store.rowid_for_entry("huge#1")
        await panel.login()
        first = await panel.client.get(f"/issues/{rowid}")
        page = await first.text()
        assert first.status == 200
        assert len(page) < 1_500_000, len(page)
        assert "Items 1–40 of 20000" in page
        more = re.search(r'href="(/issues/\d+\?section=0&amp;from=40)"', page)
        assert more is not None
        second = await (await panel.client.get(more.group(1).replace("&amp;", "&"))).text()
        assert "Items 41–240 of 20000" in second and len(second) < 3_000_000
        far = await (await panel.client.get(f"/issues/{rowid}?section=0&from=19990")).text()
        assert "Items 19991–20000 of 20000" in far and "#19999" in far
        assert (await panel.client.get(f"/issues/{rowid}?section=zero")).status == 400
        assert (await panel.client.get(f"/issues/{rowid}?section=99")).status == 404


async def _raw(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(200), 10)
    writer.close()
    return answer.split(b"\r\n")[0]


async def test_malformed_requests_get_400_and_one_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_panel(write_config(tmp_path)) as panel:
        assert isinstance(panel.client.server, TestServer)
        runner = await start_server(panel.client.server.app, "127.0.0.1", 0)
        try:
            port = runner.addresses[0][1]
            cases = [b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data\r\nContent-Length: 5\r\n"
                     b"\r\nhello",
                     b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=zz\r\n"
                     b"Content-Length: 5\r\n\r\nhello"]
            for case in cases:
                before = len(caplog.records)
                status = await _raw(port, case)
                assert b" 400 " in status, (case, status)
                def logged(since: int = before) -> list[str]:
                    return [r.getMessage() for r in caplog.records[since:]]

                await until(lambda: any("malformed request" in line for line in logged()),
                            f"one 'malformed request' line for {case!r}", timeout=5, every=0.02, show=logged)
                lines = [r for r in caplog.records[before:] if r.name != "aiohttp.access"]
                assert len([r for r in lines if r.levelno >= logging.WARNING]) == 1, [r.getMessage() for r in lines]
                assert all(r.exc_info is None and "\n" not in r.getMessage() for r in lines)
        finally:
            await runner.cleanup()
