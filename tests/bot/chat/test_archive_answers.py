"""Answers from the whole archive and the reader's language, on both fakes with the real clients.

The newest French and English editions are special issues holding only "Publications":
`/section outils` must answer from the newest edition that has the section and say so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.chat.commands import Query, SectionsCommand
from bot.chat.query import QueryEngine
from bot.core.messages import SectionList
from bot.storage.store import Store
from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram
from tests.harness.editions import add_special_edition
from tests.harness.serving import PRIVATE, telegram_answering

pytestmark = pytest.mark.corpus


@pytest.fixture
def engine(store: Store) -> QueryEngine:
    add_special_edition(store, "fr", 8)
    add_special_edition(store, "en", 8)
    return QueryEngine(store, default_lang="en")


def _opt(name: str, value: Any, focused: bool = False) -> dict[str, Any]:
    return {"name": name, "type": 3, "value": value, **({"focused": True} if focused else {})}


# --------------------------------------------------------------------------- Discord
async def test_discord_section_from_the_newest_issue_that_has_it(discord_serving: FakeDiscord) -> None:
    callback = await discord_serving.interact("section", [_opt("name", "outils")])
    content = callback["data"]["content"]
    assert "Extrait de NLP Newsletter #7 (FR) — NLP Newsletter #8 (FR) n’a pas de section Outils" in content
    assert "⚙️ Outils et jeux de données — NLP Newsletter #7 (FR)" in content
    assert callback["data"]["flags"] & 64  # a lookup: the asker's own (not an error, which is ephemeral too)
    assert discord_serving.rejected == []


async def test_discord_section_in_the_newest_issue_has_no_note(discord_serving: FakeDiscord) -> None:
    callback = await discord_serving.interact("section", [_opt("name", "publications")])
    content = callback["data"]["content"]
    assert "NLP Newsletter #8 (FR)" in content and "Extrait" not in content


async def test_discord_autocomplete_offers_sections_of_recent_issues(discord_serving: FakeDiscord) -> None:
    callback = await discord_serving.interact("section", [_opt("name", "out", focused=True)], kind=4)
    choices = callback["data"]["choices"]
    assert choices[0] == {"name": "Outils et jeux de données ⚙️", "value": "tools_datasets"}
    values = [c["value"] for c in choices]
    assert len(values) == len(set(values))  # one choice per key
    everything = await discord_serving.interact("section", [_opt("name", "", focused=True)], kind=4)
    assert [c["value"] for c in everything["data"]["choices"]][0] == "publications"  # the newest issue's first
    assert "tools_datasets" in [c["value"] for c in everything["data"]["choices"]]


async def test_discord_english_user_on_a_french_server_reads_english(discord_serving: FakeDiscord) -> None:
    assert discord_serving.guild_locale == "fr"
    english = await discord_serving.interact("sections", locale="en-US")
    assert "NLP Newsletter #8 (EN)" in english["data"]["content"]
    french = await discord_serving.interact("sections", locale="fr")
    assert "NLP Newsletter #8 (FR)" in french["data"]["content"]
    spanish = await discord_serving.interact("sections", locale="es-ES")  # an ES edition exists (#5)
    assert "NLP Newsletter #5 (ES)" in spanish["data"]["content"]
    german = await discord_serving.interact("sections", locale="de")  # no German edition: the server's language
    assert "NLP Newsletter #8 (FR)" in german["data"]["content"]
    explicit = await discord_serving.interact("sections", [_opt("language", "fr")], locale="en-US")
    assert "NLP Newsletter #8 (FR)" in explicit["data"]["content"]


# --------------------------------------------------------------------------- Telegram
@pytest_asyncio.fixture
async def telegram(engine: QueryEngine) -> AsyncIterator[FakeTelegram]:
    async with telegram_answering(engine, time_scale=0.01) as fake:
        yield fake


async def _ask(fake: FakeTelegram, text: str, lang: str) -> str:
    before = len(fake.sent(PRIVATE))
    fake.user_says(PRIVATE, text, user_id=PRIVATE, language_code=lang)
    await fake.wait_for(lambda: len(fake.sent(PRIVATE)) > before)
    return "\n".join(m.text for m in fake.sent(PRIVATE)[before:])


async def test_telegram_section_from_the_newest_issue_that_has_it(telegram: FakeTelegram) -> None:
    text = await _ask(telegram, "/section outils", "fr")
    assert "Extrait de NLP Newsletter #7 (FR) — NLP Newsletter #8 (FR) n’a pas de section Outils" in text
    assert "Outils et jeux de données" in text
    english = await _ask(telegram, "/section tools", "en")
    assert "From NLP Newsletter #7 (EN) — NLP Newsletter #8 (EN) has no Tools" in english
    assert not telegram.rejected()


async def test_telegram_section_with_a_number_answers_from_that_issue_only(telegram: FakeTelegram) -> None:
    text = await _ask(telegram, "/section outils 8", "fr")
    assert "NLP Newsletter #8 (FR)" in text and "#7" not in text
    older = await _ask(telegram, "/section outils 6", "fr")
    assert "NLP Newsletter #6 (FR)" in older and "Extrait" not in older


# --------------------------------------------------------------------------- engine: language names
def test_fallback_note_names_languages_in_the_reply_language(engine: QueryEngine) -> None:
    add_special_edition(engine.store, "en", 9, days=14)  # #9 exists in English only
    french = engine.answer(Query(SectionsCommand(9), lang="fr"))
    assert isinstance(french, SectionList)
    assert "Pas d’édition française de ce numéro ; voici la version anglaise." in french.message
    spanish = engine.answer(Query(SectionsCommand(9), lang="es"))
    assert isinstance(spanish, SectionList)
    assert "aquí tienes la edición en inglés" in spanish.message
    turkish = engine.answer(Query(SectionsCommand(9), lang="tr"))
    assert isinstance(turkish, SectionList)
    assert "İngilizce" in turkish.message
