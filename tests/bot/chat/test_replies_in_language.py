"""Replies in the chat's language, end to end: real PTB / discord.py clients, fake servers, real engine and corpus.

A Spanish chat must get Spanish UI text around the Spanish edition, on both platforms, and
the command menus must be published in every catalogue language in a form each platform accepts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.chat.query import QueryEngine
from bot.storage.store import Store
from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram
from tests.harness.serving import PRIVATE, telegram_answering

SCALE = 0.01
DEFAULT_SCOPE = '{"type": "default"}'

#: Client language tag → the start of our /help and of the /sections title in that language.
HELP_STARTS = {
    "es": ("Divido NLP Newsletter", "Secciones de NLP Newsletter #5 (ES)"),
    "pt-br": ("Eu divido NLP Newsletter", "Seções de NLP Newsletter #6 (PT-BR)"),
    "tr": ("NLP Newsletter içeriğini bölümlere ayırıyor", "bölümleri:"),
    "zh": ("我把 NLP Newsletter 拆分成栏目", "NLP Newsletter #7 (ZH) 的栏目"),
    "ar": ("أقسّم NLP Newsletter", "أقسام NLP Newsletter #5 (AR)"),
}


pytestmark = pytest.mark.corpus


@pytest.fixture
def engine(store: Store) -> QueryEngine:
    return QueryEngine(store, default_lang="en")


# --------------------------------------------------------------------------- Telegram
@pytest_asyncio.fixture
async def telegram(engine: QueryEngine) -> AsyncIterator[FakeTelegram]:
    async with telegram_answering(engine, time_scale=SCALE) as fake:
        yield fake


async def _ask(fake: FakeTelegram, text: str, lang: str) -> str:
    before = len(fake.sent(PRIVATE))
    fake.user_says(PRIVATE, text, user_id=PRIVATE, language_code=lang)
    await fake.wait_for(lambda: len(fake.sent(PRIVATE)) > before)
    return fake.sent(PRIVATE)[before].text


async def test_telegram_menus_published_per_language_with_iso_codes(telegram: FakeTelegram) -> None:
    expected = {"", "en", "fr", "es", "pt", "tr", "zh", "ar"}
    await telegram.wait_for(lambda: {code for _, code in telegram.commands} >= expected)
    assert {code for scope, code in telegram.commands if scope == DEFAULT_SCOPE} == expected
    assert not [r for r in telegram.rejected() if r.method == "setMyCommands"]
    menus = {code: {c["command"]: c["description"] for c in telegram.commands[(DEFAULT_SCOPE, code)]}
             for code in expected}
    assert menus["es"]["latest"] == "El número más reciente"
    assert menus["pt"]["search"] == "Buscar itens: /search <palavras>"
    assert menus["zh"]["help"] == "我能做什么"
    assert all(menus[code].keys() == menus[""].keys() for code in expected)


@pytest.mark.parametrize("client_lang", ["es-ES", "es"])
async def test_telegram_spanish_chat_gets_spanish_replies(telegram: FakeTelegram, client_lang: str) -> None:
    assert (await _ask(telegram, "/help", client_lang)).startswith(HELP_STARTS["es"][0])
    sections = await _ask(telegram, "/sections", client_lang)
    assert HELP_STARTS["es"][1] in sections
    assert (await _ask(telegram, "/search", client_lang)).endswith(
        "¿Qué debo buscar? Escribe /search <palabras>, por ejemplo /search bert.")


@pytest.mark.parametrize("lang", ["pt-br", "tr", "zh", "ar"])
async def test_telegram_other_languages_get_their_own_help(telegram: FakeTelegram, lang: str) -> None:
    assert (await _ask(telegram, "/help", lang)).startswith(HELP_STARTS[lang][0])
    assert HELP_STARTS[lang][1] in await _ask(telegram, "/sections", lang)


# --------------------------------------------------------------------------- Discord
async def test_discord_commands_localized_for_every_discord_locale_we_translate(discord_serving: FakeDiscord) -> None:
    commands: dict[str, dict[str, Any]] = {c["name"]: c for c in discord_serving.commands}
    latest = commands["latest"]
    assert {locale: latest["name_localizations"][locale] for locale in ("es-ES", "es-419", "pt-BR", "zh-CN", "zh-TW",
                                                                        "tr")} == {
        "es-ES": "último", "es-419": "último", "pt-BR": "última", "zh-CN": "最新", "zh-TW": "最新", "tr": "son"}
    assert commands["search"]["description_localizations"]["pt-BR"] == "Buscar itens na newsletter"
    assert not discord_serving.requests_to("PUT", "/commands") or all(
        r.status < 400 for r in discord_serving.requests_to("PUT", "/commands"))


@pytest.mark.parametrize("guild_locale", ["es-ES", "es-419"])
async def test_discord_spanish_guild_gets_spanish_replies(discord_serving: FakeDiscord, guild_locale: str) -> None:
    discord_serving.guild_locale = guild_locale
    help_ = await discord_serving.interact("help", locale=guild_locale)
    assert help_["type"] == 4 and help_["data"]["content"].startswith(HELP_STARTS["es"][0])
    sections = await discord_serving.interact("sections", locale=guild_locale)
    assert HELP_STARTS["es"][1] in sections["data"]["content"]


@pytest.mark.parametrize(("guild_locale", "lang"), [("pt-BR", "pt-br"), ("zh-TW", "zh"), ("tr", "tr")])
async def test_discord_guild_locales_map_to_catalogues(discord_serving: FakeDiscord, guild_locale: str,
                                                       lang: str) -> None:
    discord_serving.guild_locale = guild_locale
    help_ = await discord_serving.interact("help", locale=guild_locale)
    assert help_["data"]["content"].startswith(HELP_STARTS[lang][0])


async def test_discord_arabic_by_language_option(discord_serving: FakeDiscord) -> None:
    """Discord has no Arabic locale: Arabic is reached through the `language` option."""
    callback = await discord_serving.interact("sections", [{"name": "language", "type": 3, "value": "ar"}])
    assert HELP_STARTS["ar"][1] in callback["data"]["content"]
