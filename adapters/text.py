"""Text measures the platforms share: one UTF-16 length for Telegram's offsets and Discord's limits."""

from __future__ import annotations

__all__ = ["utf16_len"]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (📙 counts 2): Telegram's entity offsets and limits, Discord's stricter count."""
    return len(text.encode("utf-16-le")) // 2
