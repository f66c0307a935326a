"""Posts and answers as plain text for a terminal (pure, deterministic).

The outbox stores what `render` returns, so the same post must always give the
same parts: no clocks, no randomness, no terminal detection here.
"""

from __future__ import annotations

from typing import assert_never

from bot.contract.presentation import is_link_only, item_label, link_tags
from bot.core import messages as msg
from bot.core.i18n import format_date
from bot.core.models import Block, IssueRef, Item, Section, SectionRef

__all__ = ["render_answer_text", "render_post_text", "split_text"]

_RULE = "─" * 40


def _block(block: Block) -> str:
    text = "".join(span.text for span in block.spans).strip()
    match block.kind:
        case "bullet":
            return f"  • {text}"
        case "ordered":
            return f"  {block.number or 1}. {text}"
        case "quote":
            return f"  > {text}"
        case "code":
            return "\n".join(f"    {line}" for line in text.splitlines())
        case "paragraph":
            return text
        case _:
            assert_never(block.kind)


def _item(item: Item) -> str:
    lines: list[str] = []
    if item.title:
        lines.append(f"▶ {item.title}")
    lines.extend(text for text in (_block(b) for b in item.body) if text)
    sources = set(item.sources)
    lines.extend(f"  ↗ {link}" for link in item.links if link not in sources)
    lines.extend(f"  [source] {source}" for source in item.sources)
    return "\n".join(lines)


def section_header(section: Section, issue: IssueRef) -> str:
    heading = _with_emoji(section.emoji, section.heading or section.title or section.key)
    return f"{heading} — {issue.label}"


def _section_chunks(issue: IssueRef, section: Section) -> tuple[str, list[str]]:
    """An item with text per chunk; a run of link-only items ("Updates from Rust Community") is one chunk,
    a list of one line each."""
    chunks: list[str] = []
    listed = False
    for item in section.items:
        if is_link_only(item):
            line = " ".join(filter(None, ("•", " ".join(item.title.split()), link_tags(item), "—", item.url)))
            if listed:
                chunks[-1] += "\n" + line
            else:
                chunks.append(line)
            listed = True
        else:
            chunks.append(_item(item))
            listed = False
    return section_header(section, issue), chunks


def _digest_chunks(post: msg.DigestPost) -> tuple[str, list[str]]:
    header = f"📬 {post.issue.title} — {post.issue.label}"
    chunks = [post.issue.link] if post.issue.link else []
    for section in post.sections:
        lines = [_with_emoji(section.emoji, section.title or section.heading)]
        lines.extend(f"  • {label}" for label in map(item_label, section.items) if label)
        chunks.append("\n".join(lines))
    return header, chunks


def _index_chunks(post: msg.IndexPost) -> tuple[str, list[str]]:
    header = f"🗂 Index — {post.issue.label}"
    lines = [f"{_with_emoji(e.section.emoji, e.section.heading)} → {e.url or '(not linked)'}" for e in post.entries]
    return header, ["\n".join(lines)] if lines else []


def split_text(header: str, chunks: list[str], max_chars: int) -> list[str]:
    """Join chunks under a header into parts of at most `max_chars`, cutting between chunks, then lines."""
    budget = max(200, max_chars - len(header) - 16)
    pieces = [piece for chunk in chunks for piece in ([chunk] if len(chunk) <= budget else _by_lines(chunk, budget))]
    bodies: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + 2 + len(piece) > budget:
            bodies.append(current)
            current = piece
        else:
            current = f"{current}\n\n{piece}" if current else piece
    if current or not bodies:
        bodies.append(current)
    if len(bodies) == 1:
        return ["\n\n".join(p for p in (header, bodies[0]) if p).rstrip()]  # no header: no leading blank line
    return ["\n\n".join(p for p in (f"{header} ({i}/{len(bodies)})".strip(), body) if p).rstrip()
            for i, body in enumerate(bodies, 1)]


def _by_lines(chunk: str, budget: int) -> list[str]:
    """A chunk over `budget` as pieces cut between lines (a line longer than that is cut where it must)."""
    pieces: list[str] = []
    current = ""
    for line in chunk.splitlines():
        while len(line) > budget:
            pieces.append(line[:budget])
            line = line[budget:]
        if current and len(current) + 1 + len(line) > budget:
            pieces.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        pieces.append(current)
    return pieces


def render_post_text(post: msg.Post, max_chars: int) -> list[str]:
    """A post as one or more console messages."""
    match post:
        case msg.SectionPost(issue=issue, section=section):
            header, chunks = _section_chunks(issue, section)
        case msg.DigestPost():
            header, chunks = _digest_chunks(post)
        case msg.IndexPost():
            header, chunks = _index_chunks(post)
        case _:
            assert_never(post)
    return split_text(header, chunks, max_chars)


def _issue_line(ref: IssueRef, lang: str) -> str:
    date = f" ({format_date(ref.published, lang)})" if ref.published else ""
    return f"• {ref.label}: {ref.title}{date}\n  {ref.link}"


def _section_lines(refs: tuple[SectionRef, ...]) -> list[str]:
    """Numbered section names (the answer's message already names the issue: it is not repeated)."""
    return [f"{s.position + 1}. {_with_emoji(s.emoji, s.heading)} [{s.key}]" for s in refs]


def _with_emoji(emoji: str, heading: str) -> str:
    """A heading with its emoji once ("Publications 📙" stays as it is; "📙" + "Publications" → "📙 Publications")."""
    return f"{emoji} {heading}" if emoji and emoji not in heading else heading


def _hit_lines(hit: msg.SearchHit) -> list[str]:
    lines = [f"• {hit.item_title or hit.section.heading} — {hit.issue.label}, {hit.section.heading}"]
    if hit.snippet:
        lines.append(f"  {hit.snippet}")
    if hit.url:
        lines.append(f"  {hit.url}")
    return lines


def render_answer_text(answer: msg.Answer, max_chars: int) -> list[str]:
    """A query answer as console messages."""
    if isinstance(answer, msg.SectionAnswer):
        header, chunks = _section_chunks(answer.issue, answer.section)
        parts = split_text(header, [answer.note, *chunks] if answer.note else chunks, max_chars)  # as the bots
        if answer.page_count > 1:
            parts[-1] += f"\n\n(page {answer.page}/{answer.page_count})"
        return parts
    lines: list[str] = [answer.message] if answer.message else []
    match answer:
        case msg.SectionList(sections=refs) | msg.NotFound(choices=refs):
            lines += _section_lines(refs)
        case msg.IssueList(issues=issues):
            lines += (_issue_line(issue, answer.lang) for issue in issues)
        case msg.SearchResults(hits=hits):
            lines += (line for hit in hits for line in _hit_lines(hit))
        case msg.ErrorAnswer() | msg.Help() | msg.Notice() | msg.Subscribed() | msg.LanguageSet():
            pass
        case _:
            assert_never(answer)
    return split_text("", ["\n".join(lines)], max_chars) if lines else [""]
