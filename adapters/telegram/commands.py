"""Chat commands: `TelegramCommands` (the command source) and one thin handler per command.

update → Query → engine.answer → reply. What `/section outils` means is decided by
`bot.chat.query.QueryEngine` only; here we read the update (chat, user, language, arguments),
check admin rights where the engine needs them (getChatMember), throttle spammers politely
and send the rendered answer. Long polling runs on the sender's connection, so posts and
replies share one flood limiter; handlers are added to every new connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram import BotCommand, Chat, LinkPreviewOptions, Message, Update
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from adapters.telegram.platform import App, TelegramSender, markup, telegram_language_code
from adapters.telegram.render import TelegramRenderer
from bot.chat.commands import (
    ADMIN_COMMANDS,
    COMMANDS,
    Audience,
    Command,
    Page,
    PlainSearch,
    Query,
    Unknown,
    changes_chat,
    clean,
    parse_command,
    split_command,
)
from bot.core.i18n import supported_languages, t
from bot.core.messages import Answer, ErrorAnswer, Notice
from bot.ports import Rendered

if TYPE_CHECKING:
    from bot.chat.query import QueryEngine

__all__ = ["ADMIN_COMMANDS", "COMMANDS", "HANDLERS", "CommandThrottle", "Digest", "TelegramCommands",
           "channel_post", "page_callback", "private_text"]

log = logging.getLogger(__name__)

_MAX_TRACKED = 10_000  # (chat, user) pairs remembered by the throttle before idle ones are forgotten
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class CommandThrottle:
    """A token bucket per (chat, user): a burst of `burst` commands, then one more every `interval` seconds.

    Why a bucket: a reader exploring (tapping the commands `/help` lists) sends a handful of
    commands in a few seconds, which a fixed window punished with ten seconds of silence; a
    person never sustains one command every `interval` seconds, a script does. When the bucket
    is empty the first command gets one short notice ("warn"), the rest are ignored ("drop")
    until a token has come back, and the next command after that wait is answered.
    """

    def __init__(self, burst: int = 10, interval: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.interval = interval
        self.clock = clock
        self._buckets: dict[tuple[int, int], tuple[float, float]] = {}  # key → (tokens, when they were counted)
        self._warned: set[tuple[int, int]] = set()
        self.verdicts: Counter[str] = Counter()  # how many commands got each verdict (diagnostics, tests)

    def check(self, chat: int, user: int) -> str:
        """"ok" to answer, "warn" to say "slow down" once, "drop" to ignore."""
        verdict = self._check(chat, user)
        self.verdicts[verdict] += 1
        return verdict

    def _tokens(self, key: tuple[int, int], now: float) -> float:
        tokens, then = self._buckets.get(key, (float(self.burst), now))
        refill = (now - then) / self.interval if self.interval > 0 else float(self.burst)
        return min(float(self.burst), tokens + max(refill, 0.0))

    def _check(self, chat: int, user: int) -> str:
        now = self.clock()
        if len(self._buckets) > _MAX_TRACKED:
            self._forget_idle(now)
        key = (chat, user)
        tokens = self._tokens(key, now)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            self._warned.discard(key)
            return "ok"
        self._buckets[key] = (tokens, now)
        if key in self._warned:
            return "drop"
        self._warned.add(key)
        return "warn"

    def _forget_idle(self, now: float) -> None:
        """Drop senders whose bucket is full again: they are indistinguishable from new ones."""
        for key in [k for k in self._buckets if self._tokens(k, now) >= self.burst]:
            del self._buckets[key]
            self._warned.discard(key)


@dataclass
class Digest:
    """What every handler needs, kept in `application.bot_data["digest"]`."""

    engine: QueryEngine
    commands: TelegramCommands
    throttle: CommandThrottle = field(default_factory=CommandThrottle)


async def _is_admin(context: ContextTypes.DEFAULT_TYPE, chat: Chat, user_id: int | None) -> bool | None:
    """Whether the user administers the chat (getChatMember); None when Telegram could not say."""
    if chat.type == ChatType.PRIVATE or chat.type == ChatType.CHANNEL:
        return True  # a private chat is its own admin; only admins can post in a channel
    if user_id is None:
        return False
    if user_id == 1087968824:  # GroupAnonymousBot: an anonymous admin posting as the group
        return True
    try:
        member = await context.bot.get_chat_member(chat.id, user_id)
    except TelegramError as exc:
        log.warning("getChatMember failed in chat %s: %s", chat.id, type(exc).__name__)
        return None
    return member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


def _audience(chat: Chat) -> Audience:
    """Every answer in a group or channel is read by all its members; in a private chat, by the asker."""
    return Audience.PRIVATE if chat.type == ChatType.PRIVATE else Audience.PUBLIC


async def answer_command(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str,
                         args: str | None = None, *, typed: Command | None = None) -> None:
    """Answer one command update; never raises (a failure is logged and, if possible, told).

    `typed` is a command the caller already built (plain text in a private chat is a search).
    """
    digest: Digest = context.bot_data["digest"]
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None:
        return
    user_id = user.id if user else chat.id
    aliases = (f"@{chat.username}",) if chat.username else ()  # a chat configured as "@channel"
    lang = digest.engine.lang_for("telegram", str(chat.id), user.language_code if user else None,
                                  chat_aliases=aliases, audience=_audience(chat))
    verdict = digest.throttle.check(chat.id, user_id)
    if verdict != "ok":
        if verdict == "warn":
            await digest.commands.reply(message, Notice(lang=lang, message=t("telegram.slow_down", lang)))
        return
    if args is None:
        parsed = split_command(message.text)
        args = parsed[2] if parsed else ""
    is_private = chat.type == ChatType.PRIVATE
    is_admin = is_private
    typed = typed or parse_command(command, args)
    if changes_chat(typed):  # asked only when the answer matters: one getChatMember per state change
        admin = await _is_admin(context, chat, user.id if user else None)
        if admin is None:
            await digest.commands.reply(message, ErrorAnswer(lang=lang, message=t("telegram.admin_check_failed", lang)))
            return
        is_admin = admin
    query = Query(typed, lang=lang, platform="telegram", chat=str(chat.id),
                  user=str(user_id), is_admin=is_admin, is_private=is_private, chat_aliases=aliases)
    try:
        answer = digest.engine.answer(query)
    except Exception:  # the engine promises not to raise; a bug must still get a reply
        log.exception("engine failed on /%s", command)
        answer = ErrorAnswer(lang=lang, message=t("telegram.error", lang))
    await digest.commands.reply(message, answer)


def _command_handler(command: str) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await answer_command(update, context, command)

    handler.__name__ = f"{command}_command"
    handler.__doc__ = f"/{command}: answered by QueryEngine.answer(Query({command!r}, …))."
    return handler


start_command = _command_handler("start")
help_command = _command_handler("help")
section_command = _command_handler("section")
sections_command = _command_handler("sections")
latest_command = _command_handler("latest")
issues_command = _command_handler("issues")
search_command = _command_handler("search")
subscribe_command = _command_handler("subscribe")
unsubscribe_command = _command_handler("unsubscribe")
language_command = _command_handler("language")

HANDLERS: tuple[tuple[str, Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]], ...] = (
    ("start", start_command),
    ("help", help_command),
    ("section", section_command),
    ("sections", sections_command),
    ("latest", latest_command),
    ("issues", issues_command),
    ("search", search_command),
    ("subscribe", subscribe_command),
    ("unsubscribe", unsubscribe_command),
    ("language", language_command),
)


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A private chat always answers: an unknown /command gets a pointer to /help, plain text is searched.

    Only in private chats: in a group, other bots' commands and members' talk are not ours.
    """
    message = update.effective_message
    text = message.text if message else None
    if not text or not text.strip():
        return
    parsed = split_command(text)
    if parsed is not None:
        await answer_command(update, context, parsed[0], parsed[2], typed=Unknown(parsed[0][:32]))
    else:
        await answer_command(update, context, "search", typed=PlainSearch(clean(text)))


async def channel_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Commands posted in a channel (PTB's CommandHandler ignores channel posts)."""
    message = update.channel_post
    parsed = split_command(message.text if message else None)
    if message is None or parsed is None:
        return
    command, mention, args = parsed
    if mention and mention.lower() != (context.bot.username or "").lower():
        return
    if command in COMMANDS:
        await answer_command(update, context, command, args)


async def page_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """◀ ▶ pressed: answer the page token and edit the message in place."""
    digest: Digest = context.bot_data["digest"]
    callback = update.callback_query
    if callback is None:
        return
    chat = update.effective_chat
    user = callback.from_user
    chat_key = str(chat.id) if chat else str(user.id)
    lang = digest.engine.lang_for("telegram", chat_key, user.language_code,
                                  audience=_audience(chat) if chat else Audience.PRIVATE)
    token = clean(callback.data or "")[:64]
    query = Query(Page(token), lang=lang, platform="telegram", chat=chat_key, user=str(user.id),
                  is_private=bool(chat and chat.type == ChatType.PRIVATE))
    try:
        answer = digest.engine.answer(query)
    except Exception:
        log.exception("engine failed on a page callback")
        answer = ErrorAnswer(lang=lang, message=t("telegram.error", lang))
    try:
        await callback.answer()
    except TelegramError as exc:
        log.info("answerCallbackQuery failed: %s", type(exc).__name__)
    message: Any = callback.message
    if isinstance(message, Message):
        await digest.commands.replace(message, answer)


class TelegramCommands:
    """Answers chat commands by long polling on a `TelegramSender`'s connection (see `bot.ports.CommandSource`).

    Args:
        sender: the connection (and flood limiter) replies go through.
        renderer: renders the engine's answers.
        throttle: the per-(chat, user) token bucket that asks a flooding sender to slow down.
        enabled: False keeps the connection but takes no commands (`[telegram] commands = false`).
    """

    name = "telegram"

    def __init__(self, sender: TelegramSender, renderer: TelegramRenderer | None = None, *,
                 throttle: CommandThrottle | None = None, enabled: bool = True) -> None:
        self.sender = sender
        self.renderer = renderer or TelegramRenderer()
        self.throttle = throttle or CommandThrottle()
        self.enabled = enabled

    def __repr__(self) -> str:
        return f"TelegramCommands({self.sender!r})"

    async def close(self) -> None:
        await self.sender.close()

    async def serve(self, engine: QueryEngine) -> None:
        """Connect if needed, register the handlers on this connection, answer commands until cancelled."""
        await self.sender.start()
        if not self.enabled:
            await asyncio.Event().wait()
            return
        app = self.sender.application
        self._register(app, engine)
        await self._publish_commands()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=timedelta(seconds=self.sender.poll_timeout),
                                        allowed_updates=["message", "channel_post", "callback_query"])
        try:
            await asyncio.Event().wait()
        finally:
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()

    def _register(self, app: App, engine: QueryEngine) -> None:
        app.bot_data["digest"] = Digest(engine=engine, commands=self, throttle=self.throttle)
        if app.bot_data.get("handlers_added"):
            return
        for command, handler in HANDLERS:
            app.add_handler(CommandHandler(command, handler, filters=filters.UpdateType.MESSAGE))
        app.add_handler(MessageHandler(filters.UpdateType.CHANNEL_POST & filters.TEXT, channel_post))
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & filters.TEXT,
                                       private_text))
        app.add_handler(CallbackQueryHandler(page_callback))
        app.add_error_handler(self._on_error)
        app.bot_data["handlers_added"] = True

    async def _publish_commands(self) -> None:
        """setMyCommands: English by default, one list per language we have a catalogue for.

        Each language is published on its own, so one rejected list does not leave the
        others unpublished.
        """
        bot = self.sender.application.bot
        names = [name for name, _ in HANDLERS]
        lists: list[tuple[str, str | None]] = [("en", None)]
        lists += [(lang, code) for lang in supported_languages() if (code := telegram_language_code(lang))]
        for lang, code in lists:
            try:
                await bot.set_my_commands([BotCommand(n, t(f"telegram.commands.{n}", lang)) for n in names],
                                          language_code=code)
            except TelegramError as exc:
                log.warning("setMyCommands(%s) failed: %s", code or "default", self.sender.redact(str(exc)))

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        log.error("error while handling an update: %s: %s", type(error).__name__, self.sender.redact(str(error)))

    async def reply(self, message: Message, answer: Answer) -> list[Message]:
        """Send an answer to the chat (and forum topic) of `message`; failures are logged, not raised."""
        return await self._send_parts(message, self.renderer.render_answer(answer))

    async def replace(self, message: Message, answer: Answer) -> None:
        """Edit a message in place with a new page; extra parts of a long page follow as new messages."""
        parts = self.renderer.render_answer(answer)
        first, rest = parts[0], parts[1:]
        try:
            await self.sender.application.bot.edit_message_text(
                chat_id=message.chat_id, message_id=message.message_id, text=first.payload["html"],
                parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW,
                reply_markup=markup(first.payload.get("buttons")))
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                log.warning("edit in chat %s failed: %s", message.chat_id, self.sender.redact(str(exc)))
            return
        except TelegramError as exc:
            log.warning("edit in chat %s failed: %s", message.chat_id, self.sender.redact(str(exc)))
            return
        if rest:
            await self._send_parts(message, rest)

    async def _send_parts(self, message: Message, parts: Sequence[Rendered]) -> list[Message]:
        sent: list[Message] = []
        thread = message.message_thread_id if message.is_topic_message else None
        for part in parts:
            try:
                sent.append(await self.sender.application.bot.send_message(
                    chat_id=message.chat_id, text=part.payload["html"], parse_mode=ParseMode.HTML,
                    message_thread_id=thread, link_preview_options=_NO_PREVIEW,
                    reply_markup=markup(part.payload.get("buttons"))))
            except TelegramError as exc:
                log.warning("reply in chat %s failed: %s", message.chat_id, self.sender.redact(str(exc)))
                break
        return sent
