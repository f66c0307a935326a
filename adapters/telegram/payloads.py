"""The Telegram message payloads the renderer produces and the sender reads, one type per kind.

They are TypedDicts, so a payload is plain JSON in the outbox and a checked structure in
code; `payload_of` turns a stored payload back into its type at the sender's door.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict, cast, final

__all__ = ["Button", "MediaGroupPayload", "PhotoItem", "PhotoPayload", "TelegramPayload", "TextPayload",
           "payload_of"]


class Button(TypedDict):
    """An inline button: its label and the callback data (a paging token, ≤ 64 bytes)."""

    text: str
    data: str


@final  # closed: `"html" in payload` etc. narrows a `TelegramPayload` to its kind
class TextPayload(TypedDict):
    """sendMessage: strict HTML, link preview on or off, forum topic, optional button rows.

    `image` (a section's picture when its text is too long to be a photo's caption) is shown as the
    message's large link preview, above the text: the picture without a message of its own.
    """

    html: str
    preview: NotRequired[bool]
    image: NotRequired[str]
    thread: NotRequired[int | None]
    buttons: NotRequired[list[list[Button]]]


@final
class PhotoPayload(TypedDict):
    """sendPhoto: one image with an HTML caption."""

    photo: str
    caption: NotRequired[str | None]
    thread: NotRequired[int | None]


class PhotoItem(TypedDict):
    type: NotRequired[str]
    media: str
    caption: NotRequired[str]


@final
class MediaGroupPayload(TypedDict):
    """sendMediaGroup: 2–10 images, the first one captioned."""

    media: list[PhotoItem]
    thread: NotRequired[int | None]


TelegramPayload = TextPayload | PhotoPayload | MediaGroupPayload

_REQUIRED = {"text": ("html", str), "photo": ("photo", str), "media_group": ("media", list)}


def payload_of(kind: str, payload: Mapping[str, Any]) -> TelegramPayload:
    """A stored payload as the type its `kind` names.

    Raises:
        ValueError: the kind is unknown or its required field is missing (the row can never be sent).
    """
    required = _REQUIRED.get(kind)
    if required is None:
        raise ValueError(f"unknown Telegram message kind {kind!r}")
    key, expected = required
    if not isinstance(payload.get(key), expected):
        raise ValueError(f"a {kind} payload needs {key!r}")
    return cast(TelegramPayload, payload)
