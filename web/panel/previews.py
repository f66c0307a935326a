"""Rendered platform messages → what the panel draws: a Telegram bubble, a Discord embed card.

Input is exactly what the platform's renderer produced (the outbox stores the same),
so a preview shows what the chat will show. Telegram's HTML comes from our strict
renderer, and is still passed through an allow-list of Telegram's own tags before it
reaches the page; Discord markdown is shown as text (Jinja escapes it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import nh3
from markupsafe import Markup

from bot.contract.destination import platform_options
from bot.core.messages import SectionPost
from bot.core.models import Issue, Section
from bot.core.urls import safe_href
from bot.ports import Destination, Rendered
from web.panel.state import Measure, PreviewFace

__all__ = ["EmbedCard", "MessagePreview", "SectionPreview", "preview_parts", "preview_sections", "sanitize_html"]

#: The tags Telegram's HTML parse mode knows (https://core.telegram.org/bots/api#html-style).
_TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote",
                  "span", "tg-spoiler", "tg-emoji"}
_TELEGRAM_ATTRIBUTES = {"a": {"href"}, "span": {"class"}, "code": {"class"}, "blockquote": {"expandable"}}


def _attribute(element: str, attribute: str, value: str) -> str | None:
    """Links pass the project's one URL sanitiser (bot.core.urls) on top of nh3's scheme list."""
    return safe_href(value) if attribute == "href" else value


def sanitize_html(html: str) -> Markup:
    """Telegram HTML reduced to Telegram's tags, http(s)/mailto/tg links only; safe to put in the page."""
    clean = nh3.clean(html, tags=_TELEGRAM_TAGS, attributes=_TELEGRAM_ATTRIBUTES,
                      url_schemes={"http", "https", "mailto", "tg"}, link_rel="noopener noreferrer nofollow",
                      attribute_filter=_attribute)
    return Markup(clean)  # noqa: S704 — nh3's output, Telegram's tag set only


@dataclass(frozen=True, slots=True)
class EmbedCard:
    color: str  # "#e67e22"
    title: str
    url: str | None
    description: str
    fields: tuple[tuple[str, str], ...]
    image: str | None
    footer: str


@dataclass(frozen=True, slots=True)
class MessagePreview:
    """One platform message: Telegram `html` (+ photos) or Discord `content` + `embeds`."""

    kind: str
    text: str
    html: Markup | None = None
    photos: tuple[str, ...] = ()
    embeds: tuple[EmbedCard, ...] = ()
    measures: tuple[Measure, ...] = ()
    notify: bool = True


@dataclass(frozen=True, slots=True)
class SectionPreview:
    """A section as each platform will show it."""

    section: Section
    by_platform: dict[str, tuple[MessagePreview, ...]] = field(default_factory=dict)


def _https(url: Any) -> str | None:
    """An image or embed link: https only (the CSP's img-src), after the one URL sanitiser."""
    safe = safe_href(url)
    return safe if safe is not None and safe.startswith("https://") else None


def _embed(data: Mapping[str, Any]) -> EmbedCard:
    color = data.get("color")
    fields = tuple((str(f.get("name", "")), str(f.get("value", ""))) for f in data.get("fields", ()))
    return EmbedCard(color=f"#{color:06x}" if isinstance(color, int) else "#4f545c", title=str(data.get("title", "")),
                     url=_https(data.get("url")), description=str(data.get("description", "")), fields=fields,
                     image=_https((data.get("image") or {}).get("url")),
                     footer=str((data.get("footer") or {}).get("text", "")))


def _message(face: PreviewFace | None, part: Rendered) -> MessagePreview:
    if face is None:  # a platform without a drawn preview (the console): its text as is
        return MessagePreview(part.kind, part.text, notify=part.notify)
    payload = part.payload
    measures = tuple(face.measure(part))
    if face.platform == "telegram":
        if part.kind == "photo":
            return MessagePreview(part.kind, part.text, sanitize_html(str(payload.get("caption", ""))),
                                  tuple(u for u in [_https(payload.get("photo"))] if u), measures=measures,
                                  notify=part.notify)
        if part.kind == "media_group":
            media = list(payload.get("media", ()))
            caption = str(media[0].get("caption", "")) if media else ""
            return MessagePreview(part.kind, part.text, sanitize_html(caption),
                                  tuple(u for u in (_https(m.get("media")) for m in media) if u), measures=measures,
                                  notify=part.notify)
        return MessagePreview(part.kind, part.text, sanitize_html(str(payload.get("html", part.text))),
                              measures=measures, notify=part.notify)
    if face.platform == "discord":
        return MessagePreview(part.kind, str(payload.get("content", part.text)),
                              embeds=tuple(_embed(e) for e in payload.get("embeds", ())), measures=measures,
                              notify=part.notify)
    return MessagePreview(part.kind, part.text, measures=measures, notify=part.notify)


def preview_parts(face: PreviewFace | None, parts: Sequence[Rendered]) -> tuple[MessagePreview, ...]:
    """Already rendered messages (a dry run of `send`) as the panel draws them."""
    return tuple(_message(face, part) for part in parts)


def sample_destination(platform: str, chosen: Destination | None = None) -> Destination:
    """The options a preview renders with: the chosen destination on its platform, else the platform's defaults.

    Never another destination's options: its role mentions and formats would show on a
    preview they have nothing to do with.
    """
    if chosen is not None and chosen.platform == platform:
        return chosen
    return Destination(name=f"preview-{platform}", platform=platform, chat="preview",
                       options=platform_options(platform, {}))


def preview_sections(issue: Issue, faces: Mapping[str, PreviewFace],
                     chosen: Destination | None = None) -> list[SectionPreview]:
    """Every section of an issue rendered by every platform's renderer, one post each, as a full send posts them.

    Only the issue's first post notifies (and so carries a `mention_role`), as in a real delivery.
    """
    previews = []
    for position, section in enumerate(issue.sections):
        post = SectionPost(issue=issue.ref, section=section, notify=position == 0)
        by_platform = {name: preview_parts(face, face.render(post, sample_destination(name, chosen)))
                       for name, face in faces.items()}
        previews.append(SectionPreview(section, by_platform))
    return previews
