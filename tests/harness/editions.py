"""Editions a reader meets in real life that the corpus lacks: a newer special edition with few sections,
and a small numbered series whose last issue has only two sections."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


def _entry(number: int, sections: list[str], when: datetime) -> str:
    body = "".join(f"<h2>{name}</h2><p><strong>Story {number}-{i}</strong></p><p>Text {number} {name}.</p>"
                   f"<p><strong>Other {number}-{i}</strong></p><p>More {number}.</p>"
                   for i, name in enumerate(sections))
    return (f"<entry><title>NLP Newsletter {number} [EN]</title>"
            f"<link href='https://letters.example/{number}/'/><id>urn:letters:{number}</id>"
            f"<published>{when.isoformat()}</published><updated>{when.isoformat()}</updated>"
            f"<content type='html'><![CDATA[{body}]]></content></entry>")


def series_feed(path: Path) -> Path:
    """A numbered series (issues 11–13 with five sections, 14 with two) written as an Atom feed to `path`."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    full = ["Top Stories", "Research", "Tools", "Education", "Noteworthy Mentions"]
    entries = [_entry(n, full, start + timedelta(days=7 * n)) for n in (11, 12, 13)]
    entries.append(_entry(14, ["Top Stories", "Noteworthy Mentions"], start + timedelta(days=7 * 14)))
    path.write_text("<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
                    "<title>Letters</title><id>urn:letters</id>" + "".join(entries) + "</feed>", encoding="utf-8")
    return path
