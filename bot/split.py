"""Feed entry → Issue → Sections → Items: the only reader of a newsletter's HTML structure.

The shape being read (kramdown output of the dair.ai NLP Newsletter, in 7 languages):
sections are `<h1>` (or `<h2>` in some Chinese editions, possibly `<strong>`-wrapped
and numbered "1、"); items open with a wholly bold paragraph
(`<p><strong><em>Title</em></strong></p>`) or a sub-heading (`<h4>1.1 title</h4>`,
`<h2>` stories under an `<h1>` "Top Stories"); "Mentions" sections hold untitled
paragraphs. Around that: a table of contents before the first heading (Chinese
editions), the English original inside HTML comments (Portuguese editions), a
footer after a trailing `<hr />`, and the feed template's "was originally
published by" line — none of which is content.

Decisions (tested in tests/test_split_shapes.py):
- the section level is the smallest heading level used at least twice at top
  level (else the only one used); deeper headings are item titles;
- item titles lose "1.1 " style numbering and stray markdown asterisks;
- an untitled list in an untitled context gives one item per list entry;
- a wholly bold paragraph whose text is a known section name is a heading when
  the name is `references` ("本文参考资料") or its emoji agrees with the name;
- a section's HTML (`richtext.section_html`) is regenerated from its items, never feed HTML.

The splitter never raises: whatever the HTML, the worst case is an Issue with no
sections (logged).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote, urlsplit

from selectolax.lexbor import LexborHTMLParser

from bot.config import NewsletterConfig
from bot.language import infer_language, infer_number
from bot.models import Block, Issue, IssueRef, Item, RawEntry, Section, blocks_text
from bot.richtext import Fragment, RichTextBuilder
from bot.sections import SectionAliases, normalize, split_heading

__all__ = ["assign_numbers", "split_entry"]

log = logging.getLogger(__name__)

_HEADING_LEVEL = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_CONTAINERS = frozenset({"div", "section", "article", "main", "header", "footer", "center"})
_BLOCKISH = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "p", "ul", "ol", "hr", "blockquote", "pre", "table",
                       "figure", *_CONTAINERS})
_LISTS = frozenset({"ul", "ol"})
_WS = re.compile(r"\s+")
_ITEM_NUMBERING = re.compile(r"^\s*\d{1,3}(?:\.\d{1,3})+\.?\s*")
_PUBLISHED_BY = re.compile(r"(?i)was originally published by")
_MAX_TITLE = 300
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
        newsletter: how to tell a newsletter from another post of the feed.

    Returns:
        Always an Issue; `is_newsletter=False` (logged at INFO) when the entry's
        title does not look like a newsletter's and its sections are not the
        newsletter's known ones, or when it has fewer than `min_sections` sections.
    """
    config = newsletter or NewsletterConfig()
    table = _aliases(aliases)
    try:
        issue = _Splitter(entry, table).issue()
    except Exception:  # the promise is "never raises": a bug here must not stop a feed
        log.exception("entry %r: could not be split; stored without sections", entry.entry_id)
        issue = _empty_issue(entry)
    newsletterish = _is_newsletter(issue, config, table)
    if not newsletterish:
        log.info("entry %r (%s) is not a newsletter issue: %d section(s)", entry.entry_id,
                 _short(issue.title), len(issue.sections))
        issue = replace(issue, is_newsletter=False)
    return issue


def assign_numbers(issues: Sequence[Issue], known: Sequence[IssueRef] = ()) -> list[Issue]:
    """Fill the `number` of editions that do not state it, from other editions of the same issue.

    Editions of one issue share their images (translations reuse the figures), their
    item links, the subtitle after the title's ':' (or most of its words: "GPT-2
    Anotado, Entendendo self-distillation, Haiku…"), and their link slug once language
    markers are removed. An edition takes the number of its best match when the match
    is clear; numbers already stated are never changed.

    Args:
        issues: editions being ingested, in any order.
        known: editions already stored (only title and link are compared for those).

    Returns:
        The issues in the same order, numbered where a match was found.
    """
    result = list(issues)
    if all(issue.number is not None or not issue.is_newsletter for issue in result):
        return result  # the usual case: every edition states its number, nothing to compare
    profiles = [_Profile.of_issue(issue) for issue in result]
    known_profiles = [_Profile.of_ref(ref) for ref in known if ref.number is not None]
    changed = True
    while changed:
        changed = False
        numbered = [p for p in profiles if p.number is not None] + known_profiles
        for index, issue in enumerate(result):
            if issue.number is not None or not issue.is_newsletter:
                continue
            mine = profiles[index]
            best, best_score = None, 0.0
            for other in numbered:
                if other.entry_id == mine.entry_id:
                    continue
                score = mine.similarity(other)
                if score > best_score:
                    best, best_score = other, score
                    if score >= 1.0:
                        break  # similarity is at most 1.0: no later candidate can beat this one
            if best is not None and best_score >= _MATCH_THRESHOLD:
                result[index] = replace(issue, number=best.number)
                profiles[index] = replace(mine, number=best.number)
                log.info("entry %r: issue number %s taken from %r (score %.2f)", issue.entry_id, best.number,
                         best.entry_id, best_score)
                changed = True
    return result


# --------------------------------------------------------------------------- splitting
@dataclass
class _Draft:
    title: str
    blocks: list[Block] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def take(self, fragment: Fragment) -> None:
        self.blocks.extend(fragment.blocks)
        self.images.extend(fragment.images)
        self.links.extend(fragment.links)
        self.sources.extend(fragment.sources)

    def item(self) -> Item | None:
        if not (self.title or self.blocks or self.images or self.links):
            return None
        return Item(title=self.title, body=tuple(self.blocks), images=tuple(dict.fromkeys(self.images)),
                    links=tuple(dict.fromkeys(self.links)), sources=tuple(dict.fromkeys(self.sources)))


@dataclass
class _RawSection:
    heading: str
    nodes: list[Any] = field(default_factory=list)


class _Splitter:
    def __init__(self, entry: RawEntry, aliases: SectionAliases) -> None:
        self.entry = entry
        self.aliases = aliases
        self.base = entry.base_url or entry.link or ""
        self.title = _WS.sub(" ", entry.title or "").strip()

    def issue(self) -> Issue:
        html = self.entry.html or ""
        nodes = self._top_nodes(html) if html.strip() else []
        preamble_nodes, raw_sections = self._sectioned(nodes)
        preamble_nodes = self._without_toc(preamble_nodes, raw_sections)
        preamble = self._render(preamble_nodes).blocks
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
            items = self._items(raw.nodes, key)
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
        number = infer_number(self.title, self.entry.link, self.entry.entry_id, preamble_text)
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
        counts: dict[int, int] = {}
        headings: dict[int, str] = {}
        for index, node in enumerate(nodes):
            level = _HEADING_LEVEL.get(node.tag)
            if level is not None:
                text = _WS.sub(" ", node.text(deep=True) or "").strip()
                if text:
                    headings[index] = text
                    counts[level] = counts.get(level, 0) + 1
        section_level = 0
        if counts:
            repeated = [lvl for lvl, n in counts.items() if n >= 2]
            section_level = min(repeated) if repeated else min(counts)
        preamble: list[Any] = []
        sections: list[_RawSection] = []
        for index, node in enumerate(nodes):
            heading = None
            if index in headings and _HEADING_LEVEL[node.tag] <= section_level:
                heading = headings[index]
            elif node.tag == "p" and (sections or not headings):
                heading = self._pseudo_heading(node)
            if heading is not None:
                sections.append(_RawSection(heading))
            elif sections:
                sections[-1].nodes.append(node)
            else:
                preamble.append(node)
        if sections:
            sections[-1].nodes = self._without_footer(sections[-1].nodes)
        return preamble, sections

    def _pseudo_heading(self, node: Any) -> str | None:
        """"<p><strong>本文参考资料</strong></p>": a section heading written as a bold paragraph."""
        if _leading_strong(node) is None:
            return None
        raw = node.text(deep=True) or ""
        if len(raw) > 3 * _MAX_PSEUDO_HEADING:
            return None
        text = _WS.sub(" ", raw).strip()
        if not text or len(text) > _MAX_PSEUDO_HEADING:
            return None
        key = self.aliases.exact_key(text)
        if key is None:
            return None
        _title, emoji = split_heading(text)
        if key not in _PSEUDO_KEYS and (not emoji or self.aliases.emoji_key(emoji) != key):
            return None
        fragment = self._render([node])
        if not _is_bold_title(fragment):
            return None
        return text

    def _without_footer(self, nodes: list[Any]) -> list[Any]:
        """Drop what follows a trailing `<hr />` (contact, subscribe, "previous issue") and self-promotion."""
        last_hr = max((i for i, n in enumerate(nodes) if n.tag == "hr"), default=-1)
        if last_hr >= 0:
            tail = [n for n in nodes[last_hr + 1:] if not _is_blank(n)]
            if len(tail) <= _MAX_FOOTER_NODES:
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
            if node.tag in _LISTS:
                text = normalize(node.text(deep=True) or "")
                hits = sum(1 for t in titles if t in text)
                if hits >= min(2, len(titles)):
                    continue
            kept.append(node)
        return kept

    # ------------------------------------------------------------------ items
    def _items(self, nodes: list[Any], key: str) -> list[Item]:
        items: list[Item] = []
        current: _Draft | None = None  # a titled item collects until the next title
        last_untitled: _Draft | None = None
        pending = _Draft("")  # images/sources seen before any item

        def close(draft: _Draft | None) -> None:
            if draft is not None:
                item = draft.item()
                if item is not None:
                    items.append(item)

        def open_item(title: str) -> _Draft:
            draft = _Draft(title)
            draft.images.extend(pending.images)
            draft.links.extend(pending.links)
            draft.sources.extend(pending.sources)
            pending.images.clear()
            pending.links.clear()
            pending.sources.clear()
            return draft

        def start_item(title: str, media: Fragment | None = None) -> _Draft:
            """Close whatever is open and start a titled item (with the media of its title line)."""
            close(current)
            close(last_untitled)
            draft = open_item(title)
            if media is not None:
                draft.images.extend(media.images)
                draft.links.extend(media.links)
            return draft

        for node in nodes:
            tag = node.tag
            if tag == "-text" and not (node.text_content or "").strip():
                continue
            if tag in _HEADING_LEVEL:
                fragment = self._render([node])
                title = _clean_title(_fragment_text(fragment))
                if not title:
                    continue
                current, last_untitled = start_item(title, fragment), None
                continue
            if tag == "p":
                split = self._title_with_body(node)
                if split is not None:
                    current, last_untitled = start_item(split[0]), None
                    current.take(split[1])
                    continue
            fragment = self._render([node])
            if tag == "p" and _is_bold_title(fragment):
                title = _clean_title(_fragment_text(fragment))
                if title:
                    current, last_untitled = start_item(title, fragment), None
                    continue
            if not (fragment.blocks or fragment.images or fragment.links):
                continue  # an empty paragraph ("<p><br /></p>")
            if current is not None:
                current.take(fragment)
                continue
            if not fragment.blocks:
                # images or a lone "[source]": they belong to the paragraph just read, else the next item
                target = last_untitled if last_untitled is not None else pending
                target.take(fragment)
                continue
            if tag in _LISTS:
                close(last_untitled)
                last_untitled = None
                for li in node.iter(include_text=False):
                    if li.tag != "li":
                        continue
                    entry_fragment = self._render([li])
                    if entry_fragment.blocks or entry_fragment.images:
                        draft = open_item("")
                        draft.take(entry_fragment)
                        close(draft)
                continue
            close(last_untitled)
            last_untitled = open_item("")
            last_untitled.take(fragment)
        close(current)
        close(last_untitled)
        return items

    def _title_with_body(self, node: Any) -> tuple[str, Fragment] | None:
        """"<p><strong><em>Title</em></strong>\\nBody…</p>": a title line and its body in one paragraph."""
        strong = _leading_strong(node)
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
        title = _clean_title(strong.text(deep=True) or "")
        if not title or len(title) > _MAX_TITLE:
            return None
        body = self._render(rest)
        if not body.blocks:
            return None
        extra = self._render([strong])
        body.links[:0] = extra.links
        return title, body

    def _render(self, nodes: Iterable[Any]) -> Fragment:
        builder = RichTextBuilder(self.base)
        for node in nodes:
            builder.add(node)
        return builder.fragment()


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
        if tag in _CONTAINERS and _holds_blocks(node):
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


def _without_published_by(nodes: list[Any]) -> list[Any]:
    """Drop the feed template's "<title> was originally published by dair.ai at … on <date>." line."""
    tail_start = max(0, len(nodes) - 3)
    kept = nodes[:tail_start]
    for node in nodes[tail_start:]:
        if node.tag == "p" and _PUBLISHED_BY.search(node.text(deep=True) or ""):
            continue
        kept.append(node)
    return kept


def _leading_strong(node: Any) -> Any | None:
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


def _siblings_after(node: Any) -> list[Any]:
    """The nodes after `node` in its parent, comments left out."""
    rest: list[Any] = []
    sibling = node.next
    while sibling is not None:
        if sibling.tag != "-comment":
            rest.append(sibling)
        sibling = sibling.next
    return rest


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
    """A short paragraph whose every link points to the site itself ("Subscribe 🔖 to the NLP Newsletter")."""
    text = node.text(deep=True) or ""
    if len(text) > 200:
        return False
    anchors = node.css("a")
    if not anchors:
        return False
    return all(_host(a.attributes.get("href") or "") == host for a in anchors)


def _is_bold_title(fragment: Fragment) -> bool:
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
    return visible and sum(len(span.text) for span in block.spans) <= _MAX_TITLE


def _fragment_text(fragment: Fragment) -> str:
    return " ".join(block.text for block in fragment.blocks)


def _clean_title(text: str) -> str:
    """"1.5用图网络模拟复杂物理" → "用图网络模拟复杂物理"; "Why BLEU?***" → "Why BLEU?"."""
    text = _WS.sub(" ", text).strip()
    stripped = _ITEM_NUMBERING.sub("", text, count=1)
    if stripped:
        text = stripped
    return text.strip(" *_").strip()


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


def _is_newsletter(issue: Issue, config: NewsletterConfig, aliases: SectionAliases) -> bool:
    if len(issue.sections) < config.min_sections:
        return False
    try:
        titled = re.search(config.title_pattern, issue.title) is not None
    except re.error:
        titled = False
    if titled:
        return True
    canonical = {s.key for s in issue.sections if aliases.is_known(s.key) and s.key not in ("foreword",
                                                                                            "references")}
    return len(canonical) >= 2


def _empty_issue(entry: RawEntry) -> Issue:
    title = _WS.sub(" ", entry.title or "").strip()
    try:
        language = infer_language(title, entry.link, entry.entry_id, "", entry.feed_language)
        number = infer_number(title, entry.link, entry.entry_id, "")
    except Exception:  # pragma: no cover - inference is plain regex work
        language, number = "und", None
    return Issue(entry_id=entry.entry_id, link=entry.link, title=title, published=entry.published,
                 updated=entry.updated, language=language, number=number, sections=(), feed=entry.feed)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- edition matching
_MATCH_THRESHOLD = 0.5
_SLUG_NOISE = re.compile(
    r"(?i)(?:^|[-_.\[(#])(?:fr|pt-br|pt|zh|ch|cn|tr|es|ar|en)(?=$|[-_.\])#])|\.md$|issue[-_]?\d+|nlp[-_]\d+"
)
_WORDS = re.compile(r"[^\W_]+(?:-[^\W_]+)*", re.UNICODE)


def _subtitle(title: str) -> str:
    for sep in (":", "：", " - ", " — "):
        if sep in title:
            return title.split(sep, 1)[1].strip()
    return ""


def _slug(link: str) -> str:
    path = unquote(urlsplit(link).path if "://" in link else link)
    path = path.strip("/").rsplit("/", 1)[-1]
    path = _SLUG_NOISE.sub("_", path)
    return re.sub(r"[-_.,\s]+", "_", path).strip("_").casefold()


@dataclass(frozen=True)
class _Profile:
    entry_id: str
    number: int | None
    subtitle_words: frozenset[str]
    slugs: frozenset[str]
    images: frozenset[str]
    links: frozenset[str]

    @classmethod
    def of_issue(cls, issue: Issue) -> _Profile:
        images: set[str] = set()
        links: set[str] = set()
        for section in issue.sections:
            for item in section.items:
                images.update(item.images)
                links.update(item.links)
        return cls(issue.entry_id, issue.number, _word_set(_subtitle(issue.title)),
                   frozenset(s for s in (_slug(issue.link), _slug(issue.entry_id)) if len(s) >= 8),
                   frozenset(images), frozenset(links))

    @classmethod
    def of_ref(cls, ref: IssueRef) -> _Profile:
        return cls(ref.entry_id, ref.number, _word_set(_subtitle(ref.title)),
                   frozenset(s for s in (_slug(ref.link), _slug(ref.entry_id)) if len(s) >= 8),
                   frozenset(), frozenset())

    def similarity(self, other: _Profile) -> float:
        """0..1: the strongest shared trait (same figures, same links, same subtitle, same slug)."""
        scores = [
            _jaccard(self.images, other.images) * 1.5 if len(self.images) >= 2 else 0.0,
            _jaccard(self.links, other.links) if len(self.links) >= 3 else 0.0,
            _jaccard(self.subtitle_words, other.subtitle_words) if len(self.subtitle_words) >= 3 else 0.0,
            1.0 if self.slugs & other.slugs else 0.0,
        ]
        return min(1.0, max(scores))


def _word_set(text: str) -> frozenset[str]:
    return frozenset(w.casefold() for w in _WORDS.findall(text) if len(w) >= 3 or any(c.isdigit() for c in w))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)  # |a ∪ b| without building the union

