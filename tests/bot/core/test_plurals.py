"""Real plurals and localised dates: every counted string in every language follows CLDR's rules.

Each plural entry of each catalogue is rendered for 0, 1, 2, 5, 11 and 100 in all seven
languages; the form chosen must be the one Babel's CLDR rules name for that number, and no
`{placeholder}` may be left in what a reader sees. Spot checks in the languages whose rules
differ most from English (French's 0, Arabic's six forms) pin the wording itself.
"""

from __future__ import annotations

import ast
import logging
import re
import string
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from babel import Locale

from bot.core.i18n import LANGUAGES, PLURAL_CATEGORIES, format_date, plural_category, plural_en, t
from tests.harness.paths import LOCALES

COUNTS = (0, 1, 2, 5, 11, 100)


def _plural_entries(lang: str) -> dict[str, dict[str, str]]:
    """`namespace.key` → forms, for every plural entry (a table of CLDR categories with `other`)."""
    found: dict[str, dict[str, str]] = {}

    def walk(data: dict[str, Any], prefix: str) -> None:
        for key, value in data.items():
            if isinstance(value, dict) and "other" in value and set(value) <= set(PLURAL_CATEGORIES):
                found[f"{prefix}.{key}"] = value
            elif isinstance(value, dict):
                walk(value, f"{prefix}.{key}")

    for path in sorted((LOCALES / lang).glob("*.toml")):
        walk(tomllib.loads(path.read_text(encoding="utf-8")), path.stem)
    return found


ENGLISH = _plural_entries("en")


def _params(template: str, count: int) -> dict[str, Any]:
    """Every placeholder of `template` filled with a marker word, and the count (which picks the form)."""
    fields = {field for _, field, _, _ in string.Formatter().parse(template) if field}
    return {**{field: f"<{field}>" for field in fields}, "count": count}


def test_the_catalogues_have_plural_entries() -> None:
    assert {"telegram.items", "discord.items_count", "query.issues_title",
            "query.subscribe_unknown_sections"} <= set(ENGLISH)


@pytest.mark.parametrize("lang", list(LANGUAGES))
@pytest.mark.parametrize("key", sorted(ENGLISH))
def test_every_plural_string_takes_the_cldr_form(lang: str, key: str) -> None:
    forms = _plural_entries(lang)[key]
    locale = Locale.parse(lang.replace("-", "_"))
    for count in COUNTS:
        expected_form = forms[locale.plural_form(count)]
        params = _params(ENGLISH[key]["other"], count)
        said = t(key, lang, **params)
        assert said == expected_form.format(**params), (lang, key, count)
        assert not re.search(r"[{}]", said), f"{lang} {key} {count}: placeholder left in {said!r}"
        if "{count}" in expected_form:
            assert str(count) in said


@pytest.mark.parametrize(("lang", "count", "expected"), [
    ("en", 0, "0 items"), ("en", 1, "1 item"), ("en", 2, "2 items"),
    ("fr", 0, "0 élément"), ("fr", 1, "1 élément"), ("fr", 2, "2 éléments"),
    ("fr", 1_000_000, "1\u202f000\u202f000 d’éléments"),
    ("es", 1_000_000, "1.000.000 de artículos"), ("en", 1_000, "1,000 items"),
    ("es", 0, "0 artículos"), ("es", 1, "1 artículo"),
    ("pt-br", 0, "0 item"), ("pt-br", 1, "1 item"), ("pt-br", 5, "5 itens"),
    ("tr", 1, "1 öğe"), ("tr", 5, "5 öğe"), ("zh", 1, "1 条"), ("zh", 11, "11 条"),
    ("ar", 0, "لا عناصر"), ("ar", 1, "عنصر واحد"), ("ar", 2, "عنصران"), ("ar", 5, "5 عناصر"),
    ("ar", 11, "11 عنصرًا"), ("ar", 100, "100 عنصر"),
])
def test_item_counts_read_naturally(lang: str, count: int, expected: str) -> None:
    assert t("telegram.items", lang, count=count) == expected


def test_arabic_uses_all_six_forms() -> None:
    said = {plural_category("ar", n): t("telegram.items", "ar", count=n) for n in COUNTS}
    assert set(said) == set(PLURAL_CATEGORIES) and len(set(said.values())) == 6


def test_a_language_without_catalogue_counts_in_english() -> None:
    assert t("query.issues_title", "de", count=1) == "The issue I know (1):"
    assert t("query.issues_title", "de", count=3) == "Issues I know (3):"


def test_a_plural_entry_without_count_says_other_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.core.i18n"):
        assert t("telegram.items", "fr") == "{count} éléments"
    assert "needs a numeric count" in caplog.text


def test_plural_en_follows_english_rules() -> None:
    assert [plural_en(n, "post") for n in (0, 1, 2)] == ["0 posts", "1 post", "2 posts"]
    assert plural_en(1, "extra one") == "1 extra one" and plural_en(3, "entry", "entries") == "3 entries"


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "March 17, 2020"), ("fr", "17 mars 2020"), ("pt-br", "17 de março de 2020"), ("zh", "2020年3月17日"),
    ("tr", "17 Mart 2020"), ("es", "17 de marzo de 2020"), ("ar", "17 مارس 2020"), ("de", "March 17, 2020"),
])
def test_dates_read_as_the_language_writes_them(lang: str, expected: str) -> None:
    assert format_date(datetime(2020, 3, 17, 9, 30), lang) == expected


_FAKE_PLURAL = re.compile(r"(?<!http)[a-z]\((?:s|es)\)")


def _said_strings(path: Path) -> list[str]:
    """The string literals of a module that reach a reader, an operator or a log (docstrings excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_the_english_code_says_no_fake_plural() -> None:
    """The CLI, logs and panel count in English with `plural_en`: "1 post", "3 problems", never "x(s)" "post(s)"."""
    root = LOCALES.parents[1]
    found = [f"{path.relative_to(root)}: {text!r}"
             for package in ("bot", "adapters", "scheduler", "web") for path in sorted((root / package).rglob("*.py"))
             for text in _said_strings(path) if _FAKE_PLURAL.search(text)]
    found += [str(path.relative_to(root)) for path in (root / "web" / "templates").glob("*.html")
              if _FAKE_PLURAL.search(path.read_text(encoding="utf-8"))]
    assert not found
