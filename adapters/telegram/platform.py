"""TelegramSender: posts and edits on Telegram (python-telegram-bot 22), on the one lifecycle base.

One PTB `Application` per connection carries the bot used by the outbox and, when a
`TelegramCommands` serves on the same sender, the long-polling command loop; one
`FloodLimiter` (PTB's rate-limiter seam) paces both, so replies and posts together stay
within Telegram's limits. A fresh Application is built at every `start`, so close → start
→ serve works any number of times.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated
from telegram.ext import Application, ApplicationBuilder

from adapters.base import Connection
from adapters.telegram.errors import delivery_error, token_refused
from adapters.telegram.limiter import FloodLimiter
from adapters.telegram.payloads import Button, MediaGroupPayload, PhotoPayload, TelegramPayload, TextPayload, payload_of
from bot.core.errors import DeliveryError, Rejected
from bot.ports import Destination, Rendered, Sent

__all__ = ["DEFAULT_API_BASE", "TelegramSender", "chat_id_of", "markup", "message_url", "telegram_language_code"]

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.telegram.org/bot"
App = Application[Any, Any, Any, Any, Any, Any]


def chat_id_of(chat: str) -> int | str:
    """Telegram wants an integer id, or "@username" for public channels."""
    chat = chat.strip()
    if chat.lstrip("-").isdigit():
        return int(chat)
    return chat if chat.startswith("@") else f"@{chat}"


def telegram_language_code(lang: str) -> str | None:
    """Our catalogue code as Telegram's `language_code`: "pt-br" → "pt", "zh" → "zh".

    Telegram only takes two-letter ISO 639-1 codes there (anything else is a 400), and
    matches them against the base of the user's IETF tag, so "pt" reaches pt-BR users.
    None when the code has no two-letter base.
    """
    base = lang.strip().lower().replace("_", "-").split("-")[0]
    return base if len(base) == 2 and base.isascii() and base.isalpha() else None


def message_url(message: Message) -> str | None:
    """t.me link of a message: t.me/<username>/<id> when public, t.me/c/<id>/<msg> for private channels."""
    chat = message.chat
    if chat.username:
        return f"https://t.me/{chat.username}/{message.message_id}"
    text = str(chat.id)
    if text.startswith("-100"):
        return f"https://t.me/c/{text[4:]}/{message.message_id}"
    return None


def markup(buttons: Sequence[Sequence[Button]] | None) -> InlineKeyboardMarkup | None:
    """Button rows of a payload as PTB's inline keyboard (None when there are none)."""
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b["text"], callback_data=b["data"]) for b in row]
                                 for row in buttons])


class TelegramSender(Connection[TelegramPayload]):
    """Delivers rendered Telegram messages (see `bot.ports.Sender`).

    Args:
        token: the bot token (redacted from every error and log line).
        base_url: Bot API root; PTB calls `{base_url}{token}/{method}` (the test seam: a fake's URL).
        base_file_url: file download root, if not the default.
        limiter: flood control shared by posts and command replies (default: Telegram's limits).
        poll_timeout: getUpdates long-poll duration in seconds (used by `TelegramCommands`).
        connection_pool_size: concurrent HTTP connections of the bot.
        token_key, token_source: how a refused token is reported (`telegram.token_env`, `$TELEGRAM_BOT_TOKEN`).
    """

    def __init__(self, token: str, *, base_url: str = DEFAULT_API_BASE, base_file_url: str | None = None,
                 limiter: FloodLimiter | None = None, poll_timeout: float = 10.0, connection_pool_size: int = 32,
                 token_key: str = "telegram.token_env", token_source: str = "$TELEGRAM_BOT_TOKEN") -> None:
        super().__init__("telegram", secrets=(token,), token_key=token_key, token_source=token_source)
        self._token = token
        self.base_url = base_url
        self.base_file_url = base_file_url
        self.limiter = limiter or FloodLimiter()
        self.poll_timeout = poll_timeout
        self.migrations: dict[str, str] = {}  # old chat id → new one, learnt from migrate_to_chat_id
        self._pool = connection_pool_size
        self._app: App | None = None

    def __repr__(self) -> str:  # never show the token
        return f"TelegramSender(base_url={self.base_url!r})"

    @property
    def application(self) -> App:
        """The connected Application (after `start`)."""
        if self._app is None:
            raise RuntimeError("TelegramSender.start() must be awaited first")
        return self._app

    # ------------------------------------------------------------------ lifecycle (wire calls)
    async def _connect(self) -> None:
        builder = (ApplicationBuilder().token(self._token).base_url(self.base_url)
                   .rate_limiter(self.limiter).connection_pool_size(self._pool)
                   .concurrent_updates(16).get_updates_read_timeout(self.poll_timeout + 10))
        if self.base_file_url:
            builder = builder.base_file_url(self.base_file_url)
        self._app = builder.build()
        await self._app.initialize()  # getMe: a refused token fails here

    async def _disconnect(self) -> None:
        app, self._app = self._app, None
        if app is None:
            return
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    def _token_refused(self, exc: BaseException) -> bool:
        return token_refused(exc)

    def _payload(self, kind: str, payload: Mapping[str, Any]) -> TelegramPayload:
        return payload_of(kind, payload)

    def _delivery_error(self, exc: Exception, destination: str) -> DeliveryError | None:
        return delivery_error(exc, destination)

    # ------------------------------------------------------------------ delivery (wire calls)
    async def _send(self, dest: Destination, part: Rendered[TelegramPayload], key: str) -> Sent:
        """Deliver one message; a migrated group is followed once and remembered in `migrations`."""
        payload = part.payload
        chat = self.migrations.get(dest.chat, dest.chat)
        migrated_from: str | None = None
        try:
            messages = await self._deliver(chat_id_of(chat), part.kind, payload, part.notify)
        except ChatMigrated as moved:
            new_chat = str(moved.new_chat_id)
            log.warning("destination %s: chat %s migrated to %s; following", dest.name, chat, new_chat)
            self.migrations[dest.chat] = new_chat
            migrated_from = chat
            try:
                messages = await self._deliver(int(moved.new_chat_id), part.kind, payload, part.notify)
            except ChatMigrated as again:
                raise Rejected(dest.name, f"chat migrated twice (to {again.new_chat_id})") from None
        first = messages[0]
        name = first.chat.title or (f"@{first.chat.username}" if first.chat.username else None)
        return Sent(chat_id=str(first.chat.id), message_ids=tuple(str(m.message_id) for m in messages),
                    url=message_url(first), migrated_from=migrated_from, chat_name=name)

    async def _deliver(self, chat_id: int | str, kind: str, payload: TelegramPayload,
                       notify: bool) -> list[Message]:
        common: dict[str, Any] = {
            "chat_id": chat_id,
            "message_thread_id": payload.get("thread"),
            "disable_notification": not notify,
            "rate_limit_args": {"retries": 0},  # the outbox owns retries
        }
        bot = self.application.bot
        if kind == "photo":
            photo: PhotoPayload = payload  # type: ignore[assignment]
            return [await bot.send_photo(photo=photo["photo"], caption=photo.get("caption") or None,
                                         parse_mode=ParseMode.HTML, **common)]
        if kind == "media_group":
            group: MediaGroupPayload = payload  # type: ignore[assignment]
            media = [InputMediaPhoto(media=m["media"], caption=m.get("caption"),
                                     parse_mode=ParseMode.HTML if m.get("caption") else None)
                     for m in group["media"]]
            return list(await bot.send_media_group(media=media, **common))
        text: TextPayload = payload  # type: ignore[assignment]
        return [await bot.send_message(
            text=text["html"], parse_mode=ParseMode.HTML, link_preview_options=_preview_options(text),
            reply_markup=markup(text.get("buttons")), **common)]

    async def _edit(self, dest: Destination, sent: Sent, part: Rendered[TelegramPayload]) -> Sent:
        """Replace a sent message's text or caption (e.g. the index when a section is added later)."""
        bot = self.application.bot
        chat_id = chat_id_of(self.migrations.get(sent.chat_id, sent.chat_id))
        message_id = int(sent.message_ids[0])
        try:
            if part.kind == "text":
                text: TextPayload = part.payload  # type: ignore[assignment]
                await bot.edit_message_text(
                    text=text["html"], chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML,
                    reply_markup=markup(text.get("buttons")), link_preview_options=_preview_options(text))
            else:
                payload: Any = part.payload
                caption = payload.get("caption") or (payload.get("media") or [{}])[0].get("caption")
                await bot.edit_message_caption(chat_id=chat_id, message_id=message_id, caption=caption,
                                               parse_mode=ParseMode.HTML)
        except ChatMigrated as moved:
            raise Rejected(dest.name, f"chat migrated to {moved.new_chat_id}; resend instead") from None
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise
        return sent


def _preview_options(text: TextPayload) -> LinkPreviewOptions:
    """The destination's link-preview choice, or the section's image as a large preview above the text."""
    image = text.get("image")
    if image:
        return LinkPreviewOptions(url=image, prefer_large_media=True, show_above_text=True)
    return LinkPreviewOptions(is_disabled=not text.get("preview", False))
