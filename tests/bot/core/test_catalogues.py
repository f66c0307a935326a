"""Catalogues: every language says everything English says, with the same placeholders, within platform limits.

The catalogues are checked as files (keys, placeholders, empty strings) and as what the
adapters publish: the Discord command payloads discord.py builds through `CatalogueTranslator`
must pass the fake Discord's validation (Discord's name regex, 1–100 character descriptions),
and the Telegram command lists must fit Telegram's 256-character descriptions.
"""

from __future__ import annotations

import logging
import re
import string
import tomllib
from typing import Any

import discord
import pytest
from discord import app_commands

from adapters.discord.commands import CatalogueTranslator, DigestCommands, catalogue_language
from adapters.telegram.commands import HANDLERS
from adapters.telegram.platform import telegram_language_code
from bot.chat.commands import COMMANDS, Unknown, parse_command
from bot.core import i18n
from bot.core.i18n import LANGUAGES as LANGUAGE_NAMES
from bot.core.i18n import PLURAL_CATEGORIES, normalize_language, plural_categories, supported_languages, t
from tests.fakes.discord import DISCORD_LOCALES, FakeDiscord, valid_command_name
from tests.harness.paths import LOCALES

LANGUAGES = tuple(LANGUAGE_NAMES)
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != "en")
NAMESPACES = ("query", "telegram", "discord", "languages")


def _is_plural(value: dict[str, Any]) -> bool:
    return "other" in value and set(value) <= set(PLURAL_CATEGORIES)


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Plain entries as they are; a plural entry by its `other` form (the form every language has)."""
    out: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and _is_plural(value):
            out[name] = value["other"]
        elif isinstance(value, dict):
            out.update(_flat(value, f"{name}."))
        else:
            assert isinstance(value, str), f"{name} is not a string"
            out[name] = value
    return out


def _plurals(data: dict[str, Any], prefix: str = "") -> dict[str, dict[str, str]]:
    """Every plural entry of a catalogue file, by its dotted key."""
    out: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        if isinstance(value, dict) and _is_plural(value):
            out[f"{prefix}{key}"] = value
        elif isinstance(value, dict):
            out.update(_plurals(value, f"{prefix}{key}."))
    return out


def _load(lang: str, namespace: str) -> dict[str, Any]:
    with (LOCALES / lang / f"{namespace}.toml").open("rb") as handle:
        return tomllib.load(handle)


def _file(lang: str, namespace: str) -> dict[str, str]:
    return _flat(_load(lang, namespace))


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_every_newsletter_language_has_a_catalogue() -> None:
    assert set(supported_languages()) == set(LANGUAGES)
    for lang in LANGUAGES:
        assert sorted(p.name for p in (LOCALES / lang).glob("*.toml")) == sorted(f"{n}.toml" for n in NAMESPACES)


@pytest.mark.parametrize("namespace", NAMESPACES)
@pytest.mark.parametrize("lang", TRANSLATED)
def test_same_keys_and_placeholders_as_english(lang: str, namespace: str) -> None:
    english, other = _file("en", namespace), _file(lang, namespace)
    assert set(other) == set(english), f"{lang}/{namespace}.toml keys differ from English"
    for key, text in other.items():
        assert text.strip(), f"{lang}: {namespace}.{key} is empty"
        assert _placeholders(text) == _placeholders(english[key]), f"{lang}: {namespace}.{key} placeholders"


@pytest.mark.parametrize("namespace", NAMESPACES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_entries_have_every_form_the_language_needs(lang: str, namespace: str) -> None:
    """A plural entry in English is one in every language, with each CLDR category that language's rules
    give (Arabic's six, French's one/many/other, Chinese's other) and no category they never give."""
    english, other = _plurals(_load("en", namespace)), _plurals(_load(lang, namespace))
    assert set(other) == set(english), f"{lang}/{namespace}.toml plural entries differ from English"
    needed = plural_categories(lang)
    for key, forms in other.items():
        assert set(forms) == needed, f"{lang}: {namespace}.{key} has {sorted(forms)}, CLDR needs {sorted(needed)}"
        allowed = _placeholders(english[key]["other"])
        for category, text in forms.items():
            assert text.strip(), f"{lang}: {namespace}.{key}.{category} is empty"
            # a form may spell its number out ("عنصران", two items) but never asks for a parameter English lacks
            assert allowed - {"count"} <= _placeholders(text) <= allowed, f"{lang}: {namespace}.{key}.{category}"


@pytest.mark.parametrize("namespace", NAMESPACES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_count_is_a_plural_entry(lang: str, namespace: str) -> None:
    """A plain string never takes `{count}`: a number needs the forms its language's rules choose from."""
    plural = set(_plurals(_load(lang, namespace)))
    counted = {key for key, text in _file(lang, namespace).items() if "count" in _placeholders(text)}
    assert counted <= plural, f"{lang}/{namespace}.toml: {sorted(counted - plural)} count in a plain string"


def test_catalogues_say_no_fake_plural() -> None:
    """No "(s)", "(es)", "(ler)", "(ões)"… anywhere: counts go through plural entries."""
    fake = re.compile(r"\w\((?:s|es|as|os|ler|lar|ões|e|e?s)\)")
    for path in LOCALES.glob("*/*.toml"):
        for line in path.read_text(encoding="utf-8").splitlines():
            assert not fake.search(line), f"{path.relative_to(LOCALES)}: {line}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_command_words_stay_ascii_commands(lang: str) -> None:
    """Telegram commands are fixed ASCII names: a translation quotes `/section`, never a translated one."""
    english = _file("en", "query")["help"]
    commands = {word for word in english.split() if word.startswith("/")}
    assert commands <= set(_file(lang, "query")["help"].split())


@pytest.mark.parametrize("lang", LANGUAGES)
def test_discord_names_and_descriptions_obey_discord_rules(lang: str) -> None:
    strings = _file(lang, "discord")
    names = {key: text for key, text in strings.items() if key.endswith(".name")}
    assert names and all(valid_command_name(text) for text in names.values()), names
    for key, text in strings.items():
        if key.endswith(".description"):
            assert 1 <= len(text) <= 100, f"{lang}: discord.{key} is {len(text)} characters"
    commands = [text for key, text in names.items() if key.startswith("cmd.")]
    assert len(commands) == len(set(commands)), f"{lang}: two commands share a name"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_telegram_command_descriptions_fit(lang: str) -> None:
    for name, _ in HANDLERS:
        description = t(f"telegram.commands.{name}", lang)
        assert description != f"telegram.commands.{name}"
        assert 1 <= len(description) <= 256


@pytest.mark.parametrize(("locale", "expected"), [
    ("es-ES", "es"), ("es-419", "es"), ("pt-BR", "pt-br"), ("zh-CN", "zh"), ("zh-TW", "zh"), ("tr", "tr"),
    ("fr", "fr"), ("en-US", "en"), ("en-GB", "en"), ("de", None), ("ja", None), ("no", None),
])
def test_discord_locale_to_catalogue(locale: str, expected: str | None) -> None:
    assert catalogue_language(discord.Locale(locale)) == expected


def test_every_discord_locale_is_one_discord_knows() -> None:
    assert {locale.value for locale in discord.Locale} <= DISCORD_LOCALES


async def test_published_discord_payloads_are_valid_and_localized() -> None:
    """What discord.py would PUT for each command passes Discord's checks, in every locale we translate."""
    client = discord.Client(intents=discord.Intents.none())
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    cog = DigestCommands(engine=None, render_answer=None, slow_commands=frozenset())  # type: ignore[arg-type]
    translator = CatalogueTranslator()
    fake = FakeDiscord()
    payloads = [await command.get_translated_payload(tree, translator) for command in cog.__cog_app_commands__]
    assert len(payloads) == 8
    for payload in payloads:
        assert fake.validate_command(payload) == {}, payload["name"]
    latest = next(p for p in payloads if p["name"] == "latest")
    assert {k: latest["name_localizations"][k] for k in ("es-ES", "es-419", "pt-BR", "zh-CN", "zh-TW", "tr")} == {
        "es-ES": "último", "es-419": "último", "pt-BR": "última", "zh-CN": "最新", "zh-TW": "最新", "tr": "son"}
    section = next(p for p in payloads if p["name"] == "section")
    option_names = {o["name"]: o["name_localizations"] for o in section["options"]}
    assert option_names["name"]["es-ES"] == "nombre" and option_names["language"]["tr"] == "dil"


@pytest.mark.parametrize("name", ["Latest", "two words", "", "x" * 33, "último!", "a.b"])
def test_fake_discord_rejects_bad_localized_names(name: str) -> None:
    fake = FakeDiscord()
    command = {"name": "latest", "description": "The latest issue", "name_localizations": {"es-ES": name}}
    assert "name_localizations" in fake.validate_command(command)
    assert "description_localizations" in fake.validate_command(
        {"name": "latest", "description": "ok", "description_localizations": {"tr": "x" * 101}})
    assert "name_localizations" in fake.validate_command(
        {"name": "latest", "description": "ok", "name_localizations": {"ar": "الأحدث"}})  # no Arabic locale


@pytest.mark.parametrize(("lang", "code"), [
    ("en", "en"), ("fr", "fr"), ("es", "es"), ("pt-br", "pt"), ("tr", "tr"), ("zh", "zh"), ("ar", "ar"),
    ("zh-TW", "zh"), ("pt_BR", "pt"), ("yue", None), ("", None),
])
def test_telegram_language_code_is_two_letters(lang: str, code: str | None) -> None:
    assert telegram_language_code(lang) == code


def test_missing_key_falls_back_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    """A half-translated catalogue (here: Spanish without `query.start`) answers that key in English."""
    english, spanish = dict(i18n._catalogue("en")), dict(i18n._catalogue("es"))
    del spanish["query.start"]
    monkeypatch.setattr(i18n, "_catalogue", lambda lang: spanish if lang == "es" else english)
    assert t("query.start", "es") == english["query.start"]
    assert t("query.help", "es") == spanish["query.help"] != english["query.help"]


def test_language_without_catalogue_falls_back_to_english() -> None:
    assert t("query.no_issue_number", "de", number=9, known="1, 2") == "I have no issue #9. Known issues: 1, 2."


def test_unknown_key_is_returned_as_is(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.core.i18n"):
        assert t("query.no_such_key", "es") == "query.no_such_key"
    assert "missing translation key" in caplog.text


@pytest.mark.parametrize(("code", "lang"), [
    ("es-ES", "es"), ("es-419", "es"), ("pt-BR", "pt-br"), ("pt", "pt-br"), ("zh-Hans", "zh"), ("tr-TR", "tr"),
    ("ar-EG", "ar"),
])
def test_client_language_tags_reach_the_catalogue(code: str, lang: str) -> None:
    assert normalize_language(code) == lang
    assert t("query.language_set", code) == t("query.language_set", lang) != t("query.language_set", "en")



def test_one_language_list() -> None:
    """Catalogues, Discord's language choices and the engine read the same list of languages."""
    from adapters.discord.commands import LANGUAGE_CHOICES

    assert set(supported_languages()) == set(LANGUAGE_NAMES)
    assert [choice.value for choice in LANGUAGE_CHOICES] == list(LANGUAGE_NAMES)


def test_one_command_list() -> None:
    """The engine parses, Telegram registers and every help text lists the same commands."""
    assert all(not isinstance(parse_command(f"/{name}"), Unknown) for name in COMMANDS)
    assert [name for name, _ in HANDLERS] == list(COMMANDS)
    listed = [name for name in COMMANDS if name not in ("start", "help")]
    for lang in LANGUAGES:
        help_text = t("query.help", lang)
        assert all(re.search(rf"/{name}\b", help_text) for name in listed), lang
        assert all(t(f"telegram.commands.{name}", lang) != f"telegram.commands.{name}" for name in COMMANDS)
