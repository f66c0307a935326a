"""Discord adapter (discord.py 2.7): section embeds, slash commands, paced fan-out."""

from adapters.discord.pacing import Pacer
from adapters.discord.platform import DiscordPlatform, create_platform, nonce_for
from adapters.discord.render import DiscordRenderer

__all__ = ["DiscordPlatform", "DiscordRenderer", "Pacer", "create_platform", "nonce_for"]
