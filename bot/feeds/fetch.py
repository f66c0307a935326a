"""Reading a feed: a polite conditional GET (or a local file), then feedparser.

Everything that can go wrong with a feed server (down, slow, redirect loops, an
endless or gzip-bombed body, HTML instead of XML, a truncated document) becomes a
`FeedError` with a sentence a maintainer understands, before anything is stored.
"""

from __future__ import annotations

import asyncio
import calendar
import logging
import warnings
import xml.sax
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import struct_time
from typing import Any

import feedparser
import httpx

from bot import __version__
from bot.core.cleantext import clean_text
from bot.core.errors import FeedMalformed, FeedUnavailable
from bot.core.models import RawEntry
from bot.feeds.lift import Lifted, lift_payloads

__all__ = ["USER_AGENT", "FetchResult", "ParsedFeed", "fetch_feed", "is_remote", "parse_feed"]

log = logging.getLogger(__name__)

USER_AGENT = f"digestbot/{__version__} (+https://github.com/dair-ai; newsletter section bot)"
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024

_ACCEPT = "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.5"
_ACCEPT_ENCODING = "gzip, deflate"  # what `body_decoder` inflates; anything else is refused
_INFLATE_STEP = 256 * 1024  # most bytes one decompression step may produce (bounds memory and CPU per step)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The body of a feed, or `not_modified` when the server answered 304."""

    url: str
    body: bytes = b""
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    language: str | None
    entries: list[RawEntry]


def is_remote(location: str) -> bool:
    return location.startswith(("http://", "https://"))


async def fetch_feed(
    name: str,
    location: str,
    *,
    client: httpx.AsyncClient | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout: float = 20.0,
    max_bytes: int = 20 * 1024 * 1024,
) -> FetchResult:
    """Get the feed's bytes, asking the server only for what changed since last time.

    Raises:
        FeedUnavailable: network error, timeout, too many redirects, HTTP error status.
        FeedMalformed: the body is larger than `max_bytes` (after decompression).
    """
    if not is_remote(location):
        return _read_file(name, location, max_bytes)
    owned = client is None
    http = client or httpx.AsyncClient(follow_redirects=True, max_redirects=MAX_REDIRECTS)
    try:
        # httpx's timeout bounds each network operation; the deadline bounds the whole fetch,
        # so a server that trickles a byte at a time cannot hold a poll for ever.
        async with asyncio.timeout(timeout), http.stream("GET", location, headers=_headers(etag, last_modified),
                                                         timeout=timeout) as response:
            if response.status_code == 304:
                return FetchResult(url=location, not_modified=True, etag=etag, last_modified=last_modified)
            if response.status_code >= 400:
                raise FeedUnavailable(name, f"HTTP {response.status_code} {response.reason_phrase} from {location}")
            return FetchResult(
                url=str(response.url), body=await _read_body(name, response, max_bytes),
                etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified"),
            )
    except httpx.TooManyRedirects as exc:
        raise FeedUnavailable(name, f"more than {MAX_REDIRECTS} redirects from {location}") from exc
    except (httpx.TimeoutException, TimeoutError) as exc:
        raise FeedUnavailable(name, f"timed out after {timeout:g}s fetching {location}") from exc
    except (httpx.DecodingError, zlib.error) as exc:
        raise FeedMalformed(name, f"body could not be decompressed ({exc})") from exc
    except httpx.HTTPError as exc:
        raise FeedUnavailable(name, f"cannot fetch {location}: {type(exc).__name__}: {exc}") from exc
    finally:
        if owned:
            await http.aclose()


def _headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """The request's headers: a conditional GET when the last poll left validators."""
    headers = {"User-Agent": USER_AGENT, "Accept": _ACCEPT, "Accept-Encoding": _ACCEPT_ENCODING}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


async def _read_body(name: str, response: httpx.Response, max_bytes: int) -> bytes:
    """The response's body, inflated by us (bounded: a small gzip bomb must not fill memory).

    Raises FeedMalformed once the body, declared or read, is over `max_bytes`.
    """
    decoder = body_decoder(name, response.headers.get("Content-Encoding", ""))
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes and decoder is None:
        raise FeedMalformed(name, f"feed is {int(declared):,} bytes, over the {max_bytes:,}-byte limit")
    body = bytearray()
    if response.is_stream_consumed:  # built in memory (httpx.MockTransport): read and decoded already
        decoder, source = None, _once(response.content)
    else:
        source = response.aiter_raw(_CHUNK)  # still encoded: we inflate it, bounded
    async for chunk in source:
        for piece in (decoder.feed(chunk) if decoder else (chunk,)):
            body += piece
            if len(body) > max_bytes:
                raise FeedMalformed(name, f"feed is over the {max_bytes:,}-byte limit"
                                          f"{' once decompressed' if decoder else ''}; not read further")
            await asyncio.sleep(0)  # inflating is CPU work: let the deadline (and the loop) in
    if decoder is not None:
        decoder.finish()
    return bytes(body)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


class _Inflater:
    """Incremental gzip/deflate decoding whose output comes in bounded steps.

    `zlib.decompress` (and httpx's decoders) inflate a whole network chunk at once:
    64 KB of a gzip bomb become hundreds of megabytes before anyone can count them.
    Here each step yields at most `_INFLATE_STEP` bytes, so the caller's `max_bytes`
    check stops a bomb with memory near `max_bytes`.
    """

    def __init__(self, name: str, coding: str) -> None:
        self.name = name
        self.coding = coding
        self._zlib: Any = None
        self._started = False

    def _new(self, head: bytes) -> Any:
        if self.coding == "deflate":  # meant to be zlib-wrapped; some servers send raw deflate
            wrapped = len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
            return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        return zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            if self._zlib is None:
                self._zlib = self._new(data)
                self._started = True
            out = self._zlib.decompress(data, _INFLATE_STEP)
            if out:
                yield out
            data = self._zlib.unconsumed_tail
            if self._zlib.eof:
                data = self._zlib.unused_data.lstrip(b"\0") if self.coding != "deflate" else b""
                self._zlib = None  # gzip may hold several members one after the other

    def finish(self) -> None:
        if self._zlib is not None and not self._zlib.eof:
            raise FeedMalformed(self.name, f"the {self.coding} body is truncated")
        if not self._started:
            raise FeedMalformed(self.name, f"the {self.coding} body is empty")


def body_decoder(name: str, header: str) -> _Inflater | None:
    """The decoder for a `Content-Encoding` header: None for identity, refused when unknown or stacked.

    Raises:
        FeedMalformed: an encoding we did not ask for, or several stacked (`gzip, gzip`):
            a 3.5 KB body stacked that way inflates to gigabytes, and no feed needs it.
    """
    codings = [c.strip().lower() for c in header.split(",") if c.strip() and c.strip().lower() != "identity"]
    if not codings:
        return None
    if len(codings) > 1:
        raise FeedMalformed(name, f"stacked content encodings {header.strip()!r} refused (one of gzip or deflate)")
    coding = {"x-gzip": "gzip"}.get(codings[0], codings[0])
    if coding not in ("gzip", "deflate"):
        raise FeedMalformed(name, f"unsupported content encoding {codings[0]!r} (we accept gzip or deflate)")
    return _Inflater(name, coding)


def _read_file(name: str, location: str, max_bytes: int) -> FetchResult:
    path = Path(location.removeprefix("file://"))
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FeedMalformed(name, f"{path} is {size:,} bytes, over the {max_bytes:,}-byte limit")
        return FetchResult(url=path.resolve().as_uri(), body=path.read_bytes())
    except FileNotFoundError as exc:
        raise FeedUnavailable(name, f"no such file: {path}") from exc
    except OSError as exc:
        raise FeedUnavailable(name, f"cannot read {path}: {exc.strerror}") from exc


def parse_feed(name: str, body: bytes, base_url: str = "", *, lift: bool = True) -> ParsedFeed:
    """Parse RSS 2.0 or Atom into raw entries; feed HTML is left untouched for the splitter.

    feedparser's own sanitising and relative-URI resolution are turned off: the
    splitter renders through an allowlist and resolves the URLs it keeps, so
    doing it twice would only cost time. For the same reason large entry bodies
    are lifted out before feedparser reads the document (`bot.feeds.lift`);
    `lift=False` parses the document as it is (same result, slower).

    Raises:
        FeedMalformed: not XML, truncated, or no feed structure at all.
    """
    if not body.strip():
        raise FeedMalformed(name, "the feed is empty")
    lifted = lift_payloads(body) if lift else None
    headers = {"content-location": base_url} if base_url else None
    parsed = feedparser.parse(lifted.document if lifted else body, sanitize_html=False,
                              resolve_relative_uris=False, response_headers=headers)
    # An XML error may come from our copy: judge the original. Other notices (feedparser's "no Content-type
    # specified" when headers are given, an encoding override) say the same of both: keep the light parse,
    # instead of parsing the whole document again (for a 20 MB feed: seconds and ~200 MB more).
    if lifted is not None and isinstance(parsed.get("bozo_exception"), xml.sax.SAXException):
        lifted = None
        parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False, response_headers=headers)
    problem = parsed.get("bozo_exception")
    if isinstance(problem, xml.sax.SAXException):
        where = ""
        if isinstance(problem, xml.sax.SAXParseException):
            where = f" at line {problem.getLineNumber()}, column {problem.getColumnNumber()}"
        raise FeedMalformed(name, f"not well-formed XML{where} ({problem.getMessage()}); truncated or not a feed")
    version = parsed.get("version", "")
    if not version and not parsed.entries:
        raise FeedMalformed(name, "the document is not an RSS or Atom feed")
    language = parsed.feed.get("language")
    if lifted is not None:
        _restore(parsed.entries, lifted, parsed.get("encoding"))
    title = clean_text(" ".join((parsed.feed.get("title") or "").split()))  # it names the newsletter in posts
    entries = [_raw_entry(name, entry, language, base_url, title) for entry in parsed.entries]
    return ParsedFeed(title=title, language=language, entries=entries)


def _restore(entries: list[Any], lifted: Lifted, encoding: str | None) -> None:
    """Put the lifted bodies back where feedparser left their tokens."""
    for entry in entries:
        for content in entry.get("content") or []:
            if "value" in content:
                content["value"] = lifted.restore(content["value"], encoding=encoding)
        if "summary" in entry:
            entry["summary"] = lifted.restore(entry["summary"], encoding=encoding)
        detail = entry.get("summary_detail")
        if detail and "value" in detail:
            detail["value"] = lifted.restore(detail["value"], encoding=encoding)


def _raw_entry(feed: str, entry: Any, language: str | None, base_url: str, feed_title: str = "") -> RawEntry:
    html, content_base = _content(entry)
    with warnings.catch_warnings():  # feedparser warns about its updated→published fallback
        warnings.simplefilter("ignore", DeprecationWarning)
        published = entry.get("published_parsed") or entry.get("updated_parsed")
        updated = entry.get("updated_parsed")
    link = entry.get("link", "") or ""
    # an id reaches status/preview JSON and logs like any feed text: cleaned the same way (bot.core.cleantext)
    entry_id = next((clean for raw in (entry.get("id"), link, entry.get("title"))
                     if (clean := clean_text(raw or "").strip())), "")
    return RawEntry(
        entry_id=entry_id,
        link=link,
        title=" ".join((entry.get("title") or "").split()),
        html=html,
        published=_datetime(published),
        updated=_datetime(updated),
        feed_language=entry.get("language") or language,
        base_url=content_base or link or base_url,
        feed=feed,
        feed_title=feed_title,
    )


def _content(entry: Any) -> tuple[str, str]:
    """The richest HTML body: Atom content / RSS content:encoded, else description/summary."""
    contents = entry.get("content") or []
    html_parts = [c for c in contents if "html" in (c.get("type") or "")] or list(contents)
    if html_parts:
        best = max(html_parts, key=lambda c: len(c.get("value") or ""))
        return best.get("value") or "", best.get("base") or ""
    summary = entry.get("summary_detail") or {}
    return entry.get("summary") or "", summary.get("base") or ""


def _datetime(value: struct_time | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
