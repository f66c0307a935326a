"""Chat commands (`commands`: parsed into one type per command) and the platform-neutral engine
that answers them (`query`), with schedules in words (`schedule_words`).

Imports every engine part below it; adapters call it through `bot.ports`.
"""
