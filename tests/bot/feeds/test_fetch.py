"""Feed reading against a real local HTTP server: every fault leaves the store untouched."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.core.errors import FeedMalformed, FeedUnavailable
from bot.core.models import Issue, RawEntry
from bot.feeds.fetch import USER_AGENT, fetch_feed, parse_feed
from bot.feeds.ingest import Ingestor, poll_summary
from bot.settings.config import Config, FeedConfig
from bot.storage.store import Store
from tests.harness.corpus import CORPUS
from tests.harness.feed_server import FeedServer

FEED_BYTES = CORPUS.read_bytes()

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>t</title><link>https://example.org/</link><language>fr</language>
<item><title>NLP Newsletter [FR] #9: Test</title><link>https://example.org/nine/</link>
<guid>https://example.org/nine</guid><pubDate>Mon, 06 Apr 2020 00:00:00 +0000</pubDate>
<description>short summary</description>
<content:encoded><![CDATA[<h1>Publications \xf0\x9f\x93\x99</h1><p><strong>Item</strong></p>
<p>Body <a href="/rel">link</a></p>]]></content:encoded>
</item></channel></rss>"""


def _ingestor(tmp_path: Path) -> tuple[Ingestor, Store]:
    store = Store(tmp_path / "t.db")
    return Ingestor(store, Config()), store


def _conditional(request: web.Request) -> web.Response:
    if request.headers.get("If-None-Match") == '"v1"':
        return web.Response(status=304)
    return web.Response(body=FEED_BYTES, content_type="application/atom+xml",
                        headers={"ETag": '"v1"', "Last-Modified": "Tue, 17 Mar 2020 00:00:00 GMT"})


async def test_conditional_get_remembers_validators_and_honours_304(server: FeedServer, tmp_path: Path) -> None:
    server.routes["/feed.xml"] = _conditional
    ingestor, store = _ingestor(tmp_path)
    feed = FeedConfig(name="nlp", url=server.url("/feed.xml"))
    first = await ingestor.poll(feed)
    assert len(first) == 19 and all(r.status == "new" for r in first)
    assert store.feed_state("nlp").etag == '"v1"'
    assert poll_summary(first, store.feed_state("nlp")) == \
        "19 editions (19 new); 1 entry skipped (fewer sections than min_sections)"
    second = await ingestor.poll(feed)
    assert second == []
    assert poll_summary(second, store.feed_state("nlp")).startswith("not modified")  # only a 304 says so
    assert server.requests[-1].headers["If-None-Match"] == '"v1"'
    assert server.requests[-1].headers["If-Modified-Since"] == "Tue, 17 Mar 2020 00:00:00 GMT"
    assert server.requests[-1].headers["User-Agent"] == USER_AGENT
    assert len(store.list_issues(limit=100)) == 19


async def test_gzip_and_bounded_redirects(server: FeedServer, tmp_path: Path) -> None:
    server.routes["/gz"] = lambda r: web.Response(body=gzip.compress(FEED_BYTES),
                                                  headers={"Content-Encoding": "gzip",
                                                           "Content-Type": "application/xml"})
    server.routes["/moved"] = lambda r: web.Response(status=302, headers={"Location": server.url("/gz")})
    server.routes["/loop"] = lambda r: web.Response(status=302, headers={"Location": server.url("/loop")})
    ingestor, store = _ingestor(tmp_path)
    results = await ingestor.poll(FeedConfig(name="nlp", url=server.url("/moved")))
    assert len(results) == 19
    with pytest.raises(FeedUnavailable, match="redirects"):
        await ingestor.poll(FeedConfig(name="loop", url=server.url("/loop")))


@pytest.mark.parametrize(
    ("route", "error", "words"),
    [
        (lambda r: web.Response(status=500, text="boom"), FeedUnavailable, "HTTP 500"),
        (lambda r: web.Response(status=404), FeedUnavailable, "HTTP 404"),
        (lambda r: web.Response(body=b"<html><body>Not a feed</body></html>", content_type="text/html"),
         FeedMalformed, "not"),
        (lambda r: web.Response(body=FEED_BYTES[: len(FEED_BYTES) // 2], content_type="application/xml"),
         FeedMalformed, "well-formed"),
        (lambda r: web.Response(body=b"\x00\xff garbage \x89PNG", content_type="application/xml"),
         FeedMalformed, "XML|feed"),
        (lambda r: web.Response(body=b"", content_type="application/xml"), FeedMalformed, "empty"),
    ],
    ids=["500", "404", "html", "truncated", "garbage", "empty"],
)
async def test_faults_leave_store_untouched(server: FeedServer, tmp_path: Path, route: Callable[..., web.Response],
                                            error: type[Exception], words: str) -> None:
    ingestor, store = _ingestor(tmp_path)
    ingestor.ingest_bytes(FEED_BYTES, "nlp")  # yesterday's good data
    before = store.list_issues(limit=100)
    server.routes["/bad"] = route
    with pytest.raises(error, match=words):
        await ingestor.poll(FeedConfig(name="nlp", url=server.url("/bad")))
    assert store.list_issues(limit=100) == before
    state = store.feed_state("nlp")
    assert state.last_error and state.error_count == 1


async def test_timeout_is_a_clear_error(server: FeedServer, tmp_path: Path) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(1.5)
        return web.Response(body=FEED_BYTES)

    server.routes["/slow"] = slow
    ingestor, store = _ingestor(tmp_path)
    with pytest.raises(FeedUnavailable, match="timed out"):
        await ingestor.poll(FeedConfig(name="slow", url=server.url("/slow"), timeout=0.2))
    assert store.list_issues() == []


async def test_a_trickling_server_hits_the_overall_deadline(server: FeedServer, tmp_path: Path) -> None:
    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/xml"})
        await response.prepare(request)
        for _ in range(40):  # each byte well within the per-read timeout, the whole far beyond the deadline
            await response.write(b" ")
            await asyncio.sleep(0.05)
        return response

    server.routes["/trickle"] = trickle
    ingestor, store = _ingestor(tmp_path)
    with pytest.raises(FeedUnavailable, match="timed out"):
        await ingestor.poll(FeedConfig(name="slow", url=server.url("/trickle"), timeout=0.5))
    assert store.list_issues() == []


async def test_oversized_body_is_refused_while_streaming(server: FeedServer, tmp_path: Path) -> None:
    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/xml"})
        await response.prepare(request)
        for _ in range(200):
            await response.write(b"<x>" + b"a" * 65536 + b"</x>")
        return response

    bomb = gzip.compress(b"<feed>" + b" " * (30 * 1024 * 1024) + b"</feed>")
    server.routes["/endless"] = endless
    server.routes["/bomb"] = lambda r: web.Response(body=bomb, headers={"Content-Encoding": "gzip"})
    ingestor, store = _ingestor(tmp_path)
    with pytest.raises(FeedMalformed, match="limit"):
        await ingestor.poll(FeedConfig(name="big", url=server.url("/endless"), max_bytes=1_000_000))
    with pytest.raises(FeedMalformed, match="limit"):
        await ingestor.poll(FeedConfig(name="bomb", url=server.url("/bomb"), max_bytes=5_000_000))
    assert store.list_issues() == []


async def test_connection_refused_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FeedUnavailable, match="cannot fetch"):
        await fetch_feed("down", "http://127.0.0.1:9/feed.xml", timeout=2)
    with pytest.raises(FeedUnavailable, match="no such file"):
        await fetch_feed("file", str(tmp_path / "missing.xml"))


def test_rss_content_encoded_and_relative_links() -> None:
    parsed = parse_feed("rss", RSS, "https://example.org/feed.xml")
    assert parsed.language == "fr"
    (entry,) = parsed.entries
    assert "<h1>Publications" in entry.html  # content:encoded preferred over description
    assert entry.published is not None and entry.published.year == 2020
    assert entry.base_url.startswith("https://example.org/")


def test_atom_corpus_entries() -> None:
    parsed = parse_feed("nlp", FEED_BYTES)
    assert len(parsed.entries) == 20
    first = parsed.entries[0]
    assert first.entry_id == "https://dair.ai/NLP_Newsletter_NLP_7[ZH].md"
    assert first.html.startswith("<p><img")
    assert first.published is not None


async def test_a_split_failure_keeps_the_validators_unsaved(server: FeedServer, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection at the splitter: the entry it fails on must be read again, not 304'd away."""
    import bot.feeds.ingest
    import bot.splitting.split

    server.routes["/feed.xml"] = _conditional
    ingestor, store = _ingestor(tmp_path)
    feed = FeedConfig(name="nlp", url=server.url("/feed.xml"))
    real = bot.splitting.split.split_entry
    victim = parse_feed("nlp", FEED_BYTES).entries[3].entry_id

    def failing(entry: RawEntry, **kwargs: Any) -> Issue:
        if entry.entry_id == victim:
            raise RuntimeError("splitter bug")
        return real(entry, **kwargs)

    monkeypatch.setattr(bot.feeds.ingest, "split_entry", failing)
    first = await ingestor.poll(feed)
    assert len(first) == 18
    state = store.feed_state("nlp")
    assert state.etag is None and state.last_modified is None
    assert state.last_error and "could not be split" in state.last_error
    monkeypatch.setattr(bot.feeds.ingest, "split_entry", real)
    second = await ingestor.poll(feed)
    assert "If-None-Match" not in server.requests[-1].headers  # read in full, not "304 not modified"
    assert [r.entry_id for r in second if r.status == "new"] == [victim]
    assert store.feed_state("nlp").etag == '"v1"' and store.feed_state("nlp").last_error is None
    assert await ingestor.poll(feed) == []  # and now the validators are used
