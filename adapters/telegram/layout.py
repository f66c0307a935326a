"""Cutting long text into Telegram-sized messages at the best place, never inside a link or word.

A body is laid out as a `Flow`: unbreakable fragments (a word, a link, a bold title) and,
between them, ranked break points (item > paragraph > sentence > word > character). A
message ends at the strongest break point that fits, so a section is split between items
when it can be, else between paragraphs, else between sentences. The character level is
only reached by a "word" longer than a whole message (unspaced scripts, garbage input).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import assert_never

from adapters.telegram.markup import Fragment, escape, is_joiner, span_html
from adapters.text import utf16_len
from bot.core.models import Block, Span

__all__ = ["BLOCK", "CHAR", "ITEM", "SENTENCE", "WORD", "Flow", "compose", "pack"]

ITEM, BLOCK, SENTENCE, WORD, CHAR = 5, 4, 3, 2, 1
_SEPARATOR = {ITEM: "\n\n", BLOCK: "\n", SENTENCE: " ", WORD: " ", CHAR: ""}
_SENTENCE_END = re.compile(r"[.!?…。！？](?:[\"'”’»)\]]*)$")
_UNSPACED_STOP = re.compile(r"(?<=[。！？；])")
_SPACE = re.compile(r"\s+")
MAX_GLUED = 600  # a formatted span longer than this may be cut between its words
_NUMBER_RESERVE = utf16_len(" (99/99)")


@dataclass(slots=True)
class Flow:
    """A message body: fragments and the break point (strength, separator) before each one."""

    fragments: list[Fragment] = field(default_factory=list)
    breaks: list[tuple[int, str]] = field(default_factory=list)

    def add(self, fragment: Fragment, strength: int, separator: str | None = None) -> None:
        """Append a fragment; the break before it is ignored for the first fragment."""
        if fragment.size == 0 and not fragment.text:
            return
        self.fragments.append(fragment)
        self.breaks.append((strength, _SEPARATOR[strength] if separator is None else separator))

    def __bool__(self) -> bool:
        return bool(self.fragments)

    def add_spans(self, spans: Sequence[Span], strength: int, *, prefix: str = "",
                  max_size: int = 3800, separator: str | None = None) -> None:
        """Add inline text as words; the first word gets `strength`, the others word/sentence breaks."""
        words = _words(spans)
        if prefix and words:
            words[0] = ([(prefix, Span(prefix))] + words[0][0], words[0][1])
        first = True
        previous = ""
        first_separator = separator
        for pieces, gap in words:
            fragment = _fragment(pieces)
            if first:
                level = strength
            elif gap == "":
                level = SENTENCE
            else:
                level = SENTENCE if _SENTENCE_END.search(previous) else WORD
            for index, chunk in enumerate(_cut(pieces, fragment, max_size)):
                if index == 0:
                    self.add(chunk, level, first_separator if first else (None if gap else ""))
                else:
                    self.add(chunk, CHAR)
            previous = fragment.text
            first = False

    def add_block(self, block: Block, strength: int, *, max_size: int = 3800, separator: str | None = None) -> None:
        """Add one paragraph-level block, with a bullet, number or quote mark as its kind says."""
        match block.kind:
            case "code":
                self._add_code(block, strength, max_size, separator)
                return
            case "bullet":
                prefix = "• "
            case "quote":
                prefix = "▎"
            case "ordered":
                prefix = f"{block.number or 1}. "
            case "paragraph":
                prefix = ""
            case _:
                assert_never(block.kind)
        self.add_spans(block.spans, strength, prefix=prefix, max_size=max_size, separator=separator)

    def _add_code(self, block: Block, strength: int, max_size: int, separator: str | None) -> None:
        text = block.text.strip("\n")
        if not text.strip():
            return
        if utf16_len(text) <= min(MAX_GLUED, max_size):
            self.add(Fragment.raw(f"<pre>{escape(text)}</pre>", text), strength, separator)
            return
        first = True
        for line in (line for line in text.split("\n") if line.strip()):
            for word_index, (pieces, _) in enumerate(_words((Span(line, code=True),))):
                fragment = _fragment(pieces)
                for chunk_index, chunk in enumerate(_cut(pieces, fragment, max_size)):
                    if chunk_index:
                        level = CHAR
                    elif first:
                        level = strength
                    else:
                        level = BLOCK if word_index == 0 else WORD
                    self.add(chunk, level, separator if first else None)
                    first = False


def _styled(span: Span) -> bool:
    return bool(span.bold or span.italic or span.code or span.href)


def _words(spans: Iterable[Span]) -> list[tuple[list[tuple[str, Span]], str]]:
    """Split inline text into words (lists of styled pieces) with the separator before each.

    Formatted spans are glued (no break inside a link or a bold title) unless they are
    longer than `MAX_GLUED`; plain text breaks at whitespace and after CJK full stops.
    """
    words: list[tuple[list[tuple[str, Span]], str]] = []
    current: list[tuple[str, Span]] = []
    pending = " "

    def close(next_separator: str) -> None:
        nonlocal current, pending
        if current:
            words.append((current, pending))
            current = []
            pending = next_separator
        elif next_separator == " ":
            pending = " "

    for span in spans:
        text = _SPACE.sub(" ", span.text)
        if not text:
            continue
        core = text.strip(" ")
        if _styled(span) and core and utf16_len(core) <= MAX_GLUED:
            if text.startswith(" "):
                close(" ")
            current.append((core, span))
            if text.endswith(" "):
                close(" ")
            continue
        for part in re.split(r"( )", text):
            if part == " ":
                close(" ")
            elif part:
                chunks = [c for c in _UNSPACED_STOP.split(part) if c]
                for index, chunk in enumerate(chunks):
                    if index:
                        close("")
                    current.append((chunk, span))
    close(" ")
    return words


def _fragment(pieces: Sequence[tuple[str, Span]]) -> Fragment:
    if len(pieces) == 1:
        text, span = pieces[0]
        return Fragment.styled(text, span) if _styled(span) else Fragment.plain(text)
    html = "".join(span_html(text, span) if _styled(span) else escape(text) for text, span in pieces)
    text = "".join(text for text, _ in pieces)
    return Fragment(html, utf16_len(text), text)


def _cut(pieces: Sequence[tuple[str, Span]], fragment: Fragment, max_size: int) -> list[Fragment]:
    """A word longer than a message, cut between characters (never inside a grapheme)."""
    if fragment.size <= max_size:
        return [fragment]
    chunks: list[Fragment] = []
    current: list[tuple[str, Span]] = []
    size = 0
    for text, span in pieces:
        buffer = ""
        for char in text:
            width = utf16_len(char)
            if size + width > max_size and (buffer or current) and not is_joiner(char):
                if buffer:
                    current.append((buffer, span))
                    buffer = ""
                chunks.append(_fragment(current))
                current, size = [], 0
            buffer += char
            size += width
        if buffer:
            current.append((buffer, span))
    if current:
        chunks.append(_fragment(current))
    return chunks


def _ranges(flow: Flow, budget: int, start: int = 0) -> list[tuple[int, int]]:
    """(first, last) fragment of each message from `start`, each ending at the strongest break that fits."""
    fragments, breaks = flow.fragments, flow.breaks
    ranges: list[tuple[int, int]] = []
    count = len(fragments)
    while start < count:
        size = fragments[start].size
        end = start  # last fragment included
        while end + 1 < count:
            grow = utf16_len(breaks[end + 1][1]) + fragments[end + 1].size
            if size + grow > budget:
                break
            size += grow
            end += 1
        if end + 1 < count:
            end = max(range(start + 1, end + 2), key=lambda k: (breaks[k][0], k)) - 1
        ranges.append((start, end))
        start = end + 1
    return ranges


def _size(flow: Flow, first: int, last: int) -> int:
    return sum(f.size for f in flow.fragments[first:last + 1]) + sum(
        utf16_len(flow.breaks[k][1]) for k in range(first + 1, last + 1))


def _balanced(flow: Flow, budget: int, start: int) -> list[tuple[int, int]]:
    """As few messages as `budget` allows, of similar length: the smallest budget that needs no more of them.

    Messages still end at the strongest break in reach (item, paragraph, sentence), so a
    4.4k section becomes two halves rather than 3.9k + 0.5k.
    """
    ranges = _ranges(flow, budget, start)
    if len(ranges) < 2:
        return ranges
    total = _size(flow, start, len(flow.fragments) - 1)
    low, high = -(-total // len(ranges)), budget
    while low < high:
        middle = (low + high) // 2
        if len(_ranges(flow, middle, start)) <= len(ranges):
            high = middle
        else:
            low = middle + 1
    return _ranges(flow, low, start)


def _joined(flow: Flow, first: int, last: int) -> Fragment:
    fragments, breaks = flow.fragments, flow.breaks
    html_parts = [fragments[first].html]
    text_parts = [fragments[first].text]
    for k in range(first + 1, last + 1):
        separator = breaks[k][1]
        html_parts += (separator, fragments[k].html)
        text_parts += (separator, fragments[k].text)
    text = "".join(text_parts)
    return Fragment("".join(html_parts), utf16_len(text), text)


def pack(flow: Flow, budget: int, *, balanced: bool = True) -> list[Fragment]:
    """Fill messages of at most `budget` units, each ending at the strongest break that fits.

    `balanced` evens out the messages' lengths.
    """
    ranges = _balanced(flow, budget, 0) if balanced else _ranges(flow, budget, 0)
    return [_joined(flow, first, last) for first, last in ranges]


def compose(title: Fragment, flow: Flow, *, subtitle: Fragment | None = None,
            limit: int = 4096) -> list[Fragment]:
    """Whole messages: a title line (numbered "(1/3)" when there are several), a subtitle, the body.

    The body budget keeps room for the numbering, so adding it can never push a message
    over `limit`. Messages are
    balanced: a section needing two is cut near its middle, at the best break there.
    """
    head = title if subtitle is None else title + Fragment.plain("\n") + subtitle
    budget = limit - head.size - 2 - _NUMBER_RESERVE
    if budget < 200:
        raise ValueError("title too long for a message")
    bodies = pack(flow, budget) if flow else []
    if not bodies:
        return [head]
    total = len(bodies)
    messages: list[Fragment] = []
    for number, body in enumerate(bodies, start=1):
        line = title if total == 1 else title + Fragment.plain(f" ({number}/{total})")
        if subtitle is not None:
            line = line + Fragment.plain("\n") + subtitle
        messages.append(line + Fragment.plain("\n\n") + body)
    return messages
