"""SQLite storage: issues and their search index, feed state, chats, subscriptions (`store`);
the single-instance lock (`lock`); storage faults named in one line (`fault`).

Imports `bot.core`, `bot.contract` and `bot.splitting` (section-name normal forms).
"""
