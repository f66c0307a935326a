"""`check-config --online` for Telegram: the token works, each chat exists, each forum topic exists.

With the real python-telegram-bot client: `getMe` (the token), `getChat` per destination
(the chat exists and the bot may see it) and, per configured topic, a `sendChatAction`
into that topic — the Bot API has no read-only way to look a topic up, and a chat action
is the lightest call that fails with "message thread not found" (it posts no message).
Problems come back as `ConfigError`s naming the key; the token never appears in them.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Bot
from telegram.constants import ChatAction
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken, TelegramError

from bot.core.errors import ConfigError
from bot.core.redact import redact
from bot.settings.config import Config, DestinationConfig

__all__ = ["probe_telegram"]


async def probe_telegram(config: Config, dests: Sequence[DestinationConfig]) -> list[ConfigError]:
    token = config.secret("telegram")
    bot = Bot(token, base_url=config.telegram.api_base_url)
    try:
        await bot.initialize()  # getMe
    except (InvalidToken, EndPointNotFound):  # 401, or 404 for a token of the wrong shape
        return [ConfigError("telegram.token_env", f"Telegram refused the token in {config.telegram.token_env}")]
    except TelegramError as exc:
        return [ConfigError("telegram.api_base_url", f"Telegram did not answer: {redact(exc.message, [token])}")]
    try:
        problems: list[ConfigError] = []
        for dest in dests:
            problems += await _chat(bot, token, dest)
        return problems
    finally:
        await bot.shutdown()


async def _chat(bot: Bot, token: str, dest: DestinationConfig) -> list[ConfigError]:
    where = f"destinations.{dest.name}"
    chat_id: int | str = int(dest.chat) if dest.chat.lstrip("-").isdigit() else dest.chat
    try:
        chat = await bot.get_chat(chat_id)
    except Forbidden as exc:
        return [ConfigError(f"{where}.chat", f"the bot may not access this chat: {redact(exc.message, [token])}")]
    except BadRequest as exc:
        return [ConfigError(f"{where}.chat", f"{redact(exc.message, [token])} (add the bot to it first)")]
    except TelegramError as exc:
        return [ConfigError(f"{where}.chat", f"Telegram answered: {redact(exc.message, [token])}")]
    topics = [(f"{where}.topic", dest.topic)] if dest.topic is not None else []
    topics += [(f"{where}.topics.{key}", topic) for key, topic in dest.topics.items()]
    if topics and not chat.is_forum:
        return [ConfigError(key, "this chat is not a forum group, it has no topics") for key, _ in topics]
    problems = []
    for key, topic in topics:
        try:
            await bot.send_chat_action(chat_id, ChatAction.TYPING, message_thread_id=topic)
        except TelegramError as exc:
            problems.append(ConfigError(key, f"topic {topic}: {redact(exc.message, [token])}"))
    return problems
