"""What a destination receives and how: the one typed contract every consumer reads.

Owns the typed `Destination` (`destination`), schedules as pure data (`schedule`), item filters
(`filters`) and presentation choices (`presentation`). Imports `bot.core` only.
"""
