"""The console platform: the same posts as Telegram and Discord, printed; runs the pipeline offline."""

from adapters.console.platform import ConsolePlatform

__all__ = ["ConsolePlatform"]
