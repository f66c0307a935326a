"""TelegramPlatform: the `bot.ports.Platform` for Telegram, on python-telegram-bot 22.

One PTB `Application` carries everything: the bot used by the outbox (`send`/`edit`), the
long-polling command loop (`serve`) and one `FloodLimiter` shared by both, so replies and
posts together stay within Telegram's limits.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    LinkPreviewOptions,
    Message,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from adapters.telegram.commands import HANDLERS, CommandThrottle, Digest, channel_post, page_callback
from adapters.telegram.errors import ChatMoved, delivery_errors, redact
from adapters.telegram.limiter import FloodLimiter
from adapters.telegram.logsafe import install_token_filter
from adapters.telegram.render import TelegramRenderer
from bot.config import Config
from bot.errors import Rejected
from bot.i18n import supported_languages, t
from bot.messages import Answer, Post
from bot.ports import Destination, Rendered, Sent

if TYPE_CHECKING:
    from bot.query import QueryEngine

__all__ = ["TelegramPlatform", "create_platform", "message_url", "telegram_language_code"]

log = logging.getLogger(__name__)

TIME_SCALE_ENV = "DIGESTBOT_TELEGRAM_TIME_SCALE"  # tests/bench only: shrink every flood window


def _chat_id(chat: str) -> int | str:
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


def _markup(buttons: Sequence[Sequence[dict[str, str]]] | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b["text"], callback_data=b["data"]) for b in row]
                                 for row in buttons])


class TelegramPlatform:
    """Posts, edits and command replies on Telegram (see `bot.ports.Platform`).

    Args:
        token: the bot token (never logged: a filter redacts it from every log record).
        base_url: Bot API root; PTB calls `{base_url}{token}/{method}` (a fake in tests).
        base_file_url: file download root, if not the default.
        commands: answer chat commands in `serve` (and publish them with setMyCommands).
        time_scale: shrink every flood window (tests and the bench, against a fake scaled alike).
        overall, per_chat, per_group: flood limits as (messages, seconds).
        poll_timeout: getUpdates long-poll duration in seconds.
        command_limit: commands per (chat, user) per 10 s before the user is asked to slow down.
    """

    name = "telegram"

    def __init__(self, token: str, *, base_url: str = "https://api.telegram.org/bot",
                 base_file_url: str | None = None, commands: bool = True, time_scale: float = 1.0,
                 overall: tuple[int, float] = (30, 1.0), per_chat: tuple[int, float] = (1, 1.0),
                 per_group: tuple[int, float] = (20, 60.0), poll_timeout: float = 10.0,
                 connection_pool_size: int = 32, command_limit: int = 5) -> None:
        self._token = token
        self.base_url = base_url
        self.base_file_url = base_file_url
        self.commands = commands
        self.poll_timeout = poll_timeout
        self.renderer = TelegramRenderer()
        self.limiter = FloodLimiter(overall=overall, per_chat=per_chat, per_group=per_group,
                                    time_scale=time_scale)
        self.throttle = CommandThrottle(limit=command_limit, period=10.0 * time_scale if time_scale < 1 else 10.0)
        self.migrations: dict[str, str] = {}  # old chat id → new one, learnt from migrate_to_chat_id
        self._pool = connection_pool_size
        self._app: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._started = False
        self._filter = install_token_filter(token)

    def __repr__(self) -> str:
        return f"TelegramPlatform(base_url={self.base_url!r})"

    # ------------------------------------------------------------------ lifecycle
    @property
    def application(self) -> Application[Any, Any, Any, Any, Any, Any]:
        if self._app is None:
            builder = (ApplicationBuilder().token(self._token).base_url(self.base_url)
                       .rate_limiter(self.limiter).connection_pool_size(self._pool)
                       .concurrent_updates(16).get_updates_read_timeout(self.poll_timeout + 10))
            if self.base_file_url:
                builder = builder.base_file_url(self.base_file_url)
            self._app = builder.build()
        return self._app

    async def start(self) -> None:
        """Log in (getMe) so that `send` works; idempotent."""
        if not self._started:
            install_token_filter(self._token)  # loggers created since __init__
            await self.application.initialize()
            self._started = True

    async def close(self) -> None:
        """Stop polling if running and release the HTTP pools; idempotent."""
        app = self._app
        if app is None or not self._started:
            return
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        self._started = False

    # ------------------------------------------------------------------ rendering
    def render(self, post: Post, dest: Destination) -> list[Rendered]:
        """See `TelegramRenderer.render`: pure, within Telegram's limits."""
        return self.renderer.render(post, dest)

    def render_answer(self, answer: Answer) -> list[Rendered]:
        return self.renderer.render_answer(answer)

    # ------------------------------------------------------------------ delivery
    async def send(self, dest: Destination, part: Rendered, *, key: str) -> Sent:
        """Deliver one rendered message to a destination.

        A migrated group is followed once: the message goes to the new id, `Sent.chat_id`
        carries it and `self.migrations` remembers it (the outbox should persist it).

        Raises:
            RetryLater, DestinationForbidden, Rejected: see `adapters.telegram.errors`.
        """
        await self.start()
        chat = self.migrations.get(dest.chat, dest.chat)
        migrated_from: str | None = None
        try:
            with delivery_errors(dest.name, self._token):
                messages = await self._deliver(_chat_id(chat), part)
        except ChatMoved as moved:
            new_chat = str(moved.new_chat_id)
            log.warning("destination %s: chat %s migrated to %s; following", dest.name, chat, new_chat)
            self.migrations[dest.chat] = new_chat
            migrated_from = chat
            try:
                with delivery_errors(dest.name, self._token):
                    messages = await self._deliver(moved.new_chat_id, part)
            except ChatMoved as again:
                raise Rejected(dest.name, f"chat migrated twice (to {again.new_chat_id})") from again
        first = messages[0]
        return Sent(chat_id=str(first.chat.id), message_ids=tuple(str(m.message_id) for m in messages),
                    url=message_url(first), migrated_from=migrated_from)

    async def _deliver(self, chat_id: int | str, part: Rendered) -> list[Message]:
        payload = part.payload
        common: dict[str, Any] = {
            "chat_id": chat_id,
            "message_thread_id": payload.get("thread"),
            "disable_notification": not part.notify,
            "rate_limit_args": {"retries": 0},  # the outbox owns retries
        }
        bot = self.application.bot
        if part.kind == "photo":
            return [await bot.send_photo(photo=payload["photo"], caption=payload.get("caption") or None,
                                         parse_mode=ParseMode.HTML, **common)]
        if part.kind == "media_group":
            media = [InputMediaPhoto(media=m["media"], caption=m.get("caption"),
                                     parse_mode=ParseMode.HTML if m.get("caption") else None)
                     for m in payload["media"]]
            return list(await bot.send_media_group(media=media, **common))
        return [await bot.send_message(
            text=payload["html"], parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=not payload.get("preview", False)),
            reply_markup=_markup(payload.get("buttons")), **common)]

    async def edit(self, dest: Destination, sent: Sent, part: Rendered) -> Sent:
        """Replace a sent message's text (e.g. the index when a section is added later).

        Raises:
            RetryLater, DestinationForbidden, Rejected: see `adapters.telegram.errors`.
        """
        await self.start()
        payload = part.payload
        bot = self.application.bot
        chat_id = _chat_id(self.migrations.get(sent.chat_id, sent.chat_id))
        message_id = int(sent.message_ids[0])
        try:
            with delivery_errors(dest.name, self._token):
                try:
                    if part.kind == "text":
                        await bot.edit_message_text(
                            text=payload["html"], chat_id=chat_id, message_id=message_id,
                            parse_mode=ParseMode.HTML, reply_markup=_markup(payload.get("buttons")),
                            link_preview_options=LinkPreviewOptions(is_disabled=not payload.get("preview", False)))
                    else:
                        caption = payload.get("caption") or (payload.get("media") or [{}])[0].get("caption")
                        await bot.edit_message_caption(chat_id=chat_id, message_id=message_id, caption=caption,
                                                       parse_mode=ParseMode.HTML)
                except BadRequest as exc:
                    if "not modified" not in exc.message.lower():
                        raise
        except ChatMoved as moved:
            raise Rejected(dest.name, f"chat migrated to {moved.new_chat_id}; resend instead") from moved
        return sent

    # ------------------------------------------------------------------ commands
    async def serve(self, engine: QueryEngine) -> None:
        """Answer commands (long polling) until cancelled."""
        await self.start()
        if not self.commands:
            await asyncio.Event().wait()
            return
        app = self.application
        app.bot_data["digest"] = Digest(engine=engine, platform=self, throttle=self.throttle)
        for command, handler in HANDLERS:
            app.add_handler(CommandHandler(command, handler, filters=filters.UpdateType.MESSAGE))
        app.add_handler(MessageHandler(filters.UpdateType.CHANNEL_POST & filters.TEXT, channel_post))
        app.add_handler(CallbackQueryHandler(page_callback))
        app.add_error_handler(self._on_error)
        await self._publish_commands()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=timedelta(seconds=self.poll_timeout),
                                        allowed_updates=["message", "channel_post", "callback_query"])
        try:
            await asyncio.Event().wait()
        finally:
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()

    async def _publish_commands(self) -> None:
        """setMyCommands: English by default, one list per language we have a catalogue for.

        Each language is published on its own, so one rejected list does not leave the
        others unpublished.
        """
        bot = self.application.bot
        names = [name for name, _ in HANDLERS]
        lists: list[tuple[str, str | None]] = [("en", None)]
        lists += [(lang, code) for lang in supported_languages() if (code := telegram_language_code(lang))]
        for lang, code in lists:
            try:
                await bot.set_my_commands([BotCommand(n, t(f"telegram.commands.{n}", lang)) for n in names],
                                          language_code=code)
            except TelegramError as exc:
                log.warning("setMyCommands(%s) failed: %s", code or "default", redact(str(exc), self._token))

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        log.error("error while handling an update: %s: %s", type(error).__name__,
                  redact(str(error), self._token))

    async def reply(self, message: Message, answer: Answer) -> list[Message]:
        """Send an answer to the chat (and forum topic) of `message`; failures are logged, not raised."""
        sent: list[Message] = []
        thread = message.message_thread_id if message.is_topic_message else None
        for part in self.render_answer(answer):
            try:
                sent.append(await self.application.bot.send_message(
                    chat_id=message.chat_id, text=part.payload["html"], parse_mode=ParseMode.HTML,
                    message_thread_id=thread, link_preview_options=LinkPreviewOptions(is_disabled=True),
                    reply_markup=_markup(part.payload.get("buttons"))))
            except TelegramError as exc:
                log.warning("reply in chat %s failed: %s", message.chat_id, redact(str(exc), self._token))
                break
        return sent

    async def replace(self, message: Message, answer: Answer) -> None:
        """Edit a message in place with a new page; extra parts of a long page follow as new messages."""
        parts = self.render_answer(answer)
        first, rest = parts[0], parts[1:]
        try:
            await self.application.bot.edit_message_text(
                chat_id=message.chat_id, message_id=message.message_id, text=first.payload["html"],
                parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True),
                reply_markup=_markup(first.payload.get("buttons")))
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                log.warning("edit in chat %s failed: %s", message.chat_id, redact(str(exc), self._token))
            return
        except TelegramError as exc:
            log.warning("edit in chat %s failed: %s", message.chat_id, redact(str(exc), self._token))
            return
        thread = message.message_thread_id if message.is_topic_message else None
        for part in rest:
            try:
                await self.application.bot.send_message(
                    chat_id=message.chat_id, text=part.payload["html"], parse_mode=ParseMode.HTML,
                    message_thread_id=thread, link_preview_options=LinkPreviewOptions(is_disabled=True),
                    reply_markup=_markup(part.payload.get("buttons")))
            except TelegramError as exc:
                log.warning("reply in chat %s failed: %s", message.chat_id, redact(str(exc), self._token))
                return


def create_platform(config: Config) -> TelegramPlatform:
    """The platform as config.toml describes it; the token comes from `config.secret("telegram")`.

    `DIGESTBOT_TELEGRAM_TIME_SCALE` (tests and benchmarks only) shrinks the flood windows.
    """
    scale = float(os.environ.get(TIME_SCALE_ENV, "1") or 1)
    return TelegramPlatform(config.secret("telegram"), base_url=config.telegram.api_base_url,
                            base_file_url=config.telegram.file_base_url, commands=config.telegram.commands,
                            time_scale=scale)
