"""digestbot's engine: feed → issues → sections → items, stored and queryable.

Nothing in this package (but `bot.cli`, the composition root) imports a chat
platform library, the scheduler or the adapters.
"""

__version__ = "0.1.0"
