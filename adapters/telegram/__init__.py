"""Telegram adapter (python-telegram-bot 22): posts, edits, command replies, flood control."""

from adapters.telegram.platform import TelegramPlatform, create_platform, message_url
from adapters.telegram.render import TelegramRenderer

__all__ = ["TelegramPlatform", "TelegramRenderer", "create_platform", "message_url"]
