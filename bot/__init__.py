"""digestbot's engine: feed → issues → sections → items, stored and queryable.

Nothing in this package imports a chat platform library, the scheduler, the adapters, the web
panel or the composition root (`app`). Its parts, each a sub-package, from the bottom up (a part
imports only the parts listed before it):

- `bot.core` — the shared vocabulary: issue/section/item models, posts and answers, errors, text
  cleaning, URLs, redaction, languages and reply catalogues.
- `bot.contract` — what a destination is: schedules, filters, presentation, the typed destination.
- `bot.settings` — config.toml, loaded and validated once into typed values.
- `bot.splitting` — one entry's HTML → sections and items; recognising a newsletter and its numbering.
- `bot.storage` — SQLite: issues, the search index, chats, subscriptions; the single-instance lock.
- `bot.feeds` — fetching feeds and ingesting them: bytes → stored issues.
- `bot.chat` — chat commands and the platform-neutral answers to them.
- `bot.ports` — the interfaces adapters implement (renderer, sender, outlet).

`bot/data` holds the bundled feed snapshot and `bot/locales` the reply catalogues.
"""

__version__ = "0.1.0"
