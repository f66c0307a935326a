"""Posts and answers as plain text for a terminal (pure, deterministic).

The outbox stores what `render` returns, so the same post must always give the
same parts: no clocks, no randomness, no terminal detection here.
"""

from __future__ import annotations

from bot.models import Answer, Block, IssueRef, Item, Post, Section

__all__ = ["render_answer_text", "render_post_text", "split_text"]

_RULE = "─" * 40


def _block(block: Block) -> str:
    text = "".join(span.text for span in block.spans).strip()
    if block.kind == "bullet":
        return f"  • {text}"
    if block.kind == "ordered":
        return f"  {block.number or 1}. {text}"
    if block.kind == "quote":
        return f"  > {text}"
    if block.kind == "code":
        return "\n".join(f"    {line}" for line in text.splitlines())
    return text


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
    heading = section.heading or section.title or section.key
    if section.emoji and section.emoji not in heading:
        heading = f"{section.emoji} {heading}"
    return f"{heading} — {issue.label}"


def _section_chunks(post: Post) -> tuple[str, list[str]]:
    assert post.section is not None
    return section_header(post.section, post.issue), [_item(item) for item in post.section.items]


def _digest_chunks(post: Post) -> tuple[str, list[str]]:
    header = f"📬 {post.issue.title} — {post.issue.label}"
    chunks = [post.issue.link] if post.issue.link else []
    for section in post.sections:
        lines = [f"{(section.emoji + ' ') if section.emoji else ''}{section.title or section.heading}"]
        lines.extend(f"  • {item.title}" for item in section.items if item.title)
        untitled = sum(1 for item in section.items if not item.title)
        if untitled:
            lines.append(f"  • (+{untitled} more)")
        chunks.append("\n".join(lines))
    return header, chunks


def _index_chunks(post: Post) -> tuple[str, list[str]]:
    header = f"🗂 Index — {post.issue.label}"
    lines = [f"{(e.section.emoji + ' ') if e.section.emoji else ''}{e.section.heading} → {e.url or '(not linked)'}"
             for e in post.index]
    return header, ["\n".join(lines)] if lines else []


def split_text(header: str, chunks: list[str], max_chars: int) -> list[str]:
    """Join chunks under a header into parts of at most `max_chars`, cutting between chunks, then lines."""
    budget = max(200, max_chars - len(header) - 16)
    pieces: list[str] = []
    for chunk in chunks:
        if len(chunk) <= budget:
            pieces.append(chunk)
            continue
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
        return [f"{header}\n\n{bodies[0]}".rstrip()]
    return [f"{header} ({i}/{len(bodies)})\n\n{body}".rstrip() for i, body in enumerate(bodies, 1)]


def render_post_text(post: Post, max_chars: int) -> list[str]:
    """A post as one or more console messages."""
    if post.kind == "section":
        header, chunks = _section_chunks(post)
    elif post.kind == "digest":
        header, chunks = _digest_chunks(post)
    else:
        header, chunks = _index_chunks(post)
    return split_text(header, chunks, max_chars)


def _issue_line(ref: IssueRef) -> str:
    date = f" ({ref.published.date().isoformat()})" if ref.published else ""
    return f"• {ref.label}: {ref.title}{date}\n  {ref.link}"


def render_answer_text(answer: Answer, max_chars: int) -> list[str]:
    """A query answer as console messages."""
    if answer.kind == "section" and answer.section is not None and answer.issue is not None:
        post = Post(kind="section", issue=answer.issue, section=answer.section)
        parts = render_post_text(post, max_chars)
        if answer.page_count > 1:
            parts[-1] += f"\n\n(page {answer.page + 1}/{answer.page_count})"
        return parts
    lines: list[str] = [answer.message] if answer.message else []
    if answer.kind in ("sections", "error") and answer.sections:
        if answer.issue is not None:
            lines.append(answer.issue.label)
        lines.extend(f"{s.position + 1}. {(s.emoji + ' ') if s.emoji else ''}{s.heading} [{s.key}]"
                     for s in answer.sections)
    if answer.issues:
        lines.extend(_issue_line(ref) for ref in answer.issues)
    for hit in answer.hits:
        lines.append(f"• {hit.item_title or hit.section.heading} — {hit.issue.label}, {hit.section.heading}")
        if hit.snippet:
            lines.append(f"  {hit.snippet}")
        if hit.url:
            lines.append(f"  {hit.url}")
    return split_text("", ["\n".join(lines)], max_chars) if lines else [""]
