"""Section colours for a page: one per section key, all different on the page, the same key → the same colour.

The colours live in the stylesheet as classes `sc-0` … `sc-23` (a light-mode and a
dark-mode shade of each, both readable on their background), because the panel's CSP
allows no inline styles. Each key prefers the slot a stable hash of it names; when two
keys shown together want the same slot, the later one (in key order) takes the next
free slot, so a page never shows one colour for two sections while it shows at most
`PALETTE_SIZE` of them.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

__all__ = ["PALETTE_SIZE", "section_name", "section_slots"]

PALETTE_SIZE = 24  # keep in step with the sc-N classes in web/static/panel.css
_KINDS = {"digest": "Digest", "index": "Index"}


def section_slots(keys: Iterable[str]) -> dict[str, int]:
    """A palette slot per key: distinct for up to PALETTE_SIZE keys, independent of the order they are given in."""
    slots: dict[str, int] = {}
    taken: set[int] = set()
    for key in sorted(set(keys)):
        slot = zlib.crc32(key.encode("utf-8")) % PALETTE_SIZE
        if len(taken) < PALETTE_SIZE:
            while slot in taken:
                slot = (slot + 1) % PALETTE_SIZE
        taken.add(slot)
        slots[key] = slot
    return slots


def section_name(key: str) -> str:
    """A readable name for a key no issue names (`call_for_papers` → "Call for papers")."""
    return _KINDS.get(key) or key.replace("_", " ").strip().capitalize() or key
