"""Posts and answers → Discord message payloads within Discord's limits (pure, no I/O).

Every payload is a plain JSON dict (content, embeds, flags, thread…) so the outbox can
store it and a resend after a crash sends byte-for-byte the same message. Lengths are
counted in UTF-16 code units, the stricter reading of Discord's "characters", so a
payload that fits here fits on Discord whatever it counts.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, assert_never
from urllib.parse import quote

from discord.utils import escape_markdown

from adapters.discord.payloads import DiscordPayload, PageButtonSpec, ThreadSpec
from adapters.text import utf16_len
from bot.contract.destination import DiscordOptions
from bot.contract.presentation import PLAIN, Compact, Presentation, item_label, link_tags
from bot.core import messages as msg
from bot.core.i18n import format_date, t
from bot.core.models import Block, IssueRef, Item, Section, SectionRef, Span
from bot.core.truncate import truncate
from bot.core.urls import safe_url
from bot.ports import Destination, Rendered

__all__ = [
    "CONTENT_LIMIT",
    "DESCRIPTION_LIMIT",
    "EMBEDS_PER_MESSAGE",
    "EMBED_TOTAL_LIMIT",
    "SUPPRESS_NOTIFICATIONS",
    "TITLE_LIMIT",
    "DiscordRenderer",
    "embed_length",
    "escape_text",
    "section_color",
]

CONTENT_LIMIT = 2000
EMBEDS_PER_MESSAGE = 10
EMBED_TOTAL_LIMIT = 6000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FOOTER_LIMIT = 2048
SUPPRESS_NOTIFICATIONS = 1 << 12
_ELLIPSIS = "…"
# One colour per section key: a fixed palette indexed by a stable hash of the key, so a
# section keeps its colour across issues and languages (keys are language-neutral).
_PALETTE = (0xE67E22, 0x9B59B6, 0x3498DB, 0xE74C3C, 0x1ABC9C, 0xF1C40F, 0x2ECC71, 0x34495E,
            0xE91E63, 0x95A5A6, 0x00BCD4, 0x8D6E63)
_SENTENCE_END = re.compile(r"[.!?。！？…](?=\s|$)|[。！？]")
_CJK = re.compile(r"[\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]")


def section_color(key: str) -> int:
    """A stable colour for a section key."""
    return _PALETTE[zlib.crc32(key.encode("utf-8")) % len(_PALETTE)]


def embed_length(embed: dict[str, Any]) -> int:
    """Characters that count towards the 6000 per-message embed total."""
    total = utf16_len(embed.get("title", "")) + utf16_len(embed.get("description", ""))
    total += utf16_len(embed.get("footer", {}).get("text", "")) + utf16_len(embed.get("author", {}).get("name", ""))
    for field_ in embed.get("fields", ()):
        total += utf16_len(field_.get("name", "")) + utf16_len(field_.get("value", ""))
    return total


# --------------------------------------------------------------------------- markdown
def _safe_url(url: str | None) -> str | None:
    """A safe URL (`bot.core.urls.safe_url`) encoded for the `(...)` of a masked link, else None."""
    checked = safe_url(url)
    return quote(checked, safe=":/?#@!$&'*+,;=%~-._[]") if checked else None  # encodes spaces and ( )


def escape_text(text: str) -> str:
    """Feed text as literal Discord markdown: no bold, links, headings or lists sneak in."""
    # Brackets are escaped by us (placeholders keep escape_markdown's link rule out of the way).
    text = text.replace("\n", " ").replace("[", "\ue000").replace("]", "\ue001")
    return escape_markdown(text).replace("\ue000", "\\[").replace("\ue001", "\\]")


def _span_md(span: Span, *, angle_links: bool) -> str:
    text = span.text.replace("\n", " ")
    if not text.strip():
        return text
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()):]
    core = text.strip()
    if span.code:
        md = "`" + core.replace("`", "ˋ") + "`"
    else:
        md = escape_text(core)
        if span.bold:
            md = f"**{md}**"
        if span.italic:
            md = f"*{md}*"
    url = _safe_url(span.href)
    if url:
        md = f"[{md}](<{url}>)" if angle_links else f"[{md}]({url})"
    return lead + md + trail


def _block_prefix(block: Block) -> str:
    if block.kind == "bullet":
        return "- "
    if block.kind == "ordered":
        return f"{block.number or 1}\\. "
    if block.kind == "quote":
        return "> "
    return ""


def _block_md(block: Block, spans: Sequence[Span] | None = None, *, angle_links: bool) -> str:
    spans = block.spans if spans is None else spans
    if block.kind == "code":
        body = "".join(s.text for s in spans).replace("```", "ˋˋˋ")
        return f"```\n{body}\n```"
    text = "".join(_span_md(s, angle_links=angle_links) for s in spans).strip()
    return _block_prefix(block) + text if text else ""


def _join(parts: Iterable[tuple[Block, str]]) -> str:
    out: list[str] = []
    previous: Block | None = None
    for block, md in parts:
        if not md:
            continue
        if previous is not None:
            listy = block.kind in ("bullet", "ordered") and previous.kind == block.kind
            out.append("\n" if listy else "\n\n")
        out.append(md)
        previous = block
    return "".join(out)


def _cut_points(text: str) -> list[list[int]]:
    """Candidate cut positions, best kind first: sentence ends, word ends, CJK characters."""
    sentences = [m.end() for m in _SENTENCE_END.finditer(text)]
    words = [m.start() for m in re.finditer(r"\s", text)]
    cjk = [m.end() for m in _CJK.finditer(text)]
    return [sentences, words, cjk]


def _cut_span(span: Span, budget: int, *, angle_links: bool) -> Span | None:
    """The longest prefix of `span` ending at a sentence (else a word) whose markdown fits."""
    for points in _cut_points(span.text):
        fitting = [p for p in points if 0 < p < len(span.text)]
        lo, hi, best = 0, len(fitting) - 1, None
        while lo <= hi:  # markdown length grows with the cut position: binary search
            mid = (lo + hi) // 2
            candidate = Span(span.text[: fitting[mid]].rstrip(), span.bold, span.italic, span.code, span.href)
            if utf16_len(_span_md(candidate, angle_links=angle_links)) <= budget:
                best, lo = candidate, mid + 1
            else:
                hi = mid - 1
        if best is not None and best.text.strip():
            return best
    return None


def fit_blocks(blocks: Sequence[Block], budget: int, *, more_url: str | None, more_label: str,
               angle_links: bool = False) -> str:
    """Blocks as markdown in at most `budget` units; a long text is cut at a sentence with "…" and a link.

    Cuts fall between blocks, spans, sentences or words only, so neither a word nor a
    markdown construct (a link, bold text) is ever broken.
    """
    rendered = [(b, _block_md(b, angle_links=angle_links)) for b in blocks]
    full = _join(rendered)
    if utf16_len(full) <= budget:
        return full
    url = _safe_url(more_url)
    if url:
        suffix = f"{_ELLIPSIS} [{escape_text(more_label)}](<{url}>)" if angle_links else \
            f"{_ELLIPSIS} [{escape_text(more_label)}]({url})"
    else:
        suffix = _ELLIPSIS
    room = budget - utf16_len(suffix) - 1
    kept: list[tuple[Block, str]] = []
    for block, md in rendered:
        if utf16_len(_join([*kept, (block, md)])) <= room:
            kept.append((block, md))
            continue
        # Partial block: whole spans while they fit, then the next span cut at a sentence.
        spans: list[Span] = []
        for span in block.spans:
            trial = _block_md(block, [*spans, span], angle_links=angle_links)
            if utf16_len(_join([*kept, (block, trial)])) <= room:
                spans.append(span)
                continue
            base = utf16_len(_join([*kept, (block, _block_md(block, spans, angle_links=angle_links) or "x")]))
            cut = _cut_span(span, room - base, angle_links=angle_links) if block.kind != "code" else None
            if cut is not None:
                spans.append(cut)
            break
        partial = _block_md(block, spans, angle_links=angle_links) if spans else ""
        if partial and utf16_len(_join([*kept, (block, partial)])) <= room:
            kept.append((block, partial))
        break
    text = _join(kept).rstrip()
    if not text:
        return suffix if utf16_len(suffix) <= budget else _ELLIPSIS
    joiner = " " if text.endswith(("```", ")", ">")) else ""
    return f"{text}{joiner}{suffix}"


def _truncate_words(text: str, limit: int) -> str:
    """Plain text to at most `limit` UTF-16 units, cut at a word with "…"."""
    return truncate(text, limit, at="word", size=utf16_len)


def split_lines(lines: Sequence[str], limit: int = CONTENT_LIMIT, separator: str = "\n") -> list[str]:
    """Pack lines into messages of at most `limit` units, never splitting a line (long ones are cut)."""
    messages: list[str] = []
    current = ""
    for line in lines:
        line = _truncate_words(line, limit) if utf16_len(line) > limit else line
        candidate = f"{current}{separator}{line}" if current else line
        if utf16_len(candidate) <= limit:
            current = candidate
        else:
            if current:
                messages.append(current)
            current = line
    if current:
        messages.append(current)
    return messages


# --------------------------------------------------------------------------- posts
@dataclass(frozen=True, slots=True)
class _Options:
    """What a destination asks of a post's rendering: its Discord options and its presentation."""

    discord: DiscordOptions = field(default_factory=DiscordOptions)
    look: Presentation = PLAIN

    @classmethod
    def of(cls, dest: Destination | None) -> _Options:
        return cls() if dest is None else cls(dest.discord, dest.presentation)


class DiscordRenderer:
    """Turns posts and answers into Discord message payloads (see module docstring)."""

    def render(self, post: msg.Post, dest: Destination | None = None) -> list[Rendered[DiscordPayload]]:
        """One post → one or more messages, in order; only the first may notify."""
        options = _Options.of(dest)
        lang = post.issue.language
        match post:
            case msg.SectionPost(issue=issue, section=section):
                if options.look.compact is Compact.ALWAYS:
                    payloads = self._section_compact(issue, section, lang)
                elif options.discord.format == "embeds":
                    payloads = self._section_embeds(issue, section, lang, options)
                else:
                    payloads = self._section_text(issue, section, lang, options.look)
            case msg.DigestPost(issue=issue, sections=sections):
                payloads = self._digest(issue, sections, lang, options.discord.format)
            case msg.IndexPost(issue=issue, entries=entries):
                payloads = self._index(issue, entries, lang)
            case _:
                assert_never(post)
        role = _mention_role(post, dest)
        if role is not None and payloads:  # the opt-in ping: this role, nothing else (platform sends allow it only)
            payloads[0]["content"] = _truncate_words(f"<@&{role}> {payloads[0].get('content', '')}".rstrip(),
                                                     CONTENT_LIMIT)
            payloads[0]["mention_role"] = role
        parts: list[Rendered[DiscordPayload]] = []
        for number, payload in enumerate(payloads):
            notify = (post.notify or role is not None) and number == 0
            if not notify:
                payload["flags"] = SUPPRESS_NOTIFICATIONS
            if options.discord.thread:
                payload["thread"] = ThreadSpec(name=_truncate_words(post.issue.label, 100),
                                               header=self._issue_header(post.issue))
            kind = "embeds" if payload.get("embeds") else "text"
            parts.append(Rendered(kind=kind, text=payload.get("content", ""), payload=payload, notify=notify))
        return parts

    # ----------------------------------------------------------------------- sections
    @staticmethod
    def section_header(issue: IssueRef, section: Section) -> str:
        """`📙 Publications — NLP Newsletter #4 (FR)`."""
        title = escape_text(section.title or section.heading)
        return f"{section.emoji} {title} — {issue.label}" if section.emoji else f"{title} — {issue.label}"

    @staticmethod
    def _issue_header(issue: IssueRef) -> str:
        url = _safe_url(issue.link)
        title = escape_text(_truncate_words(issue.title, 300))
        line = f"📰 **{issue.label}** — {title}"
        return _truncate_words(f"{line}\n<{url}>" if url else line, CONTENT_LIMIT)

    def _item_embed(self, section: Section, item: Item, lang: str, options: _Options) -> dict[str, Any] | None:
        embed: dict[str, Any] = {"type": "rich", "color": section_color(section.key)}
        url = _safe_url(item.url)
        if item.title.strip():
            embed["title"] = _truncate_words(escape_text(item.title.strip()), TITLE_LIMIT)
            if url:
                embed["url"] = url
        budget = min(DESCRIPTION_LIMIT, options.look.max_item_chars or DESCRIPTION_LIMIT)
        description = fit_blocks(item.body, budget, more_url=item.url, more_label=t("discord.read_more", lang))
        if description.strip():
            embed["description"] = description
        image = next((i for i in item.images if _safe_url(i)), None) if options.discord.images != "none" else None
        if image:  # a thumbnail keeps a section on a phone screen; "full" is the wide picture under the text
            embed["thumbnail" if options.discord.images == "thumbnail" else "image"] = {"url": _safe_url(image)}
        if not (embed.get("title") or embed.get("description") or image):
            return None
        return embed

    def _section_embeds(self, issue: IssueRef, section: Section, lang: str,
                        options: _Options = _Options()) -> list[DiscordPayload]:
        """Items as embeds, ≤ 10 and ≤ 6000 units per message; the footer once, on a message's last embed."""
        footer = {"text": _truncate_words(f"{issue.label} · {section.title or section.heading}", FOOTER_LIMIT)}
        room = EMBED_TOTAL_LIMIT - utf16_len(footer["text"])
        groups = _embed_groups(self._item_embeds(section, lang, options, room), room)
        header = self.section_header(issue, section)
        if not groups:
            return [DiscordPayload(content=_truncate_words(f"{header}\n{t('discord.empty_section', lang)}",
                                                           CONTENT_LIMIT))]
        for group in groups:
            group[-1]["footer"] = dict(footer)
        count = len(groups)
        return [DiscordPayload(content=_truncate_words(header if count == 1 else f"{header} ({n}/{count})",
                                                       CONTENT_LIMIT), embeds=group)
                for n, group in enumerate(groups, 1)]

    def _item_embeds(self, section: Section, lang: str, options: _Options,
                     message_room: int) -> list[dict[str, Any]]:
        """One embed per item with text; a run of items shown as lines (link-only ones, by default) is one
        embed listing them, as many lines as its description holds (a whole "Updates from Rust Community")."""
        embeds: list[dict[str, Any]] = []
        run: list[str] = []
        list_room = min(DESCRIPTION_LIMIT, message_room)

        def close_run() -> None:
            # A list that one embed holds is one embed; a longer one is cut in halves of a message's room,
            # so that two fill each message instead of one 4096-unit embed per message.
            whole = utf16_len("\n".join(run)) <= list_room
            for body in split_lines(run, list_room if whole else min(list_room, message_room // 2)):
                embeds.append({"type": "rich", "color": section_color(section.key), "description": body})
            run.clear()

        for item in section.items:
            if options.look.as_line(item) and (line := _list_line(item)) is not None:
                run.append(line)
                continue
            close_run()
            if (embed := self._item_embed(section, item, lang, options)) is not None:
                embeds.append(embed)
        close_run()
        return embeds

    def _section_compact(self, issue: IssueRef, section: Section, lang: str) -> list[DiscordPayload]:
        """`compact = true`: the header, then one line per item, its title (or first words) linking to it."""
        header = f"**{self.section_header(issue, section)}**"
        lines = []
        for item in section.items:
            label = escape_text(item_label(item, 200))
            url = _safe_url(item.url)
            if label:
                lines.append(f"- [{label}](<{url}>)" if url else f"- {label}")
        bodies = split_lines(lines or [t("discord.empty_section", lang)], CONTENT_LIMIT - utf16_len(header) - 12)
        count = len(bodies)
        return [DiscordPayload(content=f"{header if count == 1 else f'{header} ({n}/{count})'}\n{body}")
                for n, body in enumerate(bodies, 1)]

    def _item_text(self, item: Item, budget: int, lang: str, look: Presentation = PLAIN) -> str:
        url = _safe_url(item.url)
        title = ""
        if item.title.strip():
            title = escape_text(_truncate_words(item.title.strip(), 300))
            title = f"**[{title}](<{url}>)**" if url else f"**{title}**"
        body_budget = min(budget - (utf16_len(title) + 1 if title else 0), look.max_item_chars or budget)
        body = fit_blocks(item.body, body_budget, more_url=item.url, more_label=t("discord.read_more", lang),
                          angle_links=True)
        return "\n".join(p for p in (title, body) if p.strip())

    def _section_text(self, issue: IssueRef, section: Section, lang: str,
                      look: Presentation = PLAIN) -> list[DiscordPayload]:
        header = f"**{self.section_header(issue, section)}**"
        budget = CONTENT_LIMIT - utf16_len(header) - 12  # room for the header and a " (n/m)" counter
        items = [s for s in (self._item_text(i, budget, lang, look) for i in section.items) if s]
        bodies = split_lines(items, budget, separator="\n\n") or [t("discord.empty_section", lang)]
        count = len(bodies)
        return [DiscordPayload(content=f"{header if count == 1 else f'{header} ({n}/{count})'}\n{body}")
                for n, body in enumerate(bodies, 1)]

    # ----------------------------------------------------------------------- digest and index
    def _digest(self, issue: IssueRef, sections: Sequence[Section], lang: str, fmt: str) -> list[DiscordPayload]:
        header = f"📰 **{issue.label}** — {escape_text(_truncate_words(issue.title, 300))}"
        lines: list[str] = []
        embeds: list[dict[str, Any]] = []
        for section in sections:
            bullets = []
            for label, item in ((item_label(i, 200), i) for i in section.items):
                if not label:
                    continue
                url = _safe_url(item.url)
                name = escape_text(label)
                bullets.append(f"- [{name}](<{url}>)" if url and fmt == "text" else
                               f"- [{name}]({url})" if url else f"- {name}")
            heading = escape_text(section.heading)
            if fmt == "text":
                lines.append(f"**{heading}** ({len(section.items)})")
                lines.extend(bullets[:10])
            else:
                description = "\n".join(bullets) or t("discord.items_count", lang, count=len(section.items))
                embeds.append({"type": "rich", "color": section_color(section.key),
                               "title": _truncate_words(heading, TITLE_LIMIT),
                               "description": _truncate_lines(description, 1000)})
        if fmt == "text":
            return [DiscordPayload(content=c) for c in split_lines([header, *lines])]
        footer = {"text": _truncate_words(issue.label, FOOTER_LIMIT)}
        groups = _embed_groups(embeds, EMBED_TOTAL_LIMIT - utf16_len(footer["text"]))
        for group in groups:
            group[-1]["footer"] = dict(footer)  # once per message
        return [DiscordPayload(content=header, embeds=g) if g else DiscordPayload(content=header)
                for g in groups or [[]]]

    def _index(self, issue: IssueRef, entries: Sequence[msg.IndexEntry], lang: str) -> list[DiscordPayload]:
        lines = [f"📑 **{t('discord.index_title', lang)} — {issue.label}**"]
        for entry in entries:
            name = escape_text(entry.section.heading)
            url = _safe_url(entry.url)
            lines.append(f"- [{name}](<{url}>)" if url else f"- {name}")
        return [DiscordPayload(content=c) for c in split_lines(lines)]

    # ----------------------------------------------------------------------- answers
    def render_answer(self, answer: msg.Answer) -> list[Rendered[DiscordPayload]]:
        """A query answer as messages; errors are ephemeral (only the asker sees them)."""
        match answer:
            case msg.SectionAnswer():
                payloads = self._section_answer(answer)
            case msg.SectionList(message=message, sections=refs):  # the message names the issue once
                payloads = _messages([*_escaped(message), *map(_section_count, refs)])
            case msg.IssueList(lang=lang, message=message, issues=issues):
                payloads = _messages([*_escaped(message), *(_issue_line(issue, lang) for issue in issues)])
            case msg.SearchResults(message=message, hits=hits):
                payloads = _messages([*_escaped(message), *map(_hit_line, hits)])
            case msg.NotFound(message=message, choices=refs):
                payloads = _messages([*(_escaped(message) or [_ELLIPSIS]), *(_bullet(r.heading) for r in refs)])
            case msg.ErrorAnswer(message=message) | msg.Help(message=message) | msg.Notice(message=message) | \
                    msg.Subscribed(message=message) | msg.LanguageSet(message=message):
                payloads = _messages(_escaped(message) or [_ELLIPSIS])
            case _:
                assert_never(answer)
        ephemeral = isinstance(answer, msg.ErrorAnswer | msg.NotFound)
        return [_reply(payload, ephemeral) for payload in payloads or [DiscordPayload(content=_ELLIPSIS)]]

    def _section_answer(self, answer: msg.SectionAnswer) -> list[DiscordPayload]:
        """The section's embeds, the fallback note on top, ◀ ▶ under the last message."""
        payloads = self._section_embeds(answer.issue, answer.section, answer.lang)
        if answer.note:  # e.g. "no FR edition of this issue; here is the EN one"
            payloads[0]["content"] = _truncate_words(f"{escape_text(answer.note)}\n{payloads[0]['content']}",
                                                     CONTENT_LIMIT)
        buttons = [PageButtonSpec(label=label, token=token) for label, token in
                   (("◀", answer.prev_page), ("▶", answer.next_page)) if token]
        if buttons:  # prev/next section of the same edition; tokens are the engine's, ≤ 40 ASCII
            payloads[-1]["buttons"] = buttons
        return payloads


_LIST_LINE_MAX = 1000  # a list line longer than this (a monstrous URL) is shown as an embed of its own


def _list_line(item: Item) -> str | None:
    """`- [title](url)`: an item as one line of a list embed; None when it cannot be one."""
    label = escape_text(item_label(item, 200))
    if not label:
        return None
    url = _safe_url(item.url)
    line = f"- [{label}]({url})" if url else f"- {label}"
    if tags := link_tags(item):
        line = f"{line} {escape_text(_truncate_words(tags, 60))}"
    return line if utf16_len(line) <= _LIST_LINE_MAX else None


def _embed_groups(embeds: Sequence[dict[str, Any]], room: int) -> list[list[dict[str, Any]]]:
    """Embeds packed in order into messages of ≤ 10 embeds and ≤ `room` units in total."""
    groups: list[list[dict[str, Any]]] = []
    for embed in embeds:
        if groups and len(groups[-1]) < EMBEDS_PER_MESSAGE and \
                sum(map(embed_length, groups[-1])) + embed_length(embed) <= room:
            groups[-1].append(embed)
        else:
            groups.append([embed])
    return groups


_ROLE_ID = re.compile(r"^\d{17,20}$")


def _mention_role(post: msg.Post, dest: Destination | None) -> str | None:
    """The role the first message of this post pings, if the destination opted in.

    `mention_roles[section key]` for that section's post; else `mention_role` for the first
    post of an issue (the one that notifies). Never for an index, never an invalid id.
    """
    if dest is None:
        return None
    options = dest.discord
    role: str | None = None
    if isinstance(post, msg.SectionPost):
        role = options.mention_roles.get(post.section.key)
    if role is None and post.notify and not isinstance(post, msg.IndexPost):
        role = options.mention_role
    role = str(role or "")
    return role if _ROLE_ID.match(role) else None


def _escaped(message: str) -> list[str]:
    """A message's lines, each escaped (escaping alone would fold the lines of /help into one)."""
    return [escape_text(line) for line in message.split("\n") if line.strip()]


def _messages(lines: Sequence[str]) -> list[DiscordPayload]:
    return [DiscordPayload(content=c) for c in split_lines(lines)]


def _reply(payload: DiscordPayload, ephemeral: bool) -> Rendered[DiscordPayload]:
    if ephemeral:
        payload["ephemeral"] = True
    return Rendered(kind="embeds" if payload.get("embeds") else "text", text=payload.get("content", ""),
                    payload=payload)


def _issue_title(issue: IssueRef) -> str:
    return f"**{issue.label}** — {escape_text(_truncate_words(issue.title, 300))}"


def _bullet(text: str) -> str:
    return f"- {escape_text(text)}"


def _section_count(ref: SectionRef) -> str:
    return f"{_bullet(ref.heading)} ({ref.item_count})"


def _issue_line(edition: IssueRef, lang: str) -> str:
    """`- [label](<link>) — title · 17 mars 2020`: the day as the reader's language writes it."""
    url = _safe_url(edition.link)
    label = f"[{edition.label}](<{url}>)" if url else edition.label
    day = f" · {format_date(edition.published, lang)}" if edition.published else ""
    return f"- {label} — {escape_text(_truncate_words(edition.title, 200))}{day}"


def _hit_line(hit: msg.SearchHit) -> str:
    url = _safe_url(hit.url)
    title = escape_text(_truncate_words(hit.item_title or hit.section.heading, 200))
    title = f"[{title}](<{url}>)" if url else title
    return (f"- {hit.section.emoji} **{title}** — {hit.issue.label}\n"
            f"  {escape_text(_truncate_words(hit.snippet, 300))}")


def _truncate_lines(text: str, limit: int) -> str:
    """Whole lines up to `limit` units, then "…"."""
    if utf16_len(text) <= limit:
        return text
    out = ""
    for line in text.split("\n"):
        if utf16_len(out) + utf16_len(line) + 3 > limit:
            break
        out = f"{out}\n{line}" if out else line
    return (out + "\n…") if out else _truncate_words(text, limit)
