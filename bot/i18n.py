"""Translated UI strings: one catalogue per language under bot/locales/<lang>/*.toml.

Each file is a namespace (`query.toml` → keys `query.*`), so each adapter keeps its
own strings without touching the engine's. Missing keys fall back to English, then
to the key itself, so a half-translated language never crashes a reply.
"""

from __future__ import annotations

import logging
import tomllib
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["LANGUAGES", "language_name", "normalize_language", "supported_languages", "t"]

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


@cache
def _catalogue(lang: str) -> dict[str, str]:
    strings: dict[str, str] = {}
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


def _flatten(prefix: str, data: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in data.items():
        name = f"{prefix}.{key}"
        if isinstance(value, dict):
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
    catalogue = _catalogue(normalize_language(in_lang) or _FALLBACK)
    return catalogue.get(key) or _catalogue(_FALLBACK).get(key) or LANGUAGES.get(lang, lang)


def t(key: str, lang: str | None = None, /, **params: Any) -> str:
    """The string `key` in `lang` (falling back to English), formatted with `params`."""
    lang = normalize_language(lang) or _FALLBACK
    template = _catalogue(lang).get(key) or _catalogue(_FALLBACK).get(key)
    if template is None:
        log.warning("missing translation key %s", key)
        return key
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        log.warning("bad parameters for translation key %s in %s", key, lang)
        return template
