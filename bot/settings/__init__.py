"""Configuration: config.toml loaded and validated once (`config`), destinations made typed (`destinations`).

Imports `bot.core` and `bot.contract`.
"""
