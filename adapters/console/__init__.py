"""The console platform: the same posts as Telegram and Discord, printed; runs the pipeline offline."""

from adapters.console.platform import ConsolePayload, ConsoleRenderer, ConsoleSender, console_adapter

__all__ = ["ConsolePayload", "ConsoleRenderer", "ConsoleSender", "console_adapter"]
