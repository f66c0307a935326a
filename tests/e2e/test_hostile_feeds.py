"""Hostile feeds, met as an operator meets them: `digestbot` as a subprocess against a local feed server.

Each test serves a feed from the scriptable server of `tests/harness/feed_server.py` and runs the
CLI (`ingest`, `run --once`, `status`, `ask`, `preview`) on it: compression bombs,
duplicate and changed entry ids, oversized issues and terminal escapes in feed text.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import sqlite3
import sys
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from aiohttp import web

from tests.harness.cli import clean_env
from tests.harness.feed_server import FeedServer

# Reports the peak RSS of the one command it runs (RUSAGE_CHILDREN of a fresh process has no other child).
_MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"code": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "peak": peak}))
"""


@dataclass(frozen=True)
class Done:
    code: int
    stdout: str
    stderr: str
    peak: int = 0  # bytes, when measured


def _env(tmp_path: Path) -> dict[str, str]:
    return clean_env()


async def cli(tmp_path: Path, *args: str, measure: bool = False) -> Done:
    """`digestbot ARGS` in a subprocess (the test's event loop keeps serving the feed meanwhile)."""
    command = [sys.executable, "-m", "app.cli", *args]
    if measure:
        command = [sys.executable, "-c", _MEASURE, *command]
    proc = await asyncio.create_subprocess_exec(*command, cwd=tmp_path, env=_env(tmp_path),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 180)
    if measure:
        data = json.loads(out)
        return Done(data["code"], data["stdout"], data["stderr"], data["peak"])
    assert proc.returncode is not None
    return Done(proc.returncode, out.decode(), err.decode())


def config(tmp_path: Path, url: str, *, destination: str = "", **feed: object) -> Path:
    extra = "".join(f"{key} = {json.dumps(value)}\n" for key, value in feed.items())
    path = tmp_path / "config.toml"
    path.write_text(
        f'[storage]\npath = "{tmp_path / "bot.db"}"\n\n'
        f'[console]\nlog = "{tmp_path / "console.jsonl"}"\n\n'
        f'[[feeds]]\nname = "nlp"\nurl = "{url}"\n{extra}\n'
        + (destination or '[[destinations]]\nname = "console"\nplatform = "console"\nbackfill = 100\n'),
        encoding="utf-8")
    return path


def delivered(tmp_path: Path) -> list[dict[str, str]]:
    log = tmp_path / "console.jsonl"
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


def issue_xml(title: str, link: str, sections: list[tuple[str, str]], guid: str | None = None) -> str:
    body = "".join(f"<h1>{heading}</h1><p>{text}</p>" for heading, text in sections)
    guid_xml = f"<guid>{guid}</guid>" if guid else ""
    return (f"<item><title>{title}</title><link>{link}</link>{guid_xml}"
            "<pubDate>Mon, 06 Apr 2020 00:00:00 +0000</pubDate>"
            f"<description><![CDATA[{body}]]></description></item>")


def rss(*items: str, title: str = "NLP") -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>{title}</title>"
            "<link>https://example.org/</link>" + "".join(items) + "</channel></rss>").encode()


SECTIONS = [("Publications 📙", "A paper about {w}."), ("Tools ⚙️", "A tool named {w}."),
            ("Education 🎓", "A course on {w}.")]


def sections(word: str) -> list[tuple[str, str]]:
    return [(heading, text.format(w=word)) for heading, text in SECTIONS]


def serve(server: FeedServer, path: str, body: bytes, **headers: str) -> str:  # noqa: F811
    server.routes[path] = lambda request: web.Response(body=body, headers={"Content-Type": "application/xml",
                                                                           **headers})
    return server.url(path)


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    return lines[-1]


# --------------------------------------------------------------------------- encodings
@cache
def _zeros_gzip(megabytes: int) -> bytes:
    """gzip of `megabytes` MB of zeros, built a chunk at a time (never held inflated)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1024 * 1024)
    return b"".join(packer.compress(chunk) for _ in range(megabytes)) + packer.flush()


async def test_stacked_gzip_bomb_is_refused_in_one_line_without_inflating(server: FeedServer,  # noqa: F811
                                                                          tmp_path: Path) -> None:
    bomb = gzip.compress(_zeros_gzip(1024), 9)  # 1 GiB under two layers of gzip
    assert len(bomb) < 8 * 1024
    url = serve(server, "/stacked", bomb, **{"Content-Encoding": "gzip, gzip"})
    baseline = await cli(tmp_path, "ingest", "--config", str(config(tmp_path, serve(server, "/ok", rss()))),
                         measure=True)
    done = await cli(tmp_path, "ingest", "--config", str(config(tmp_path, url, timeout="5s")), measure=True)
    assert done.code == 1
    assert "stacked content encodings 'gzip, gzip' refused" in _one_line(done.stderr)
    assert done.peak < baseline.peak + 16 * 1024 * 1024, (done.peak, baseline.peak)
    status = json.loads((await cli(tmp_path, "status", "--json", "--config", str(tmp_path / "config.toml"))).stdout)
    assert "stacked" in status["feeds"][0]["last_error"]


async def test_unknown_encoding_is_refused_in_one_line(server: FeedServer, tmp_path: Path) -> None:  # noqa: F811
    url = serve(server, "/br", b"\x1b\x00\x00", **{"Content-Encoding": "br"})
    done = await cli(tmp_path, "ingest", "--config", str(config(tmp_path, url)))
    assert done.code == 1
    assert "unsupported content encoding 'br'" in _one_line(done.stderr)


async def test_single_gzip_bomb_peaks_near_max_bytes(server: FeedServer, tmp_path: Path) -> None:  # noqa: F811
    max_bytes = 8 * 1024 * 1024
    url = serve(server, "/bomb", _zeros_gzip(512), **{"Content-Encoding": "gzip"})  # 512 MiB inflated
    ok = serve(server, "/ok", gzip.compress(rss(issue_xml("NLP Newsletter #1", "https://e.org/1", sections("a")))),
               **{"Content-Encoding": "gzip"})
    baseline = await cli(tmp_path, "ingest", "--config", str(config(tmp_path, ok, max_bytes=max_bytes)),
                         measure=True)
    assert baseline.code == 0, baseline.stderr
    done = await cli(tmp_path, "ingest", "--config", str(config(tmp_path, url, max_bytes=max_bytes)), measure=True)
    assert done.code == 1
    assert "over the 8,388,608-byte limit once decompressed" in _one_line(done.stderr)
    # The body is kept up to max_bytes (and copied once): allow three times that above the baseline.
    assert done.peak < baseline.peak + 3 * max_bytes, (done.peak / 2**20, baseline.peak / 2**20)


async def test_deflate_is_read(server: FeedServer, tmp_path: Path) -> None:  # noqa: F811
    body = rss(issue_xml("NLP Newsletter #1", "https://e.org/1", sections("deflated")))
    url = serve(server, "/deflate", zlib.compress(body), **{"Content-Encoding": "deflate"})
    done = await cli(tmp_path, "ingest", "--config", str(config(tmp_path, url)))
    assert done.code == 0, done.stderr
    assert "1 edition (1 new)" in done.stdout


# --------------------------------------------------------------------------- duplicate ids
async def test_duplicate_ids_keep_the_last_and_never_block_the_feed(server: FeedServer,  # noqa: F811
                                                                    tmp_path: Path) -> None:
    # No <guid>: the link is the id, and two items share it.
    feed = rss(issue_xml("NLP Newsletter #1", "https://e.org/1", sections("first")),
               issue_xml("NLP Newsletter #1", "https://e.org/1", sections("second")),
               issue_xml("NLP Newsletter #2", "https://e.org/2", sections("other")))
    path = config(tmp_path, serve(server, "/dup", feed))
    for _ in range(2):  # the second poll re-reads the same feed: still fine
        done = await cli(tmp_path, "ingest", "--config", str(path))
        assert done.code == 0, done.stderr
        assert "malformed" not in done.stderr
    assert done.stderr.count("1 entry repeating an id") == 1  # logged once per poll
    status = json.loads((await cli(tmp_path, "status", "--json", "--config", str(path))).stdout)
    assert status["feeds"][0]["last_error"] is None and status["feeds"][0]["last_ok"]
    second = await cli(tmp_path, "ask", "/search second", "--config", str(path))
    first = await cli(tmp_path, "ask", "/search first", "--config", str(path))
    assert "second" in second.stdout and second.code == 0
    assert "nothing found" in first.stdout.lower()


async def test_a_failed_poll_shows_in_status(server: FeedServer, tmp_path: Path) -> None:  # noqa: F811
    server.routes["/down"] = lambda request: web.Response(status=503, text="down")
    path = config(tmp_path, server.url("/down"))
    done = await cli(tmp_path, "ingest", "--config", str(path))
    assert done.code == 1 and "HTTP 503" in done.stderr
    status = json.loads((await cli(tmp_path, "status", "--json", "--config", str(path))).stdout)
    assert "HTTP 503" in status["feeds"][0]["last_error"] and status["feeds"][0]["error_count"] == 1


# --------------------------------------------------------------------------- identity
async def test_changed_ids_redeliver_nothing(server: FeedServer, tmp_path: Path) -> None:  # noqa: F811
    old = rss(issue_xml("NLP Newsletter [FR] #1: Un", "http://e.org/fr/1/", sections("un"), guid="urn:old:1"),
              issue_xml("NLP Newsletter [FR] #2: Deux", "http://e.org/fr/2", sections("deux"), guid="urn:old:2"),
              issue_xml("NLP Newsletter [FR] #3: Trois", "http://e.org/fr/3", sections("trois"), guid="urn:old:3"))
    # The site moved to https (one link lost its trailing slash), ids follow a new scheme, and one
    # issue's link changed altogether: it is still FR #2.
    new = rss(issue_xml("NLP Newsletter [FR] #1: Un", "https://e.org/fr/1", sections("un"), guid="tag:new,1"),
              issue_xml("NLP Newsletter [FR] #2: Deux", "https://news.e.org/deux", sections("deux"),
                        guid="tag:new,2"),
              issue_xml("NLP Newsletter [FR] #3: Trois", "https://e.org/fr/3/", sections("trois"), guid="tag:new,3"))
    mode = {"feed": old}
    server.routes["/feed"] = lambda request: web.Response(body=mode["feed"], content_type="application/xml")
    path = config(tmp_path, server.url("/feed"))
    done = await cli(tmp_path, "run", "--once", "--config", str(path))
    assert done.code == 0, done.stderr
    first = len(delivered(tmp_path))
    assert first == 12  # three issues of three sections and an index
    mode["feed"] = new
    for _ in range(2):
        done = await cli(tmp_path, "run", "--once", "--config", str(path))
        assert done.code == 0, done.stderr
        assert len(delivered(tmp_path)) == first  # nothing delivered again
    listing = await cli(tmp_path, "ask", "/issues", "--config", str(path))
    for number in (1, 2, 3):
        assert listing.stdout.count(f"#{number} ") + listing.stdout.count(f"#{number}\n") == 1, listing.stdout
    with sqlite3.connect(tmp_path / "bot.db") as db:
        links = sorted(row[0] for row in db.execute("select link from issues"))
    assert links == ["https://e.org/fr/1", "https://e.org/fr/3/", "https://news.e.org/deux"]


# --------------------------------------------------------------------------- size caps
async def test_an_issue_with_10000_sections_is_stored_not_delivered(server: FeedServer,  # noqa: F811
                                                                   tmp_path: Path) -> None:
    huge = [(f"Heading {n}", f"text {n}") for n in range(10_000)]
    feed = rss(issue_xml("NLP Newsletter #1", "https://e.org/1", sections("fine")),
               issue_xml("NLP Newsletter #2", "https://e.org/2", sections("fine") + huge))
    path = config(tmp_path, serve(server, "/huge", feed))
    done = await cli(tmp_path, "run", "--once", "--config", str(path))
    assert done.code == 0, done.stderr
    posts = delivered(tmp_path)
    assert len(posts) == 4 and all("#1 " in post["text"] for post in posts)  # #1's sections and index
    assert "10,003 sections, over the limit of 40" in done.stderr and "stored, not delivered" in done.stderr
    status = json.loads((await cli(tmp_path, "status", "--json", "--config", str(path))).stdout)
    (held,) = status["feeds"][0]["held"]
    assert held["issue"] == "https://e.org/2" and "10,003 sections" in held["reason"]
    listing = await cli(tmp_path, "ask", "/issues", "--config", str(path))
    assert "#1" in listing.stdout and "#2" not in listing.stdout


async def test_size_limits_are_configurable_and_a_held_issue_goes_out_once_allowed(
        server: FeedServer, tmp_path: Path) -> None:  # noqa: F811
    feed = rss(issue_xml("NLP Newsletter #1", "https://e.org/1", sections("four") + [("Extra", "more")]))
    path = config(tmp_path, serve(server, "/four", feed), max_sections=3)
    done = await cli(tmp_path, "run", "--once", "--config", str(path))
    assert done.code == 0, done.stderr
    assert delivered(tmp_path) == [] and "(feeds.max_sections)" in done.stderr
    path = config(tmp_path, serve(server, "/four", feed), max_sections=4, max_items=3)
    done = await cli(tmp_path, "run", "--once", "--config", str(path))
    assert delivered(tmp_path) == [] and "4 items, over the limit of 3 (feeds.max_items)" in done.stderr
    path = config(tmp_path, serve(server, "/four", feed))
    done = await cli(tmp_path, "run", "--once", "--config", str(path))
    assert done.code == 0, done.stderr
    assert len(delivered(tmp_path)) == 5  # four sections and an index
    status = json.loads((await cli(tmp_path, "status", "--json", "--config", str(path))).stdout)
    assert status["feeds"][0]["held"] == []


# --------------------------------------------------------------------------- clean text
HOSTILE = ("Tools &#x1b;]0;pwned&#x07;\u202eevil\u202c ⚙️", "see &#x1b;[31mred&#x1b;[0m and "
           '<a href="https://e.org/x">li&#x1b;]8;;https://evil.example/&#x1b;\\nk&#8238;</a> \u2067x\u2069')


async def test_escape_and_bidi_characters_never_reach_a_reader(server: FeedServer,  # noqa: F811
                                                               tmp_path: Path) -> None:
    entry = issue_xml("NLP Newsletter [AR] #7: \u202eشسي\u202c", "https://e.org/7",
                      [HOSTILE, ("Publications 📙", "كلمة\u200f (RLM kept) 👩\u200d💻 (ZWJ kept)"),
                       ("Education 🎓", "tab\tkept")])
    path = config(tmp_path, serve(server, "/hostile", rss(entry, title="NLP \u202eevil\u202c Weekly")))
    done = await cli(tmp_path, "run", "--once", "--config", str(path))
    assert done.code == 0, done.stderr
    preview = await cli(tmp_path, "preview", "--json", "--config", str(path))
    with sqlite3.connect(tmp_path / "bot.db") as db:
        stored = json.dumps([list(row) for table in ("issues", "sections", "items")
                             for row in db.execute(f"select * from {table}")], ensure_ascii=False)  # noqa: S608
    for text in (done.stdout, preview.stdout, stored, json.dumps(delivered(tmp_path), ensure_ascii=False)):
        assert "evil" in text and "red" in text  # the words stay ...
        for bad in ("\x1b", "\\u001b", "\x07", "\\u0007", "\u202e", "\u202c", "\u2067", "\u2069", "pwned", "[31m",
                    "evil.example"):
            assert bad not in text, (bad, text[:2000])  # ... escapes and overrides go, sequences whole
        assert "\u200f" in text and "👩\u200d💻" in text
