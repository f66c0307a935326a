"""Lifting entry HTML out of a feed document before feedparser reads it.

feedparser stays the parser of record for everything a feed says about itself
and its entries (ids, links, titles, dates, RSS and Atom variants). But for the
bulky HTML bodies, which digestbot re-renders through its own allowlist anyway,
feedparser's per-character post-processing (cp1252 remapping, re-encoding
checks) costs more than all the rest of the parse. So a first, cheap expat pass
records each large body and replaces it in the document with a short token;
feedparser parses the light document; the tokens are then swapped back for the
bodies, post-processed exactly as feedparser would have done it.

Whenever the shortcut might not give the same result (an encoding expat does not
read byte for byte, a DOCTYPE, XHTML or base64 bodies, a malformed document),
`lift_payloads` returns None and the caller parses the original bytes.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from dataclasses import dataclass, field
from xml.parsers import expat

__all__ = ["Lifted", "lift_payloads"]

_SEP = "\x01"
_ATOM = ("http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#")
_RSS1 = "http://purl.org/rss/1.0/"
_CONTENT = "http://purl.org/rss/1.0/modules/content/"
_TARGETS = frozenset(
    {f"{ns}{_SEP}content" for ns in _ATOM}
    | {f"{ns}{_SEP}summary" for ns in _ATOM}
    | {"description", f"{_RSS1}{_SEP}description", f"{_CONTENT}{_SEP}encoded"}
)
_HTMLISH_TYPES = frozenset({"", "html", "text/html", "text", "text/plain"})
_ENTRIES = frozenset({f"{ns}{_SEP}entry" for ns in _ATOM} | {"item", f"{_RSS1}{_SEP}item"})
MIN_PAYLOAD = 256  # smaller bodies cost feedparser nothing worth saving
_ASCII_COMPATIBLE = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']\s*(utf-?8|us-ascii|ascii)\s*[\"']", re.I)
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=", re.I)
_CP1252_RANGE = re.compile("[\x80-\x9f]")
_CP1252 = {
    code: bytes([code]).decode("cp1252")
    for code in range(0x80, 0xA0)
    if code not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}


@dataclass(frozen=True, slots=True)
class Lifted:
    """The light document and the bodies its tokens stand for.

    A body is post-processed once: its result replaces the raw text in `payloads`, so the
    raw copy is freed at once (a 20 MB feed does not hold every body twice) and a token seen
    again (an entry's summary and content) gets the very same string.
    """

    document: bytes
    payloads: dict[str, str]
    _done: set[str] = field(default_factory=set)

    def restore(self, value: str, *, encoding: str | None) -> str:
        """The body a token stands for, post-processed as feedparser does (`mixin.pop`)."""
        token = value.strip()
        payload = self.payloads.get(token)
        if payload is None:
            return value
        if token in self._done:
            return payload
        output = self._process(payload, encoding)
        self.payloads[token] = output
        self._done.add(token)
        return output

    @staticmethod
    def _process(payload: str, encoding: str | None) -> str:
        output = payload.strip()
        if encoding in ("utf-8", "utf-8_INVALID_PYTHON_3"):
            with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):  # UTF-8 read as Latin-1, repaired
                output = output.encode("iso-8859-1").decode("utf-8")
        if _CP1252_RANGE.search(output):  # C1 controls stand for Windows-1252 characters
            output = output.translate(_CP1252)
        return output


class _Unliftable(Exception):
    """The document has something the shortcut does not handle; parse it as it is."""


def lift_payloads(body: bytes) -> Lifted | None:
    """Replace large entry bodies with tokens, or None when the shortcut does not apply."""
    if body.startswith((b"\xfe\xff", b"\xff\xfe", b"\x00", b"\x4c\x6f\xa7\x94")):
        return None  # UTF-16/32 or EBCDIC: byte offsets would not match characters
    head = body[:512]
    if _DECLARED_ENCODING.match(head) and not _ASCII_COMPATIBLE.match(head):
        return None
    spans: list[tuple[int, int, str]] = []
    stack: list[tuple[str, int, list[str] | None]] = []
    parser = expat.ParserCreate(encoding="utf-8", namespace_separator=_SEP)
    parser.buffer_text = True
    parser.buffer_size = 1 << 20

    def start(name: str, attrs: dict[str, str]) -> None:
        if stack and stack[-1][2] is not None:
            raise _Unliftable("markup inside a body")  # XHTML content: leave it to feedparser
        liftable = (name in _TARGETS and "mode" not in attrs
                    and attrs.get("type", "").strip().lower() in _HTMLISH_TYPES
                    and any(opened in _ENTRIES for opened, _, _ in stack))  # entry bodies only
        stack.append((name, parser.CurrentByteIndex, [] if liftable else None))

    def end(name: str) -> None:
        _, opened, chunks = stack.pop()
        if chunks is not None:
            text = "".join(chunks)
            if len(text) >= MIN_PAYLOAD:
                spans.append((opened, parser.CurrentByteIndex, text))

    def characters(data: str) -> None:
        if stack and stack[-1][2] is not None:
            stack[-1][2].append(data)

    def doctype(*_args: object) -> None:
        raise _Unliftable("DOCTYPE")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(body, True)
    except (expat.ExpatError, _Unliftable, ValueError):
        return None
    if not spans:
        return None
    return _splice(body, spans)


def _splice(body: bytes, spans: list[tuple[int, int, str]]) -> Lifted | None:
    nonce = secrets.token_hex(6)
    pieces: list[bytes] = []
    payloads: dict[str, str] = {}
    cursor = 0
    for number, (opened, closed, text) in enumerate(spans):
        content_start = _end_of_start_tag(body, opened)
        if content_start is None or content_start > closed or body[closed:closed + 2] != b"</":
            return None
        token = f"digestbot-lifted-{nonce}-{number}"
        payloads[token] = text
        pieces += [body[cursor:content_start], token.encode("ascii")]
        cursor = closed
    pieces.append(body[cursor:])
    return Lifted(document=b"".join(pieces), payloads=payloads)


def _end_of_start_tag(body: bytes, opened: int) -> int | None:
    """Offset just after the `>` that closes the start tag at `opened` (quote-aware)."""
    quote = 0
    for index in range(opened + 1, min(len(body), opened + 4096)):
        byte = body[index]
        if quote:
            if byte == quote:
                quote = 0
        elif byte in (0x22, 0x27):
            quote = byte
        elif byte == 0x3E:
            return index + 1
    return None
