"""Posts and answers → Telegram messages (strict HTML) within Telegram's limits; pure.

Every message is built from escaped fragments whose parsed length is known, so what
`render` returns is what Telegram accepts: ≤ 4096 units per text, ≤ 1024 per caption,
2–10 photos per media group, buttons whose data is ≤ 64 bytes.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import assert_never

from adapters.telegram.layout import BLOCK, CHAR, ITEM, Flow, compose
from adapters.telegram.markup import Fragment, escape
from adapters.telegram.payloads import Button, MediaGroupPayload, PhotoItem, PhotoPayload, TelegramPayload, TextPayload
from bot.contract.presentation import PLAIN, Presentation, item_label, link_tags, shorten
from bot.core import messages as msg
from bot.core.i18n import format_date, t
from bot.core.models import Block, IssueRef, Item, Section, SectionRef, Span
from bot.core.truncate import truncate
from bot.core.urls import safe_url
from bot.ports import Destination, Rendered

__all__ = ["CAPTION_LIMIT", "TEXT_LIMIT", "TelegramRenderer"]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
_MEDIA_GROUP_MAX = 10
_TITLE_MAX = 200
_IMAGE = re.compile(r"\.(jpe?g|png|webp)(\?.*)?$", re.IGNORECASE)


def _clip(text: str, limit: int = _TITLE_MAX) -> str:
    """One line of at most `limit` code points, whitespace collapsed (titles come from the feed)."""
    return truncate(" ".join(text.split()), limit)


def _link(text: str, url: str | None) -> Fragment:
    href = safe_url(url)
    if href is None:
        return Fragment.plain(text)
    return Fragment.raw(f'<a href="{html.escape(href, quote=True)}">{escape(text)}</a>', text)


def _bold(text: str) -> Fragment:
    return Fragment.raw(f"<b>{escape(text)}</b>", text)


def _italic(text: str) -> Fragment:
    return Fragment.raw(f"<i>{escape(text)}</i>", text)


def _issue_line(issue: IssueRef) -> Fragment:
    return _link(_clip(issue.label), issue.link)


def _section_title(emoji: str, title: str) -> Fragment:
    title = _clip(title) or "—"
    if emoji and emoji not in title:  # a heading that already carries its emoji gets it once
        return Fragment.plain(f"{_clip(emoji, 8)} ") + _bold(title)
    return _bold(title)


def _ui_lang(lang: str) -> str:
    return lang if lang in ("en", "fr") else lang.split("-")[0]


#: A message before it becomes `Rendered`: its kind, plain text and payload.
_Part = tuple[str, str, TelegramPayload]


@dataclass(frozen=True, slots=True)
class _Place:
    """Where a post's messages go (forum topic) and whether texts show a link preview: builds their payloads.

    The keys keep the order the outbox has always stored (the payload, then thread, then preview).
    """

    thread: int | None
    preview: bool

    def text(self, message: Fragment, image: str | None = None) -> _Part:
        payload = TextPayload(html=message.html, thread=self.thread, preview=self.preview)
        if image:
            payload["image"] = image
        return "text", message.text, payload

    def photo(self, text: str, url: str, caption: str) -> _Part:
        return "photo", text, PhotoPayload(photo=url, caption=caption, thread=self.thread)

    def media_group(self, text: str, media: list[PhotoItem]) -> _Part:
        return "media_group", text, MediaGroupPayload(media=media, thread=self.thread)


class TelegramRenderer:
    """Builds `Rendered` messages; holds no state but its limits, so it is safe to share."""

    def __init__(self, *, text_limit: int = TEXT_LIMIT, caption_limit: int = CAPTION_LIMIT) -> None:
        self.text_limit = text_limit
        self.caption_limit = caption_limit

    # ------------------------------------------------------------------ posts
    def render(self, post: msg.Post, dest: Destination) -> list[Rendered[TelegramPayload]]:
        """A post for one destination, honouring its options (images, link_preview, topic(s))."""
        options = dest.telegram
        preview = options.link_preview
        match post:
            case msg.SectionPost(issue=issue, section=section):
                thread = options.thread_for(section.key)
                parts = self._section_messages(section, issue, options.images,
                                               dest.presentation, _Place(thread, preview))
            case msg.DigestPost():
                parts = self._digest_messages(post, _Place(options.thread_for(None), preview))
            case msg.IndexPost():
                parts = self._index_messages(post, _Place(options.thread_for(None), preview))
            case _:
                assert_never(post)
        return [Rendered(kind=kind, text=text, payload=payload, notify=post.notify and index == 0)
                for index, (kind, text, payload) in enumerate(parts)]

    def section_texts(self, section: Section, issue: IssueRef, *, note: str = "",
                      look: Presentation = PLAIN) -> list[Fragment]:
        """The text messages of a section: numbered parts of similar length, split at item/paragraph/sentence
        breaks."""
        lang = _ui_lang(issue.language)
        flow = Flow()
        if note.strip():
            flow.add_spans((Span(note.strip(), italic=True),), ITEM)
        listed = False  # the previous item was a line of a list: the next line follows it without a blank
        for item in section.items:
            if look.as_line(item):
                label = item_label(item)
                if label:
                    tags = link_tags(item)
                    line = Fragment.plain("• ") + _link(label, item.url)
                    flow.add(line + Fragment.plain(f" {_clip(tags, 60)}") if tags else line, ITEM,
                             "\n" if listed else None)
                    listed = True
            else:
                self._add_item(flow, item, lang, look.max_item_chars)
                listed = False
        title = _section_title(section.emoji, section.title or section.heading)
        return compose(title, flow, subtitle=_issue_line(issue), limit=self.text_limit)

    def _add_item(self, flow: Flow, item: Item, lang: str, max_chars: int | None = None) -> None:
        strength, separator = ITEM, None
        if item.title.strip():
            flow.add_spans((Span(_clip(item.title, 1000), bold=True),), strength)
            strength, separator = CHAR, "\n"  # a title is never left alone at the end of a message
        linked = {span.href for block in item.body for span in block.spans if span.href}
        if max_chars is not None and len(item.text) > max_chars:  # shortened: the link leads to the rest
            flow.add_spans((Span(shorten(item.text, max_chars)),), strength, separator=separator)
            strength, separator, linked = BLOCK, None, set()
        else:
            for block in item.body:
                if block.text.strip():
                    flow.add_block(block, strength, separator=separator)
                    strength, separator = BLOCK, None
        source = next((s for s in (*item.sources, item.url or "") if safe_url(s)), None)
        if source and source not in linked:
            flow.add(Fragment.plain("🔗 ") + _link(t("telegram.source", lang), source), strength, separator)

    def _section_messages(self, section: Section, issue: IssueRef, images: str,
                          look: Presentation, place: _Place) -> list[_Part]:
        parts: list[_Part] = []
        photos = self._images(section, images)
        if images == "first" and photos:
            # A section short enough to be a caption is one photo message; a longer one keeps its text
            # messages and shows the picture as the first one's link preview: never a message more than
            # without the image, and no section cut in two to fit 1,024 characters.
            messages = self.section_texts(section, issue, look=look)
            if len(messages) == 1 and messages[0].size <= self.caption_limit:
                return [place.photo(messages[0].text, photos[0], messages[0].html)]
            return [place.text(m, photos[0] if n == 0 else None) for n, m in enumerate(messages)]
        if photos:
            caption = _section_title(section.emoji, section.title or section.heading)
            caption = caption + Fragment.plain("\n") + _issue_line(issue)
            if caption.size > self.caption_limit:
                caption = Fragment.plain(_clip(caption.text, self.caption_limit // 2))
            parts.extend(self._photo_parts(photos, caption, place))
        for message in self.section_texts(section, issue, look=look):
            parts.append(place.text(message))
        return parts

    @staticmethod
    def _images(section: Section, mode: str) -> list[str]:
        if mode not in ("first", "all"):
            return []
        urls: list[str] = []
        for item in section.items:
            for url in item.images:
                good = safe_url(url)
                if good and good.lower().startswith("http") and _IMAGE.search(good) and good not in urls:
                    urls.append(good)
        return urls[:1] if mode == "first" else urls

    @staticmethod
    def _photo_parts(urls: Sequence[str], caption: Fragment, place: _Place) -> list[_Part]:
        if len(urls) == 1:
            return [place.photo(caption.text, urls[0], caption.html)]
        groups = math.ceil(len(urls) / _MEDIA_GROUP_MAX)
        size = math.ceil(len(urls) / groups)  # even sizes: 11 photos → 6 + 5, never a group of 1
        parts: list[_Part] = []
        for start in range(0, len(urls), size):
            chunk = urls[start:start + size]
            media = [PhotoItem(type="photo", media=url) for url in chunk]
            if start == 0:
                media[0]["caption"] = caption.html
            parts.append(place.media_group(caption.text if start == 0 else "", media))
        return parts

    def _digest_messages(self, post: msg.DigestPost, place: _Place) -> list[_Part]:
        flow = Flow()
        for section in post.sections:
            flow.add(_section_title(section.emoji, section.title or section.heading), ITEM)
            for item in section.items:
                label = item_label(item)
                if label:
                    flow.add(Fragment.plain("• ") + _link(label, item.url), BLOCK)
        title = Fragment.plain("📰 ") + _bold(_clip(post.issue.title))
        return [place.text(m)
                for m in compose(title, flow, subtitle=_issue_line(post.issue), limit=self.text_limit)]

    def _index_messages(self, post: msg.IndexPost, place: _Place) -> list[_Part]:
        flow = Flow()
        for entry in post.entries:
            flow.add(_link(_clip(entry.section.heading), entry.url), BLOCK)
        title = Fragment.plain("📚 ") + _bold(_clip(post.issue.title))
        return [place.text(m)
                for m in compose(title, flow, subtitle=_issue_line(post.issue), limit=self.text_limit)]

    # ------------------------------------------------------------------ answers
    def render_answer(self, answer: msg.Answer) -> list[Rendered[TextPayload]]:
        """A command reply; paging tokens become ◀ ▶ buttons under the last message."""
        if isinstance(answer, msg.SectionAnswer):
            messages = self.section_texts(answer.section, answer.issue, note=answer.note)
        else:
            title, flow = self._answer_flow(answer, _ui_lang(answer.lang))
            messages = compose(title, flow, limit=self.text_limit)
        buttons = _buttons(answer)
        rendered: list[Rendered[TextPayload]] = []
        for index, message in enumerate(messages):
            payload = TextPayload(html=message.html, preview=False, thread=None)
            if buttons and index == len(messages) - 1:
                payload["buttons"] = buttons
            rendered.append(Rendered(kind="text", text=message.text, payload=payload))
        return rendered

    def _answer_flow(self, answer: msg.Answer, lang: str) -> tuple[Fragment, Flow]:
        """A title from the answer's first line (or its edition), the rest and its listing below."""
        flow = Flow()
        text = answer.note if isinstance(answer, msg.SectionAnswer) else answer.message
        lines = [line for line in text.split("\n") if line.strip()]
        first, rest = (_clip(lines[0], 300), lines[1:]) if lines else (None, [])
        match answer:
            case msg.ErrorAnswer() | msg.NotFound():  # a sentence, not a heading: plain, the ⚠️ marks it
                title = Fragment.plain(f"⚠️ {first or t('telegram.error', lang)}")
            case msg.SectionList(issue=issue) if lines:  # "Latest issue: …" is the title line, not repeated below
                title = Fragment.plain("📚 ") + _link(_clip(lines[-1], 300), issue.link)
                rest = lines[:-1]
            case msg.SectionList(issue=issue) | msg.SectionAnswer(issue=issue):
                title = Fragment.plain("📚 ") + _link(_clip(issue.label), issue.link)
                rest = lines
            case msg.IssueList() | msg.SearchResults():
                title = _bold(first) if first is not None else Fragment.plain("ℹ️")
            case msg.Help() | msg.Notice() | msg.Subscribed() | msg.LanguageSet():
                title = Fragment.plain(first) if first is not None else Fragment.plain("ℹ️")
            case _:
                assert_never(answer)
        for line in rest:
            flow.add_spans((Span(line),), BLOCK)
        self._add_listing(flow, answer, lang)
        return title, flow

    def _add_listing(self, flow: Flow, answer: msg.Answer, lang: str) -> None:
        match answer:
            case msg.SectionList(sections=refs) | msg.NotFound(choices=refs):
                for number, ref in enumerate(refs):
                    flow.add(self._section_line(ref, lang), BLOCK if number else ITEM)
            case msg.IssueList(issues=issues):
                for number, issue in enumerate(issues):
                    day = f" · {format_date(issue.published, lang)}" if issue.published else ""
                    flow.add(Fragment.plain("• ") + _link(_clip(issue.label), issue.link)
                             + Fragment.plain(f" — {_clip(issue.title, 150)}{day}"), BLOCK if number else ITEM)
            case msg.SearchResults(hits=hits):
                for hit in hits:
                    self._add_hit(flow, hit, lang)
            case _:
                pass

    @staticmethod
    def _section_line(ref: SectionRef, lang: str) -> Fragment:
        line = Fragment.plain(f"{ref.position + 1}. ") + Fragment.plain(_clip(ref.heading))
        if ref.item_count:
            line = line + Fragment.plain(" — " + t("telegram.items", lang, count=ref.item_count))
        return line

    @staticmethod
    def _add_hit(flow: Flow, hit: msg.SearchHit, lang: str) -> None:
        title = _clip(hit.item_title, 200) or _clip(hit.section.heading)
        flow.add(_link(title, hit.url) if hit.url else _bold(title), ITEM)
        where = f"{_clip(hit.section.heading, 80)} · {_clip(hit.issue.label, 80)}"
        flow.add(_italic(where), BLOCK)
        if hit.snippet.strip():
            flow.add_block(Block("paragraph", (Span(_clip(hit.snippet, 600)),)), BLOCK)


def _buttons(answer: msg.Answer) -> list[list[Button]]:
    """◀ ▶ for the answers that page (tokens ≤ 64 bytes, Telegram's callback data limit)."""
    tokens: tuple[tuple[str, str | None], ...]
    match answer:
        case msg.SectionAnswer(prev_page=previous, next_page=following):
            tokens = (("◀", previous), ("▶", following))
        case msg.SectionList(next_page=following) | msg.NotFound(next_page=following):
            tokens = (("▶", following),)
        case _:
            tokens = ()
    row = [Button(text=label, data=token) for label, token in tokens
           if token and 0 < len(token.encode("utf-8")) <= 64]
    return [row] if row else []
