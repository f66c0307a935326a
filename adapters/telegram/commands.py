"""Chat commands: one thin handler per command, update → Query → engine.answer → reply.

What `/section outils` means is decided by `bot.query.QueryEngine` only; here we read the
update (chat, user, language, arguments), check admin rights where the engine needs them
(getChatMember), throttle spammers politely and send the rendered answer.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import Chat, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.commands import ADMIN_COMMANDS, COMMANDS, Page, Query, clean, parse_command, split_command
from bot.i18n import t
from bot.messages import ErrorAnswer, Notice

if TYPE_CHECKING:
    from adapters.telegram.platform import TelegramPlatform
    from bot.query import QueryEngine

__all__ = ["ADMIN_COMMANDS", "COMMANDS", "HANDLERS", "CommandThrottle", "Digest", "channel_post", "page_callback"]

log = logging.getLogger(__name__)

_MAX_TRACKED = 10_000  # (chat, user) pairs remembered by the throttle before idle ones are forgotten


class CommandThrottle:
    """At most `limit` commands per `period` seconds per (chat, user); one polite warning, then silence."""

    def __init__(self, limit: int = 5, period: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.period = period
        self.clock = clock
        self._seen: dict[tuple[int, int], deque[float]] = {}
        self._warned: dict[tuple[int, int], float] = {}

    def check(self, chat: int, user: int) -> str:
        """"ok" to answer, "warn" to say "slow down" once, "drop" to ignore."""
        now = self.clock()
        if len(self._seen) > _MAX_TRACKED:
            self._forget_idle(now)
        key = (chat, user)
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - self.period:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            return "ok"
        if self._warned.get(key, -1e18) > now - self.period:
            return "drop"
        self._warned[key] = now
        return "warn"

    def _forget_idle(self, now: float) -> None:
        """Drop senders quiet for a whole period, so a long-running bot's memory stays flat."""
        cutoff = now - self.period
        for key in [k for k, times in self._seen.items() if not times or times[-1] <= cutoff]:
            del self._seen[key]
            self._warned.pop(key, None)


@dataclass
class Digest:
    """What every handler needs, kept in `application.bot_data["digest"]`."""

    engine: QueryEngine
    platform: TelegramPlatform
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


async def answer_command(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str,
                         args: str | None = None) -> None:
    """Answer one command update; never raises (a failure is logged and, if possible, told)."""
    digest: Digest = context.bot_data["digest"]
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None:
        return
    user_id = user.id if user else chat.id
    lang = digest.engine.lang_for("telegram", str(chat.id), user.language_code if user else None)
    verdict = digest.throttle.check(chat.id, user_id)
    if verdict != "ok":
        if verdict == "warn":
            await digest.platform.reply(message, Notice(lang=lang, message=t("telegram.slow_down", lang)))
        return
    if args is None:
        parsed = split_command(message.text)
        args = parsed[2] if parsed else ""
    is_private = chat.type == ChatType.PRIVATE
    is_admin = is_private
    if command in ADMIN_COMMANDS:
        admin = await _is_admin(context, chat, user.id if user else None)
        if admin is None:
            await digest.platform.reply(message, ErrorAnswer(lang=lang, message=t("telegram.admin_check_failed", lang)))
            return
        is_admin = admin
    query = Query(parse_command(command, args), lang=lang, platform="telegram", chat=str(chat.id),
                  user=str(user_id), is_admin=is_admin, is_private=is_private)
    try:
        answer = digest.engine.answer(query)
    except Exception:  # the engine promises not to raise; a bug must still get a reply
        log.exception("engine failed on /%s", command)
        answer = ErrorAnswer(lang=lang, message=t("telegram.error", lang))
    await digest.platform.reply(message, answer)


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
    lang = digest.engine.lang_for("telegram", chat_key, user.language_code)
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
        await digest.platform.replace(message, answer)
