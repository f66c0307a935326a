"""Editions a reader meets in real life that the corpus lacks: a newer special edition with few sections."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from bot.storage.store import Store


def add_special_edition(store: Store, lang: str, number: int, keep: tuple[str, ...] = ("publications",),
                        days: int = 7) -> None:
    """Save a copy of the newest `lang` edition as issue `number`, `days` later, with only the `keep` sections.

    It becomes the newest edition in `lang`, and lacks every other section ("Top Stories" only).
    """
    newest = store.latest(lang)
    assert newest is not None, lang
    sections = tuple(dataclasses.replace(s, position=i)
                     for i, s in enumerate(s for s in newest.sections if s.key in keep))
    assert newest.published is not None
    store.save_issue(dataclasses.replace(
        newest, entry_id=f"{newest.entry_id}-special-{number}", number=number, sections=sections,
        title=f"{newest.newsletter} #{number} special", link=f"{newest.link}#special-{number}",
        published=newest.published + timedelta(days=days), updated=None))
