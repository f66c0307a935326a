"""Feed entry → Issue → Sections: the only reader of a newsletter's HTML structure.

Newsletters share a shape whatever their renderer: an introduction, then sections under
headings of one level (`<h1>` in dair.ai's newsletter, `<h2>` in This Week in Rust
and most Markdown-built newsletters), sub-headings and bold titles inside them for
stories, lists of links, and around that a table of contents, a footer after a trailing
`<hr />` and the feed template's "was originally published by" line, none of which is content.

Section rules (tested in tests/bot/splitting/test_shapes.py and tests/bot/splitting/test_rules.py):
- the section level is the smallest heading level used at least twice at top level (else
  the only one used); a heading at that level or above is a section;
- a deeper heading is a section only when it is a peer of the section headings: it comes
  right after the horizontal rule that closed the last section (the only one to), it continues the section
  headings' numbering ("# 1、…", "## 2、…", "# 3、…"), or it names another known section
  where they name known sections; otherwise it titles or groups items;
- a wholly bold paragraph is a section only when it names a known section (`references`,
  or a name whose emoji agrees with it), is not repeated in the issue (a label inside
  every story is a label), and the section it would close has no bold item titles of its
  own (there it is one more item title);
- a first heading that repeats the entry's title or the newsletter's name is the issue's title;
- headings repeated in one issue get `_2`, `_3` keys; the others keep the same key in
  every issue of a newsletter (`jobs`);
- a section's HTML (`richtext.section_html`) is regenerated from its items, never feed HTML.
Items are read by `bot.splitting.items`; which entries are issues is `bot.splitting.detect`'s call; which issue an
unnumbered edition belongs to is `bot.splitting.edition`'s.

The splitter never raises: whatever the HTML, the worst case is an Issue with no
sections (logged).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser

from bot.core.language import infer_language, infer_number
from bot.core.models import Issue, Item, RawEntry, Section, blocks_text
from bot.settings.config import NewsletterConfig
from bot.splitting.detect import entry_reason
from bot.splitting.edition import assign_numbers
from bot.splitting.items import HEADINGS, LISTS, ItemReader, is_bold_title, leading_strong, render
from bot.splitting.sections import SectionAliases, normalize, split_heading

__all__ = ["assign_numbers", "split_entry"]

log = logging.getLogger(__name__)

_HEADING_LEVEL = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_CONTAINERS = frozenset({"div", "section", "article", "main", "header", "footer", "center"})
# E-mail newsletters lay their issues out in tables; a table whose cells hold blocks is opened up too.
_LAYOUT = frozenset({"table", "thead", "tbody", "tfoot", "tr", "td", "th"})
_LAYOUT_CONTENT = "h1, h2, h3, h4, h5, h6, p, ul, ol, blockquote"
_BLOCKISH = frozenset({*HEADINGS, "p", "ul", "ol", "hr", "blockquote", "pre", "table", "figure", *_CONTAINERS})
_WS = re.compile(r"\s+")
_PUBLISHED_BY = re.compile(r"(?i)was originally published by")
# "1、", "2.", "3)", "4:" before a section name, but not "1.1" (an item's number).
_SECTION_NUMBER = re.compile(r"^\s*#?\s*(\d{1,2})\s*[、.)）:：](?!\d)")
_MAX_PSEUDO_HEADING = 60
_MAX_FOOTER_NODES = 5
_PSEUDO_KEYS = frozenset({"references"})
_TEXT_SAMPLE = 2500

_default_aliases: SectionAliases | None = None


def _aliases(aliases: SectionAliases | None) -> SectionAliases:
    global _default_aliases
    if aliases is not None:
        return aliases
    if _default_aliases is None:
        _default_aliases = SectionAliases()
    return _default_aliases


# --------------------------------------------------------------------------- public API
def split_entry(entry: RawEntry, *, aliases: SectionAliases | None = None,
                newsletter: NewsletterConfig | None = None) -> Issue:
    """Split one feed entry into an Issue (an edition) of sections and items.

    Args:
        entry: the feed entry, its HTML untouched.
        aliases: heading → canonical key table (config extras included).
        newsletter: `[newsletter]`: the name to label issues with, how to tell an issue.

    Returns:
        Always an Issue, labelled with `[newsletter] name`, else the feed's title. Its
        `is_newsletter` is the verdict on this entry alone (`bot.splitting.detect.entry_reason`);
        `bot.splitting.detect.classify_feed` decides with the whole feed in view.
    """
    config = newsletter or NewsletterConfig()
    table = _aliases(aliases)
    names = tuple(n for n in (config.name, entry.feed_title) if n)
    try:
        issue = _Splitter(entry, table, names).issue()
    except Exception:  # the promise is "never raises": a bug here must not stop a feed
        log.exception("entry %r: could not be split; stored without sections", entry.entry_id)
        issue = _empty_issue(entry, names)
    name = config.name or _WS.sub(" ", entry.feed_title or "").strip() or entry.feed
    taken = entry_reason(issue, config, table).taken
    return replace(issue, newsletter=name, is_newsletter=taken)


# --------------------------------------------------------------------------- splitting
@dataclass
class _RawSection:
    heading: str
    nodes: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class _Heading:
    index: int
    level: int
    text: str


class _Splitter:
    def __init__(self, entry: RawEntry, aliases: SectionAliases, names: tuple[str, ...] = ()) -> None:
        self.entry = entry
        self.names = names
        self.aliases = aliases
        self.base = entry.base_url or entry.link or ""
        self.title = _WS.sub(" ", entry.title or "").strip()

    def issue(self) -> Issue:
        html = self.entry.html or ""
        nodes = self._top_nodes(html) if html.strip() else []
        preamble_nodes, raw_sections = self._sectioned(nodes)
        preamble_nodes = self._without_toc(preamble_nodes, raw_sections)
        preamble = render(self.base, preamble_nodes).blocks
        preamble_text = blocks_text(tuple(preamble))
        lang_hint = _title_lang_hint(self.title, self.entry)
        sections: list[Section] = []
        used: dict[str, int] = {}
        for position, raw in enumerate(raw_sections):
            title, emoji = split_heading(raw.heading)
            key = self.aliases.key_for(raw.heading, lang_hint)
            used[key] = used.get(key, 0) + 1
            if used[key] > 1:
                key = f"{key}_{used[key]}"
            items = ItemReader(self.base).read(raw.nodes)
            heading = _WS.sub(" ", raw.heading).strip()
            sections.append(Section(key=key, heading=heading, title=title, emoji=emoji, position=position,
                                    items=tuple(items)))
        sections = _with_cited_links(sections)
        sample = preamble_text
        for section in sections:
            if len(sample) >= _TEXT_SAMPLE:
                break
            sample += "\n" + section.text[:_TEXT_SAMPLE]
        language = infer_language(self.title, self.entry.link, self.entry.entry_id, sample,
                                  self.entry.feed_language)
        number = infer_number(self.title, self.entry.link, self.entry.entry_id, preamble_text, self.names)
        return Issue(entry_id=self.entry.entry_id, link=self.entry.link, title=self.title,
                     published=self.entry.published, updated=self.entry.updated, language=language,
                     number=number, sections=tuple(sections), preamble=tuple(preamble), feed=self.entry.feed)

    # ------------------------------------------------------------------ structure
    def _top_nodes(self, html: str) -> list[Any]:
        tree = LexborHTMLParser(html)
        body = tree.body
        if body is None:
            return []
        return _flatten(body)

    def _sectioned(self, nodes: list[Any]) -> tuple[list[Any], list[_RawSection]]:
        """Cut top-level nodes at section headings: (preamble nodes, sections with their nodes)."""
        nodes = _without_published_by(nodes)
        headings = _headings(nodes)
        level = _section_level(headings)
        repeated = _RepeatedLabels(nodes, headings)
        starts = {h.index: h.text for h in headings if h.level <= level}
        starts.update(_peer_headings(nodes, headings, level, repeated, self.aliases))
        if headings and self._is_title(headings[0].text):
            starts.pop(headings[0].index, None)  # the issue's own title over its text, not a section
        preamble: list[Any] = []
        sections: list[_RawSection] = []
        for index, node in enumerate(nodes):
            heading = starts.get(index)
            if heading is None and node.tag == "p" and (sections or not headings):
                heading = self._pseudo_heading(node, repeated, sections[-1].nodes if sections else [])
            if heading is not None:
                sections.append(_RawSection(heading))
            elif sections:
                sections[-1].nodes.append(node)
            else:
                preamble.append(node)
        if sections:
            sections[-1].nodes = self._without_footer(sections[-1].nodes)
        return preamble, sections

    def _is_title(self, heading: str) -> bool:
        """The heading repeats the entry's title or the newsletter's name."""
        form = normalize(heading)
        return len(form) >= 4 and any(form == normalize(name) for name in (self.title, *self.names))

    def _pseudo_heading(self, node: Any, repeated: _RepeatedLabels, section: list[Any]) -> str | None:
        """"<p><strong>本文参考资料</strong></p>": a section heading written as a bold paragraph
        (unless the section it would close titles its items with bold paragraphs: one more title)."""
        if leading_strong(node) is None:
            return None
        raw = node.text(deep=True) or ""
        if len(raw) > 3 * _MAX_PSEUDO_HEADING:
            return None
        text = _WS.sub(" ", raw).strip()
        if not text or len(text) > _MAX_PSEUDO_HEADING:
            return None
        key = self.aliases.exact_key(text)
        if key is None or normalize(text) in repeated:
            return None
        _title, emoji = split_heading(text)
        if key not in _PSEUDO_KEYS and (not emoji or self.aliases.emoji_key(emoji) != key):
            return None
        if not is_bold_title(render(self.base, [node])):
            return None
        if any(n.tag == "p" and leading_strong(n) is not None for n in section):
            return None
        return text

    def _without_footer(self, nodes: list[Any]) -> list[Any]:
        """Drop what follows a trailing `<hr />` (contact, subscribe, "previous issue") and self-promotion."""
        last_hr = max((i for i, n in enumerate(nodes) if n.tag == "hr"), default=-1)
        if last_hr >= 0:
            tail = [n for n in nodes[last_hr + 1:] if not _is_blank(n)]
            if len(tail) <= _MAX_FOOTER_NODES and not any(n.tag in HEADINGS for n in tail):  # a story, not a footer
                nodes = nodes[:last_hr]
        host = _host(self.entry.link)
        while nodes and host:
            last = nodes[-1]
            if _is_blank(last) or last.tag == "hr":
                nodes = nodes[:-1]
                continue
            if last.tag == "p" and _only_links_to(last, host, self.base):
                nodes = nodes[:-1]
                continue
            break
        return nodes

    def _without_toc(self, preamble: list[Any], sections: list[_RawSection]) -> list[Any]:
        """Drop lists before the first heading that repeat the section names (a table of contents)."""
        if not sections:
            return preamble
        titles = {normalize(split_heading(s.heading)[0]) for s in sections}
        titles.discard("")
        kept: list[Any] = []
        for node in preamble:
            if node.tag in LISTS:
                text = normalize(node.text(deep=True) or "")
                hits = sum(1 for t in titles if t in text)
                if hits >= min(2, len(titles)):
                    continue
            kept.append(node)
        return kept


def _headings(nodes: list[Any]) -> list[_Heading]:
    found: list[_Heading] = []
    for index, node in enumerate(nodes):
        level = _HEADING_LEVEL.get(node.tag)
        if level is not None:
            text = _WS.sub(" ", node.text(deep=True) or "").strip()
            if text:
                found.append(_Heading(index, level, text))
    return found


def _section_level(headings: list[_Heading]) -> int:
    """The smallest heading level used at least twice, else the only one used; 0 with no headings."""
    counts: dict[int, int] = {}
    for heading in headings:
        counts[heading.level] = counts.get(heading.level, 0) + 1
    if not counts:
        return 0
    repeated = [level for level, n in counts.items() if n >= 2]
    return min(repeated) if repeated else min(counts)


class _RepeatedLabels:
    """Heading and bold-paragraph texts that occur more than once in the issue (labels, not sections).

    Counted on the first question only: most issues never ask.
    """

    def __init__(self, nodes: list[Any], headings: list[_Heading]) -> None:
        self._nodes = nodes
        self._headings = headings
        self._forms: set[str] | None = None

    def __contains__(self, form: object) -> bool:
        if self._forms is None:
            seen: dict[str, int] = {}
            texts = [h.text for h in self._headings]
            for node in self._nodes:
                if node.tag == "p" and leading_strong(node) is not None:
                    text = node.text(deep=True) or ""
                    if len(text) <= 3 * _MAX_PSEUDO_HEADING:
                        texts.append(text)
            for text in texts:
                key = normalize(text)
                if key:
                    seen[key] = seen.get(key, 0) + 1
            self._forms = {key for key, n in seen.items() if n > 1}
        return form in self._forms


def _peer_headings(nodes: list[Any], headings: list[_Heading], level: int, repeated: _RepeatedLabels,
                   aliases: SectionAliases) -> dict[int, str]:
    """Deeper headings that are peers of the section headings: right after a rule, continuing their
    numbering, or naming another known section where the section headings name known sections."""
    frame = _SectionFrame.of(nodes, headings, level, aliases)
    return {heading.index: heading.text for heading in headings
            if heading.level > level and heading.index >= frame.first and frame.takes(heading, aliases)
            and normalize(heading.text) not in repeated}


@dataclass(frozen=True, slots=True)
class _SectionFrame:
    """What the section headings (those at the section level or above) say about deeper ones."""

    numbers: frozenset[int]  # their numbering ("1、", "2.")
    known: frozenset[str]  # the known sections they name
    first: int  # node index of the first section heading
    closing: tuple[int, ...]  # deeper headings right after a rule, past the last section heading

    @classmethod
    def of(cls, nodes: list[Any], headings: list[_Heading], level: int, aliases: SectionAliases) -> _SectionFrame:
        sections = [h for h in headings if h.level <= level]
        last = max((h.index for h in sections), default=len(nodes))
        return cls(
            numbers=frozenset(n for h in sections if (n := _section_number(h.text)) is not None),
            known=frozenset(k for h in sections if (k := _strict_key(aliases, h.text)) is not None),
            first=min((h.index for h in sections), default=len(nodes)),
            # A closing block: one heading after a rule, past the last section heading (several are stories).
            closing=tuple(h.index for h in headings
                          if h.level > level and h.index > last and _after_rule(nodes, h.index)),
        )

    def takes(self, heading: _Heading, aliases: SectionAliases) -> bool:
        """A deeper heading is a peer: it continues the numbering, names another known section, or
        is the one closing heading."""
        number = _section_number(heading.text)
        if len(self.numbers) >= 2 and number is not None and number not in self.numbers \
                and number <= max(self.numbers) + 1:
            return True
        key = _strict_key(aliases, heading.text) if len(self.known) >= 2 else None
        return (key is not None and key not in self.known) or self.closing == (heading.index,)


def _strict_key(aliases: SectionAliases, heading: str) -> str | None:
    """The canonical key a heading names exactly or by its emoji; None for anything else."""
    key = aliases.exact_key(heading)
    if key is None:
        key = aliases.emoji_key(split_heading(heading)[1])
    return key if key is not None and key not in ("foreword", "references") else None


def _section_number(text: str) -> int | None:
    match = _SECTION_NUMBER.match(text)
    return int(match.group(1)) if match else None


def _after_rule(nodes: list[Any], index: int) -> bool:
    """The node at `index` comes right after a horizontal rule (blank nodes aside)."""
    for node in reversed(nodes[:index]):
        if _is_blank(node):
            continue
        return bool(node.tag == "hr")
    return False


# --------------------------------------------------------------------------- helpers
def _flatten(container: Any) -> list[Any]:
    """Children of `container`, with wrapper elements (a `<div>` around everything) opened up.

    Iterative, so a document nested thousands of levels deep cannot exhaust the stack.
    """
    out: list[Any] = []
    stack: list[Any] = [container.child]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        stack.append(node.next)
        tag = node.tag
        if tag == "-comment":
            continue
        if tag == "-text":
            if (node.text_content or "").strip():
                out.append(node)
            continue
        if (tag in _CONTAINERS and _holds_blocks(node)) or (tag in _LAYOUT and _lays_out_blocks(node)):
            stack.append(node.child)
        else:
            out.append(node)
    return out


def _holds_blocks(node: Any) -> bool:
    """A container worth opening: one of its own children is block-level."""
    child = node.child
    while child is not None:
        if child.tag in _BLOCKISH:
            return True
        child = child.next
    return False


def _lays_out_blocks(node: Any) -> bool:
    """A layout table (e-mail newsletters): its cells hold headings, paragraphs or lists, not data."""
    return node.css_first(_LAYOUT_CONTENT) is not None


def _without_published_by(nodes: list[Any]) -> list[Any]:
    """Drop the feed template's "<title> was originally published by dair.ai at … on <date>." line."""
    tail_start = max(0, len(nodes) - 3)
    kept = nodes[:tail_start]
    for node in nodes[tail_start:]:
        if node.tag == "p" and _PUBLISHED_BY.search(node.text(deep=True) or ""):
            continue
        kept.append(node)
    return kept


def _is_blank(node: Any) -> bool:
    tag = node.tag
    if tag == "-text":
        return not (node.text_content or "").strip()
    if tag == "p":
        return not (node.text(deep=True) or "").strip() and node.css_first("img") is None
    return False


def _host(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


def _only_links_to(node: Any, host: str, base: str) -> bool:
    """A short paragraph whose every link points to the site itself ("Subscribe 🔖 to our newsletter")."""
    text = node.text(deep=True) or ""
    if len(text) > 200:
        return False
    anchors = node.css("a")
    if not anchors:
        return False
    return all(_host(a.attributes.get("href") or "") == host for a in anchors)


_CITATION = re.compile(r"\[(\d{1,3})\]")


def _with_cited_links(sections: list[Section]) -> list[Section]:
    """Give items the links their "[12]" citations point to in a `references` section.

    The Chinese editions cite "TorchIO[13]" in the text and list "[13] TorchIO: https://…"
    at the end; without this their items would have no link at all.
    """
    refs: dict[str, str] = {}
    for section in sections:
        if section.key.startswith("references"):
            for item in section.items:
                match = _CITATION.match(item.text)
                if match and item.links:
                    refs.setdefault(match.group(1), item.links[0])
    if not refs:
        return sections
    out: list[Section] = []
    for section in sections:
        if section.key.startswith("references"):
            out.append(section)
            continue
        items: list[Item] = []
        for item in section.items:
            cited = [refs[n] for n in _CITATION.findall(item.title + "\n" + item.text) if n in refs]
            if cited:
                item = replace(item, links=tuple(dict.fromkeys((*item.links, *cited))))
            items.append(item)
        out.append(replace(section, items=tuple(items)))
    return out


def _title_lang_hint(title: str, entry: RawEntry) -> str | None:
    """A cheap language hint for heading lookup (the full inference needs the text)."""
    code = infer_language(title, entry.link, entry.entry_id, "", None)
    return None if code == "und" else code


def _empty_issue(entry: RawEntry, names: tuple[str, ...]) -> Issue:
    title = _WS.sub(" ", entry.title or "").strip()
    try:
        language = infer_language(title, entry.link, entry.entry_id, "", entry.feed_language)
        number = infer_number(title, entry.link, entry.entry_id, "", names)
    except Exception:  # pragma: no cover - inference is plain regex work
        language, number = "und", None
    return Issue(entry_id=entry.entry_id, link=entry.link, title=title, published=entry.published,
                 updated=entry.updated, language=language, number=number, sections=(), feed=entry.feed)
