"""Feed HTML → Blocks of Spans, by allowlist: the only place feed markup is read.

Only text, bold, italic, code, safe links (http/https/mailto), lists, quotes and
preformatted text survive; every other element gives at most its text, and
script/style/iframe and comments give nothing. Adapters therefore never see feed
HTML and cannot be tricked into rendering it.

Why a hand-rolled walk rather than an HTML-to-Markdown library: the output is our
own `Span`/`Block` model (one per platform dialect later), and the walk also
collects images, links and "[source]" links in the same pass, which keeps the
whole corpus split in a few tens of milliseconds.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.markup import escape_text, span_html
from bot.core.models import Block, BlockKind, Item, Span
from bot.core.urls import safe_url

__all__ = [
    "Fragment",
    "RichTextBuilder",
    "SOURCE_WORDS",
    "blocks_to_html",
    "is_source_text",
]

#: Link texts that mark an item's source, in the newsletter's languages.
SOURCE_WORDS = frozenset({
    "source", "sources", "src", "fonte", "fontes", "fuente", "fuentes", "kaynak", "kaynaklar",
    "المصدر", "مصدر", "المصادر", "来源", "出处", "原文", "來源", "quelle",
})

# Elements whose content is never text for a reader.
_DROP = frozenset({
    "script", "style", "iframe", "noscript", "template", "object", "embed", "svg", "math", "head",
    "title", "meta", "link", "base", "frame", "frameset", "applet", "audio", "video", "canvas",
    "select", "textarea", "button", "input", "form", "map", "param", "source", "track",
})
_BOLD = frozenset({"strong", "b"})
_ITALIC = frozenset({"em", "i", "cite", "dfn", "var"})
_CODE = frozenset({"code", "kbd", "samp", "tt"})
_LIST = frozenset({"ul", "ol", "menu", "dl"})
_BLOCK = frozenset({
    "p", "div", "section", "article", "aside", "header", "footer", "main", "nav", "figure", "figcaption",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tfoot", "tr", "caption", "address",
    "details", "summary", "center", "hgroup", "dt", "dd", "li", "body", "html", "fieldset", "legend",
})
_CELLS = frozenset({"td", "th"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

# What the walk does with an element, looked up once per element instead of testing the
# tag against each set in turn. An element with no role is inline: its text only.
_R_BLOCK, _R_HEADING, _R_LINK, _R_BOLD, _R_ITALIC, _R_CODE, _R_BR, _R_IMG, _R_LIST, _R_QUOTE, _R_PRE, _R_HR, \
    _R_CELL, _R_DROP = range(14)
_ROLE: dict[str, int] = {}
for _tags, _role in ((_DROP, _R_DROP), (("br",), _R_BR), (("img",), _R_IMG), (_BOLD, _R_BOLD),
                     (_ITALIC, _R_ITALIC), (_CODE, _R_CODE), (("a",), _R_LINK), (_LIST, _R_LIST),
                     (("blockquote",), _R_QUOTE), (("pre",), _R_PRE), (("hr",), _R_HR), (_CELLS, _R_CELL),
                     (_HEADINGS, _R_HEADING), (_BLOCK, _R_BLOCK)):
    for _tag in _tags:
        _ROLE.setdefault(_tag, _role)  # the first set a tag is in wins
del _tags, _role, _tag
_LIST_ENTRIES = frozenset({"li", "dt", "dd"})

_WS = re.compile(r"[ \t\r\n\f\v\u00a0\u2028\u2029\u200b]+")
_WORDISH = re.compile(r"[^\W_]")
_NL = re.compile(r" *\n[ \n]*")
_BARE_URL = re.compile(r"https?://[^\s<>\"'`，。、；）】》]+")
_URL_TRAIL = ".,;:!?)]}*'\""
_SOURCE_STRIP = " \t\n[]()（）【】<>«»*_-–—:：.,!|"
MAX_DEPTH = 150

Fmt = tuple[bool, bool, bool, "str | None"]  # bold, italic, code, href
_PLAIN: Fmt = (False, False, False, None)


def is_source_text(text: str) -> bool:
    """True for a link text like "source", "[source]", "(Fuente)", "来源"."""
    return text.strip(_SOURCE_STRIP).casefold() in SOURCE_WORDS


@dataclass
class Fragment:
    """What a piece of HTML gives: blocks to read plus the images and links found along the way."""

    blocks: list[Block] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    source_only: bool = False  # nothing but "[source]" links (and punctuation)


class RichTextBuilder:
    """Walks DOM nodes (selectolax lexbor) and builds a Fragment.

    One builder per fragment: `add(node)` any number of nodes, then `fragment()`.
    The walk follows `first_child`/`next` pointers and finds what to do with an
    element by one table lookup: this is the splitter's innermost loop.

    Args:
        base: URL that relative links and images resolve against.
        linkify: turn bare "https://…" text into links (the Chinese editions' reference lists).
    """

    __slots__ = ("base", "linkify", "_blocks", "_spans", "_kind", "_number", "_images", "_links", "_sources",
                 "_has_plain_text")

    def __init__(self, base: str = "", *, linkify: bool = True) -> None:
        self.base = base
        self.linkify = linkify
        self._blocks: list[Block] = []
        self._spans: list[tuple[str, Fmt]] = []  # the block being read; emptied (not replaced) by `_flush`
        self._kind: BlockKind = "paragraph"
        self._number: int | None = None
        self._images: list[str] = []
        self._links: list[str] = []
        self._sources: list[str] = []
        self._has_plain_text = False

    # ------------------------------------------------------------------ public
    def add(self, node: Any) -> RichTextBuilder:
        tag = node.tag
        if tag == "-text":
            self._text(node.text_content or "", _PLAIN)
        else:
            self._element(node, tag, _PLAIN, 0)
        return self

    def fragment(self) -> Fragment:
        self._flush()
        source_only = bool(self._sources) and not self._has_plain_text
        blocks = [] if source_only else self._blocks
        return Fragment(blocks=blocks,
                        images=_dedupe(self._images) if self._images else self._images,
                        links=_dedupe(self._links) if self._links else self._links,
                        sources=_dedupe(self._sources) if self._sources else self._sources,
                        source_only=source_only)

    # ------------------------------------------------------------------ walk
    def _walk(self, node: Any, fmt: Fmt, depth: int) -> None:
        if depth > MAX_DEPTH:
            # Pathological nesting: keep the words, not the structure (and never recurse further).
            self._text(node.text(deep=True) or "", fmt)
            return
        depth += 1
        child = node.first_child
        while child is not None:
            tag = child.tag
            if tag == "-text":
                raw = child.text_content
                if raw:
                    self._text(raw, fmt)
            elif tag != "-comment":
                self._element(child, tag, fmt, depth)
            child = child.next

    def _element(self, node: Any, tag: str, fmt: Fmt, depth: int) -> None:
        role = _ROLE.get(tag)
        if role is None:  # unknown or inline element (span, sup, u, mark, custom tags…): its text only
            if not tag.startswith("-"):
                self._walk(node, fmt, depth)
        elif role == _R_BLOCK:
            self._flush()
            self._walk(node, fmt, depth)
            self._flush()
        elif role == _R_LINK:
            self._anchor(node, fmt, depth)
        elif role == _R_BOLD:
            self._walk(node, (True, fmt[1], fmt[2], fmt[3]), depth)
        elif role == _R_ITALIC:
            self._walk(node, (fmt[0], True, fmt[2], fmt[3]), depth)
        elif role == _R_BR:
            self._spans.append(("\n", fmt))
        elif role == _R_HEADING:
            self._flush()
            self._walk(node, (True, fmt[1], fmt[2], fmt[3]), depth)
            self._flush()
        elif role == _R_CODE:
            self._walk(node, (fmt[0], fmt[1], True, fmt[3]), depth)
        elif role == _R_IMG:
            src = safe_url(node.attributes.get("src"), self.base)
            if src:
                self._images.append(src)
        elif role == _R_LIST:
            self._list(node, tag, fmt, depth)
        elif role == _R_QUOTE:
            self._nested_block(node, "quote", fmt, depth)
        elif role == _R_PRE:
            self._pre(node)
        elif role == _R_HR:
            self._flush()
        elif role == _R_CELL:
            self._walk(node, fmt, depth)
            self._spans.append((" | ", _PLAIN))
        # _R_DROP: nothing

    def _anchor(self, node: Any, fmt: Fmt, depth: int) -> None:
        bold, italic, code, href = fmt
        url = safe_url(node.attributes.get("href"), self.base, allow_mailto=True)
        if url is None or href is not None:
            self._walk(node, fmt, depth)
            return
        web = url.startswith(("http://", "https://"))
        if web:
            self._links.append(url)
        start = len(self._spans)
        plain_before = self._has_plain_text
        self._walk(node, (bold, italic, code, url), depth)
        text = "".join([t for t, _ in self._spans[start:]])
        if is_source_text(text):
            if web:
                self._sources.append(url)
            self._has_plain_text = plain_before  # the word "source" is not reading matter

    def _list(self, node: Any, tag: str, fmt: Fmt, depth: int) -> None:
        self._flush()
        saved = (self._kind, self._number)
        ordered = tag == "ol"
        number = 0
        if ordered:
            try:
                number = int(node.attributes.get("start") or 1) - 1
            except (TypeError, ValueError):
                number = 0
        child = node.first_child
        while child is not None:
            ctag = child.tag
            if ctag in _LIST_ENTRIES:
                number += 1
                self._kind = "ordered" if ordered else "bullet"
                self._number = number if ordered else None
                self._walk(child, fmt, depth + 1)
                self._flush()
            elif ctag == "-text":
                self._text(child.text_content or "", fmt)
            elif ctag != "-comment":
                self._element(child, ctag, fmt, depth + 1)
            child = child.next
        self._flush()
        self._kind, self._number = saved

    def _nested_block(self, node: Any, kind: BlockKind, fmt: Fmt, depth: int) -> None:
        self._flush()
        saved = (self._kind, self._number)
        self._kind, self._number = kind, None
        self._walk(node, fmt, depth)
        self._flush()
        self._kind, self._number = saved

    def _pre(self, node: Any) -> None:
        self._flush()
        text = (node.text(deep=True) or "").strip("\n")
        if text.strip():
            self._blocks.append(Block("code", (Span(text, False, False, True),)))
            self._has_plain_text = True

    def _text(self, raw: str, fmt: Fmt) -> None:
        """Append a text run, its whitespace collapsed (runs are joined and trimmed in `_flush`)."""
        words = raw.split()  # str.split() is several times faster than a regex on long text
        if not words:
            if self._spans:
                self._spans.append((" ", fmt))
            return
        text = " ".join(words)
        if raw[0].isspace():
            text = " " + text
        if raw[-1].isspace():
            text += " "
        if not self._has_plain_text and _WORDISH.search(text):
            self._has_plain_text = True
        if "://" in text and fmt[3] is None and self.linkify:
            self._linkified(text, fmt)
        else:
            self._spans.append((text, fmt))

    def _linkified(self, text: str, fmt: Fmt) -> None:
        pos = 0
        for match in _BARE_URL.finditer(text):
            url = match.group(0).rstrip(_URL_TRAIL)
            end = match.start() + len(url)
            safe = safe_url(url, allow_mailto=True)
            if not safe:
                continue
            if match.start() > pos:
                self._spans.append((text[pos:match.start()], fmt))
            self._spans.append((url, (fmt[0], fmt[1], fmt[2], safe)))
            self._links.append(safe)
            pos = end
        if pos < len(text):
            self._spans.append((text[pos:], fmt))

    # ------------------------------------------------------------------ blocks
    def _flush(self) -> None:
        raw = self._spans
        if not raw:
            return
        spans = _normalise(raw)
        raw.clear()
        if spans:
            self._blocks.append(Block(self._kind, spans, self._number))


def _normalise(raw: list[tuple[str, Fmt]]) -> tuple[Span, ...]:
    """Merge same-format runs, collapse whitespace across run boundaries, trim the ends."""
    if len(raw) == 1:  # the usual list entry or title: one run
        text, fmt = raw[0]
        text = text.strip()
        if not text:
            return ()
        if "\n" not in text and "  " not in text:
            return (Span(text, *fmt),)
        return _spans(*_collapse([text], [fmt]))
    texts: list[str] = []
    fmts: list[Fmt] = []
    last: Fmt | None = None
    for text, fmt in raw:
        if fmt == last:
            texts[-1] += text
        else:
            texts.append(text)
            fmts.append(fmt)
            last = fmt
    # Trim the block's ends (the feed's "<br />" lead-ins, trailing spaces).
    while texts and not texts[0].strip():
        del texts[0], fmts[0]
    while texts and not texts[-1].strip():
        del texts[-1], fmts[-1]
    if not texts:
        return ()
    texts[0] = texts[0].lstrip()
    texts[-1] = texts[-1].rstrip()
    joined = "".join(texts)
    if "\n" in joined or "  " in joined:
        texts, fmts = _collapse(texts, fmts)
    return _spans(texts, fmts)


def _spans(texts: list[str], fmts: list[Fmt]) -> tuple[Span, ...]:
    return tuple([Span(t, *f) for t, f in zip(texts, fmts, strict=True) if t])


def _collapse(texts: list[str], fmts: list[Fmt]) -> tuple[list[str], list[Fmt]]:
    """The slow path: spaces around line breaks and doubled spaces across run boundaries."""
    out_t: list[str] = []
    out_f: list[Fmt] = []
    prev_end = "\n"
    for text, fmt in zip(texts, fmts, strict=True):
        if "\n" in text:
            text = _NL.sub("\n", text)
        if prev_end == " ":
            text = text.lstrip(" ")
            if text.startswith("\n") and out_t:
                out_t[-1] = out_t[-1].rstrip(" ")
        elif prev_end == "\n":
            text = text.lstrip(" \n")
        if not text:
            continue
        if out_f and out_f[-1] == fmt:
            out_t[-1] += text
        else:
            out_t.append(text)
            out_f.append(fmt)
        prev_end = text[-1] if text[-1] in " \n" else "x"
    return out_t, out_f


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def blocks_to_html(blocks: tuple[Block, ...] | list[Block]) -> str:
    """Minimal, safe HTML for blocks (escaped text, b/i/code/a only), as `section_html` builds it."""
    parts: list[str] = []
    for block in blocks:
        inner = "".join([_span_html(span) for span in block.spans])
        kind = block.kind
        if kind == "paragraph":
            parts.append(f"<p>{inner}</p>")
        elif kind == "bullet":
            parts.append(f"<li>{inner}</li>")
        elif kind == "ordered":
            parts.append(f'<li value="{block.number or 1}">{inner}</li>')
        elif kind == "quote":
            parts.append(f"<blockquote>{inner}</blockquote>")
        elif kind == "code":
            parts.append(f"<pre>{inner}</pre>")
        else:
            parts.append(f"<p>{inner}</p>")
    return "\n".join(parts)


def section_html(heading: str, items: Sequence[Item]) -> str:
    """Sanitised HTML of a section rebuilt from its items (for debugging and export)."""
    parts = [f"<h2>{escape_text(heading)}</h2>"]
    for item in items:
        if item.title:
            parts.append(f"<h3>{escape_text(item.title)}</h3>")
        if item.body:
            parts.append(blocks_to_html(item.body))
        if item.images:
            parts.extend([f'<img src="{html_lib.escape(src, quote=True)}">' for src in item.images])
    return "\n".join(parts)


def _span_html(span: Span) -> str:
    return span_html(span.text, span, href=span.href, line_break="<br>")
