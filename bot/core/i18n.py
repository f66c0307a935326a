"""Translated UI strings: one catalogue per language under bot/locales/<lang>/*.toml.

Each file is a namespace (`query.toml` → keys `query.*`), so each adapter keeps its
own strings without touching the engine's. Missing keys fall back to English, then
to the key itself, so a half-translated language never crashes a reply.

A string that says a number is a *plural entry*: a table keyed by CLDR plural categories
(`zero`, `one`, `two`, `few`, `many`, `other`; `other` always present), e.g.

    [items]
    one = "{count} item"
    other = "{count} items"

`t(key, lang, count=n)` picks the form Babel's CLDR rules give `n` in that language (French
says "0 élément" like "1 élément"; Arabic has six forms). A plain string still works. Dates
shown to readers go through `format_date`, so they read as the reader's language writes them.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any, Final

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel.numbers import format_decimal

__all__ = [
    "LANGUAGES",
    "PLURAL_CATEGORIES",
    "format_date",
    "language_name",
    "locale_for",
    "normalize_language",
    "plural_category",
    "plural_categories",
    "plural_en",
    "supported_languages",
    "t",
]

log = logging.getLogger(__name__)
_FALLBACK = "en"

#: The newsletter's edition languages, each with its own name for itself: the one list that
#: language choices (Discord's `language` option), replies ("No Français edition …") and
#: section aliases read.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "fr": "Français",
    "pt-br": "Português (BR)",
    "zh": "中文",
    "tr": "Türkçe",
    "es": "Español",
    "ar": "العربية",
}


#: CLDR's plural categories, in CLDR's order; a plural entry's keys are some of these.
PLURAL_CATEGORIES: Final = ("zero", "one", "two", "few", "many", "other")

#: A catalogue entry: a plain string, or the forms of a plural entry by CLDR category.
Entry = str | Mapping[str, str]


@cache
def locale_for(lang: str | None) -> Locale:
    """Babel's locale for one of our languages ("pt-br" → pt_BR); English for any other, as the replies are."""
    code = normalize_language(lang)
    code = code if code in LANGUAGES else _FALLBACK
    try:
        return Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(_FALLBACK)


def plural_category(lang: str | None, count: float) -> str:
    """The CLDR plural category of `count` in `lang`: ("fr", 0) → "one", ("ar", 11) → "many"."""
    return str(locale_for(lang).plural_form(count))


def plural_categories(lang: str | None) -> frozenset[str]:
    """Every category `lang`'s rules can give (always with "other"): what its plural entries must hold."""
    return frozenset({*locale_for(lang).plural_form.tags, "other"})


def plural_en(count: int, one: str, other: str | None = None) -> str:
    """"1 post", "0 posts", "2 more ticks": a count and its noun by English's rule, for the English-only
    text of the CLI, logs and panel (`other` defaults to `one` + "s")."""
    word = one if plural_category(_FALLBACK, count) == "one" else (other or f"{one}s")
    return f"{count} {word}"


def format_date(value: date | datetime, lang: str | None) -> str:
    """A day as the reader's language writes it: "March 17, 2020", "17 mars 2020", "2020年3月17日"."""
    day = value.date() if isinstance(value, datetime) else value
    return str(babel_dates.format_date(day, "long", locale=locale_for(lang)))


def _is_plural(table: Mapping[str, Any]) -> bool:
    return "other" in table and all(key in PLURAL_CATEGORIES and isinstance(v, str) for key, v in table.items())


@cache
def _catalogue(lang: str) -> dict[str, Entry]:
    strings: dict[str, Entry] = {}
    root = resources.files("bot") / "locales" / lang
    if not root.is_dir():
        return strings
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        namespace = entry.name.removesuffix(".toml")
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        _flatten(namespace, data, strings)
    return strings


def _flatten(prefix: str, data: dict[str, Any], out: dict[str, Entry]) -> None:
    for key, value in data.items():
        name = f"{prefix}.{key}"
        if isinstance(value, dict) and _is_plural(value):
            out[name] = dict(value)
        elif isinstance(value, dict):
            _flatten(name, value, out)
        else:
            out[name] = str(value)


@cache
def supported_languages() -> tuple[str, ...]:
    """Languages that have a catalogue (at least EN and FR)."""
    root = resources.files("bot") / "locales"
    return tuple(sorted(entry.name for entry in root.iterdir() if entry.is_dir()))


def normalize_language(code: str | None) -> str:
    """The one language normaliser: "fr-FR", "pt_BR", "PT", "zh-Hans", "es-419" → "fr", "pt-br", "pt-br", "zh", "es".

    A tag outside our list keeps its primary subtag ("ja-JP" → "ja"); "" for nothing
    usable (empty, not a language tag).
    """
    value = (code or "").strip().lower().replace("_", "-")
    if value in LANGUAGES:
        return value
    base = value.split("-")[0]
    if base == "pt":
        return "pt-br"
    if base in ("zh", "ch"):  # "[CH]" is how some editions tag Chinese
        return "zh"
    return base if base.isalpha() and 2 <= len(base) <= 3 else ""


def language_name(lang: str, in_lang: str | None = None, *, edition: bool = False) -> str:
    """"fr" → "Français" (its own name), or as a reply written in `in_lang` says it.

    `language_name("en", "fr")` is "anglais" ("je réponds en anglais"); with `edition=True`
    the form that qualifies an edition ("la version anglaise"). A code we have no name for
    is shown as is.
    """
    if in_lang is None:
        return LANGUAGES.get(lang, lang)
    key = f"languages.{'edition' if edition else 'name'}.{lang}"
    for catalogue in (_catalogue(normalize_language(in_lang) or _FALLBACK), _catalogue(_FALLBACK)):
        name = catalogue.get(key)
        if isinstance(name, str) and name:
            return name
    return LANGUAGES.get(lang, lang)


def t(key: str, lang: str | None = None, /, **params: Any) -> str:
    """The string `key` in `lang` (falling back to English), formatted with `params`.

    A plural entry takes the form that `params["count"]` needs in the language of the catalogue
    that answered (an English fallback follows English's rules), and shows the count with that
    language's digit grouping.
    """
    lang = normalize_language(lang) or _FALLBACK
    entry = _catalogue(lang).get(key)
    if not entry:
        entry, lang = _catalogue(_FALLBACK).get(key), _FALLBACK
    if not entry:
        log.warning("missing translation key %s", key)
        return key
    if isinstance(entry, str):
        template = entry
    else:
        count = params.get("count")
        template = _form(entry, key, lang, count)
        if isinstance(count, int) and not isinstance(count, bool):  # "1 000 000" in French, "1.000.000" in Spanish
            params = {**params, "count": format_decimal(count, locale=locale_for(lang))}
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        log.warning("bad parameters for translation key %s in %s", key, lang)
        return template


def _form(forms: Mapping[str, str], key: str, lang: str, count: object) -> str:
    """The form of a plural entry for `count` ("other" when the count is missing or its form is)."""
    if not isinstance(count, int | float) or isinstance(count, bool):
        log.warning("plural translation key %s needs a numeric count", key)
        return forms["other"]
    return forms.get(plural_category(lang, count)) or forms["other"]
