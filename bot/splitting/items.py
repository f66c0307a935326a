"""A section's nodes → its items, read by a small state machine.

What makes an item, in the shapes newsletters use:
- a wholly bold paragraph (`<p><strong><em>Title</em></strong></p>`), or one whose bold
  first line is followed by a line break and the body, opens a *titled* item; everything
  after it (paragraphs, images, lists of links) is its body until the next title;
- a sub-heading inside the section (`<h3>`–`<h6>`, or `<h4>1.1 …</h4>`) opens a *headed*
  item: what follows is its body, except a list of links right under it: then the heading
  only groups the list's items and yields no item of its own;
- a list of links outside a titled item gives one item per entry: an entry that starts
  with a link (optionally after tags like "[video]") is titled by the link text, its other
  text and nested lists are the item text; other entries are untitled items;
- a plain paragraph outside a titled item is an untitled item ("Mentions" sections), and
  images, a lone "[source]" link or a blockquote (the quoted summary of the proposal or post
  it links to) right after it belong to it; images seen before any item wait for the next
  one, a blockquote that opens a section is an item of its own.

The states (`_State`) are exactly the four situations a node can meet; `ItemReader._feed`
turns each node into one event and each event method says what it does in each state.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum, auto
from typing import Any

from bot.core.models import Block, Item, Span
from bot.splitting.richtext import Fragment, RichTextBuilder

__all__ = ["ItemReader", "clean_title", "fragment_text", "is_bold_title", "leading_strong", "render"]

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
LISTS = frozenset({"ul", "ol"})
_WS = re.compile(r"\s+")
_ITEM_NUMBERING = re.compile(r"^\s*\d{1,3}(?:\.\d{1,3})+\.?\s*")
_TAGS_ONLY = re.compile(r"^\s*(?:[\[(][^\]\[()]{1,24}[\])]\s*)*$")
_INLINE_WRAPPERS = frozenset({"p", "strong", "b", "em", "i", "span"})
_SPACES = re.compile(r" {2,}")
_LEAD_SEPARATORS = " \t\n:：-–—|·,"
MAX_TITLE = 300


# --------------------------------------------------------------------------- node helpers
def render(base: str, nodes: Iterable[Any]) -> Fragment:
    """Sanitised blocks, images and links of DOM nodes."""
    builder = RichTextBuilder(base)
    for node in nodes:
        builder.add(node)
    return builder.fragment()


def fragment_text(fragment: Fragment) -> str:
    return " ".join(block.text for block in fragment.blocks)


def clean_title(text: str) -> str:
    """"1.5用图网络模拟复杂物理" → "用图网络模拟复杂物理"; "Why BLEU?***" → "Why BLEU?"."""
    text = _WS.sub(" ", text).strip()
    stripped = _ITEM_NUMBERING.sub("", text, count=1)
    if stripped:
        text = stripped
    return text.strip(" *_").strip()


def leading_strong(node: Any) -> Any | None:
    """The `<strong>` (or `<b>`) a paragraph opens with, after `<br />`, comments and blank text."""
    child = node.first_child
    while child is not None:
        tag = child.tag
        if tag == "-text":
            if (child.text_content or "").strip():
                return None
        elif tag != "br" and tag != "-comment":
            return child if tag == "strong" or tag == "b" else None
        child = child.next
    return None


def is_bold_title(fragment: Fragment) -> bool:
    """One paragraph whose every visible character is bold, short enough to be a title."""
    if len(fragment.blocks) != 1 or fragment.source_only:
        return False
    block = fragment.blocks[0]
    if block.kind != "paragraph":
        return False
    visible = False
    for span in block.spans:
        if span.text.strip(" \n*_:"):
            if not span.bold:
                return False
            visible = True
    return visible and sum(len(span.text) for span in block.spans) <= MAX_TITLE


def _siblings_after(node: Any) -> list[Any]:
    """The nodes after `node` in its parent, comments left out."""
    rest: list[Any] = []
    sibling = node.next
    while sibling is not None:
        if sibling.tag != "-comment":
            rest.append(sibling)
        sibling = sibling.next
    return rest


def _children(node: Any) -> Iterable[Any]:
    child = node.first_child
    while child is not None:
        yield child
        child = child.next


def _leading_link(entry: Any) -> list[Any] | None:
    """Path from a list entry down to the link it starts with ([wrapper…, <a>]), else None.

    Tags such as "[video]" or "(PDF)" may come first; inline wrappers (`<p>`, `<strong>`)
    are looked into. Anything else first (a date, a sentence) means it does not start with a link.
    """
    path: list[Any] = []
    node = entry
    while True:
        for child in _children(node):
            tag = child.tag
            if tag == "-comment" or (tag == "-text" and _TAGS_ONLY.match(child.text_content or "")):
                continue
            if tag == "a" and (child.attributes.get("href") or "").strip():
                return [*path, child]
            if tag in _INLINE_WRAPPERS:
                path.append(child)
                node = child
                break
            return None
        else:
            return None


def _entries(list_node: Any) -> list[Any]:
    return [child for child in _children(list_node) if child.tag == "li"]


def _nested_links(entry: Any) -> list[Any]:
    """Entries of the entry's own sub-lists that start with a link (an event line's talks)."""
    return [sub for child in _children(entry) if child.tag in LISTS
            for sub in _entries(child) if _leading_link(sub) is not None]


def _is_linked(entry: Any) -> bool:
    return _leading_link(entry) is not None or bool(_nested_links(entry))


def _is_link_list(list_node: Any) -> bool:
    """Some entry starts with (or holds a sub-list of) links: a list of things to read, each one an item."""
    entries = _entries(list_node)
    return any(_is_linked(e) for e in entries)


def _without_lead(blocks: list[Block]) -> list[Block]:
    """Drop the separator left at the start once the title link is taken out (" — a crate for …")."""
    if not blocks or not blocks[0].spans:
        return blocks
    first = blocks[0]
    spans = list(first.spans)
    while spans and not spans[0].text.strip(_LEAD_SEPARATORS):
        spans.pop(0)
    if not spans:
        return blocks[1:]
    head = spans[0]
    spans[0] = Span(head.text.lstrip(_LEAD_SEPARATORS), head.bold, head.italic, head.code, head.href)
    for index, span in enumerate(spans):  # "[video] " + " — a guide": the link's place leaves two spaces
        text = span.text if span.code else _SPACES.sub(" ", span.text)
        if index and spans[index - 1].text.endswith(" "):
            text = text.lstrip(" ")
        spans[index] = Span(text, span.bold, span.italic, span.code, span.href)
    return [Block(first.kind, tuple(s for s in spans if s.text), first.number), *blocks[1:]]


_ATTRIBUTION_DASHES = ("–", "—", "―", "-", "~")


def _is_attribution(draft: _Draft) -> bool:
    """"– Tim McNamara": a line that closes the quote before it; the quote after it is another one."""
    return bool(draft.blocks) and draft.blocks[0].text.lstrip().startswith(_ATTRIBUTION_DASHES)


# --------------------------------------------------------------------------- drafts
@dataclass
class _Draft:
    title: str
    blocks: list[Block] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def take(self, fragment: Fragment | _Draft) -> None:
        self.blocks.extend(fragment.blocks)
        self.images.extend(fragment.images)
        self.links.extend(fragment.links)
        self.sources.extend(fragment.sources)

    def take_media(self, fragment: Fragment) -> None:
        self.images.extend(fragment.images)
        self.links.extend(fragment.links)

    def has_content(self) -> bool:
        return bool(self.blocks or self.images or self.links)

    def item(self) -> Item | None:
        if not (self.title or self.blocks or self.images or self.links):
            return None
        return Item(title=self.title, body=tuple(self.blocks), images=tuple(dict.fromkeys(self.images)),
                    links=tuple(dict.fromkeys(self.links)), sources=tuple(dict.fromkeys(self.sources)))


class _State(Enum):
    WAITING = auto()  # nothing open: images and lone sources wait in `pending` for the next item
    TITLED = auto()  # a bold title opened an item: everything joins it until the next title
    HEADED = auto()  # a sub-heading opened an item: text joins it; a list of links right under it is items
    PARAGRAPH = auto()  # an untitled paragraph is open: images and sources after it are its own


class ItemReader:
    """Reads one section's nodes into items; one reader per section."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.items: list[Item] = []
        self.state = _State.WAITING
        self.open: _Draft | None = None
        self.pending = _Draft("")

    def read(self, nodes: Iterable[Any]) -> list[Item]:
        for node in nodes:
            self._feed(node)
        self._close()
        return self.items

    # ------------------------------------------------------------------ node → event
    def _feed(self, node: Any) -> None:
        tag = node.tag
        if tag == "-text" and not (node.text_content or "").strip():
            return
        if tag in HEADINGS:
            self._heading(node)
        elif tag == "p" and self._title_and_body(node):
            return
        elif tag in LISTS and self.state is not _State.TITLED:
            self._list(node)
        else:
            self._rendered(tag, render(self.base, [node]))

    def _heading(self, node: Any) -> None:
        """A heading with text opens a headed item."""
        fragment = render(self.base, [node])
        title = clean_title(fragment_text(fragment))
        if title:
            self._title(title, _State.HEADED, media=fragment)

    def _title_and_body(self, node: Any) -> bool:
        """A paragraph that is a title line and its body opens a titled item; False for any other."""
        split = self._title_with_body(node)
        if split is None:
            return False
        self._title(split[0], _State.TITLED)
        self._block(split[1])
        return True

    def _rendered(self, tag: str, fragment: Fragment) -> None:
        """Any other node, rendered: a quote under a linked paragraph, a bold title, text, or media."""
        if tag == "blockquote" and self.state is _State.PARAGRAPH and self.open is not None and fragment.blocks \
                and not _is_attribution(self.open):
            self.open.take(fragment)  # the quoted summary of what the paragraph links to is its text
            return
        if tag == "p" and is_bold_title(fragment):
            title = clean_title(fragment_text(fragment))
            if title:
                self._title(title, _State.TITLED, media=fragment)
                return
        if fragment.blocks:
            self._block(fragment)
        elif fragment.images or fragment.links:
            self._media(fragment)
        # else an empty paragraph ("<p><br /></p>")

    # ------------------------------------------------------------------ events
    def _title(self, title: str, state: _State, media: Fragment | None = None) -> None:
        """A title opens an item, whatever is open (the media already seen comes along)."""
        self._close()
        draft = _Draft(title)
        draft.take(self.pending)
        self.pending = _Draft("")
        if media is not None:
            draft.take_media(media)
        self.open, self.state = draft, state

    def _block(self, fragment: Fragment) -> None:
        """Text joins a titled or headed item; otherwise it is an untitled item of its own."""
        if self.open is not None and self.state in (_State.TITLED, _State.HEADED):
            self.open.take(fragment)
            return
        self._close()
        draft = _Draft("")
        draft.take(self.pending)
        self.pending = _Draft("")
        draft.take(fragment)
        self.open, self.state = draft, _State.PARAGRAPH

    def _media(self, fragment: Fragment) -> None:
        """Images or a lone "[source]": the open item's, else the next item's."""
        (self.open if self.open is not None else self.pending).take(fragment)

    def _list(self, node: Any) -> None:
        """A list outside a titled item: one item per entry (under a bare sub-heading, only a list of links)."""
        if self.state is _State.HEADED and self.open is not None:
            if self.open.blocks or not _is_link_list(node):
                self._block(render(self.base, [node]))
                return
            if not self.open.has_content():
                self.open, self.state = None, _State.WAITING  # the heading only groups the links
        self._close()
        for entry in _entries(node):
            for draft in self._entry(entry):
                lead, self.pending = self.pending, _Draft("")  # media seen before the list comes first
                lead.title = draft.title
                lead.take(draft)
                self._emit(lead)

    def _close(self) -> None:
        if self.open is not None:
            self._emit(self.open)
        self.open, self.state = None, _State.WAITING

    def _emit(self, draft: _Draft) -> None:
        item = draft.item()
        if item is not None:
            self.items.append(item)

    # ------------------------------------------------------------------ readers
    def _entry(self, entry: Any) -> list[_Draft]:
        """One list entry's items: titled by the link it starts with; else one per link of its
        sub-list ("2026-01-21 | Virtual | Rust Girona" over the talk's link), its own text as
        their text; else one untitled item."""
        path = _leading_link(entry)
        if path is not None:
            draft = self._linked(entry, path)
            return [draft] if draft.title or draft.has_content() else []
        nested = _nested_links(entry)
        if nested:
            context = render(self.base, [c for c in _children(entry) if c.tag not in LISTS and c.tag != "-comment"])
            drafts = []
            for sub in nested:
                draft = self._linked(sub, _leading_link(sub) or [])
                draft.blocks[:0] = context.blocks
                drafts.append(draft)
            return drafts
        fragment = render(self.base, [entry])
        if not (fragment.blocks or fragment.images):
            return []
        draft = _Draft("")
        draft.take(fragment)
        return [draft]

    def _linked(self, entry: Any, path: list[Any]) -> _Draft:
        """An entry titled by the link at the end of `path`; the rest of it is the text."""
        head = render(self.base, [path[-1]])
        builder = RichTextBuilder(self.base)
        _add_except(builder, entry, path, 0)
        draft = _Draft(_WS.sub(" ", fragment_text(head)).strip())  # a link's text as written ("cargo report *")
        draft.links.extend(head.links)
        draft.sources.extend(head.sources)
        draft.take(builder.fragment())
        draft.blocks = _without_lead(draft.blocks)
        return draft

    def _title_with_body(self, node: Any) -> tuple[str, Fragment] | None:
        """"<p><strong><em>Title</em></strong>\\nBody…</p>": a title line and its body in one paragraph."""
        strong = leading_strong(node)
        if strong is None:
            return None
        # The cheap tests first: most paragraphs that open with a <strong> are titles alone.
        rest = _siblings_after(strong)
        if not rest:
            return None
        first = rest[0]
        line_break = first.tag == "br" or (
            first.tag == "-text" and (first.text_content or "").lstrip(" \t").startswith(("\n", "\r")))
        if not line_break:
            return None
        title = clean_title(strong.text(deep=True) or "")
        if not title or len(title) > MAX_TITLE:
            return None
        body = render(self.base, rest)
        if not body.blocks:
            return None
        extra = render(self.base, [strong])
        body.links[:0] = extra.links
        return title, body


def _add_except(builder: RichTextBuilder, node: Any, path: list[Any], depth: int) -> None:
    """Add `node`'s children to `builder`, leaving out the link at the end of `path`."""
    for child in _children(node):
        if depth < len(path) and child == path[depth]:
            if depth < len(path) - 1:
                _add_except(builder, child, path, depth + 1)
            continue
        if child.tag != "-comment":
            builder.add(child)
