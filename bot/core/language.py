"""Which language an edition is in and which issue number it carries, from whatever says so.

Titles are not uniform ("NLP Newsletter [FR] #4: …", "NLP 简报（Issue#6）", "NLP
Newsletter: …", an Arabic title saying "the fifth edition"), so each answer is
looked for in order of trust: the title, then the link and entry id, then the
text itself (script, function words, py3langid), and finally ordinal words
("第六期", "الإصدار الخامس", "the 7th issue").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from bot.core.i18n import LANGUAGES, normalize_language

__all__ = ["infer_language", "infer_number", "normalize_language_code"]

KNOWN = tuple(LANGUAGES)

# Language tags in brackets or parentheses: "[FR]", "(PT-BR)", "【ZH】", "[CH]".
_TAGS = {
    "EN": "en", "FR": "fr", "PT-BR": "pt-br", "PTBR": "pt-br", "PT_BR": "pt-br", "BR": "pt-br", "PT": "pt-br",
    "ZH": "zh", "CH": "zh", "CN": "zh", "ZH-CN": "zh", "TR": "tr", "ES": "es", "AR": "ar",
    "DE": "de", "IT": "it", "JA": "ja", "JP": "ja", "KO": "ko", "KR": "ko", "RU": "ru", "FA": "fa",
}
_TAG_ALT = "|".join(sorted((re.escape(t) for t in _TAGS), key=len, reverse=True))
_TITLE_TAG = re.compile(rf"[\[(（【]\s*({_TAG_ALT})\s*[\])）】]", re.IGNORECASE)
# In links and ids tags are upper case between separators: "-FR", "[ZH]", ".AR.", "-PT-BR-", "_TR_".
_LINK_TAG = re.compile(rf"(?:^|(?<=[-_.\[(/#]))({_TAG_ALT})(?=$|[-_.\])/#])")
# Words that name the newsletter in one language ("Boletín", "Bülteni", "简报").
_TITLE_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"简报|簡報|周报|通讯"), "zh"),
    (re.compile(r"(?i)bolet[ií]n"), "es"),
    (re.compile(r"(?i)boletim"), "pt-br"),
    (re.compile(r"(?i)b[üu]lten|sayı"), "tr"),
    (re.compile(r"(?i)infolettre|lettre d'information|lettre d’information"), "fr"),
)

# Function words: a cheap, instant detector for the feed's Latin-script languages;
# py3langid (which takes ~0.5 s to load its model) is only asked when these disagree.
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words("the and of to is in that for with this are on as it be by from we you our"),
    "fr": _words("le la les et des est une pour dans du au aux sur que qui nous vous sont avec ce cette"),
    "pt-br": _words("o os de que não uma para com são em dos das no na nos é um pelo pela você também"),
    "es": _words("el los las y que del una para con por es en un se al lo como más este esta"),
    "tr": _words("ve bir bu için ile da de olarak çok daha gibi olan ancak veya ise şu her"),
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_MIN_STOPWORD_HITS = 8

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def normalize_language_code(code: str | None) -> str | None:
    """`bot.core.i18n.normalize_language`, with None for nothing usable."""
    return normalize_language(code) or None


def _script_language(text: str) -> str | None:
    """zh/ar when Han or Arabic letters make up a real share of the letters (titles mix in English names)."""
    han = len(_CJK.findall(text))
    arabic = len(_ARABIC.findall(text))
    latin = len(_LATIN.findall(text))
    # A Han character carries about a word, so weigh it against Latin letters generously.
    if han and han * 4 >= latin * 0.5 and han >= arabic:
        return "zh"
    if arabic and arabic >= latin * 0.5:
        return "ar"
    return None


def _title_language(title: str) -> str | None:
    match = _TITLE_TAG.search(title)
    if match:
        return _TAGS[match.group(1).upper()]
    for pattern, code in _TITLE_WORDS:
        if pattern.search(title):
            return code
    return _script_language(title) if (_CJK.search(title) or _ARABIC.search(title)) else None


def _link_language(*locations: str) -> str | None:
    for location in locations:
        if not location:
            continue
        decoded = unquote(location)
        match = _LINK_TAG.search(decoded)
        if match:
            return _TAGS[match.group(1).upper()]
        for pattern, code in _TITLE_WORDS:
            if pattern.search(decoded):
                return code
        path = decoded.split("://", 1)[-1]
        if _CJK.search(path):
            return "zh"
        if _ARABIC.search(path):
            return "ar"
    return None


# Word → the languages it is a function word of, so counting costs one lookup per word.
_STOPWORD_LANGUAGES: dict[str, tuple[str, ...]] = {}
for _code, _words_of in _STOPWORDS.items():
    for _word in _words_of:
        _STOPWORD_LANGUAGES[_word] = (*_STOPWORD_LANGUAGES.get(_word, ()), _code)
del _code, _words_of, _word


def _stopword_language(text: str) -> str | None:
    counts = dict.fromkeys(_STOPWORDS, 0)
    languages_of = _STOPWORD_LANGUAGES.get
    for word in _WORD.findall(text[:2500].lower()):
        codes = languages_of(word)
        if codes:
            for code in codes:
                counts[code] += 1
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    (best, hits), (_, second) = ranked[0], ranked[1]
    if hits >= _MIN_STOPWORD_HITS and hits >= 2 * second:
        return best
    return None


@lru_cache(maxsize=1)
def _langid() -> Any:
    import py3langid

    return py3langid


def _detected_language(text: str) -> str | None:
    sample = text[:2500]
    if not sample.strip():
        return None
    script = _script_language(sample)
    if script:
        return script
    quick = _stopword_language(sample)
    if quick:
        return quick
    if len(_WORD.findall(sample)) < 3:
        return None
    code, _score = _langid().classify(sample)
    return normalize_language_code(str(code))


def infer_language(title: str, link: str, entry_id: str, text: str, feed_language: str | None = None) -> str:
    """The edition's language code: "en", "fr", "pt-br", "zh", "tr", "es", "ar", another ISO code, or "und".

    Args:
        title: entry title; a tag ("[FR]", "[CH]"), a word ("简报", "Boletín") or its script decides first.
        link: entry link; markers such as "-FR", ".AR.", "-PT-BR-" decide next.
        entry_id: entry id, read like the link.
        text: the edition's text (preamble and sections), detected last.
        feed_language: the feed's `<language>`, used only when nothing else speaks.
    """
    return (
        _title_language(title or "")
        or _link_language(link or "", entry_id or "")
        or _detected_language(text or "")
        or normalize_language_code(feed_language)
        or "und"
    )


# --------------------------------------------------------------------------- issue numbers
_TITLE_NUMBER = (
    re.compile(r"(?i)(?<![a-z])(?:issue|edition|edición|edição|édition|numéro|número|number|nummer|sayı|no\.?|n[°º])\s*#?\s*(\d{1,4})\b"),
    re.compile(r"#\s*(\d{1,4})\b"),
    re.compile(r"第\s*(\d{1,4})\s*[期号號]"),
    re.compile(r"(?:العدد|الإصدار|الاصدار|النسخة|رقم)\s*#?\s*(\d{1,4})"),
    re.compile(r"(?i)\b(\d{1,4})\.\s*sayı"),
)
_LINK_NUMBER = (
    re.compile(r"(?i)issue[\s_\-#]*(\d{1,4})(?!\d)"),
    # "/538.html", "/issues/42/", but not a date's last part ("/2020/05/")
    re.compile(r"(?i)(?<!/\d{4})(?<!/\d{2})(?<!/\d)/(\d{1,4})(?:\.html?|\.php)?/?(?:[?#]|$)"),
    re.compile(r"#[\s_\-]*(\d{1,4})(?!\d)"),
    re.compile(r"(?i)(?<![a-z])nlp[_\-](\d{1,4})(?![\d.])"),
    re.compile(r"(?i)newsletter[_\-]+-?(\d{1,4})(?=$|[_\-/.\[])"),
    re.compile(r"(?i)(?:bolet[ií]n|b[üu]lten[i]?)[_\-]+(?:de[_\-]+)?(?:pln[_\-]+|nlp[_\-]+)?-?(\d{1,4})(?=$|[_\-/.\[])"),
)

_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_ZH_ORDINAL = re.compile(r"第\s*([零〇一二两三四五六七八九十百]+)\s*[期号號]")

_ORDINALS: dict[str, dict[str, int]] = {
    "en": {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
           "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
           "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
           "nineteenth": 19, "twentieth": 20},
    "fr": {"premier": 1, "première": 1, "premiere": 1, "deuxième": 2, "deuxieme": 2, "second": 2, "seconde": 2,
           "troisième": 3, "quatrième": 4, "cinquième": 5, "sixième": 6, "septième": 7, "huitième": 8,
           "neuvième": 9, "dixième": 10, "onzième": 11, "douzième": 12, "treizième": 13,
           "quatorzième": 14, "quinzième": 15, "seizième": 16},
    "es": {"primer": 1, "primero": 1, "primera": 1, "segundo": 2, "segunda": 2, "tercer": 3, "tercero": 3,
           "tercera": 3, "cuarto": 4, "cuarta": 4, "quinto": 5, "quinta": 5, "sexto": 6, "sexta": 6,
           "séptimo": 7, "séptima": 7, "octavo": 8, "octava": 8, "noveno": 9, "novena": 9, "décimo": 10,
           "décima": 10, "undécimo": 11, "decimoprimero": 11, "duodécimo": 12, "decimosegundo": 12,
           "decimotercero": 13, "decimotercer": 13, "decimocuarto": 14, "decimoquinto": 15},
    "pt": {"primeiro": 1, "primeira": 1, "segundo": 2, "segunda": 2, "terceiro": 3, "terceira": 3,
           "quarto": 4, "quarta": 4, "quinto": 5, "quinta": 5, "sexto": 6, "sexta": 6, "sétimo": 7,
           "sétima": 7, "oitavo": 8, "oitava": 8, "nono": 9, "nona": 9, "décimo": 10, "décima": 10,
           "décimo primeiro": 11, "décimo segundo": 12, "décimo terceiro": 13, "décimo quarto": 14,
           "décima primeira": 11, "décima segunda": 12, "décima terceira": 13, "décima quarta": 14},
    "tr": {"birinci": 1, "ilk": 1, "ikinci": 2, "üçüncü": 3, "dördüncü": 4, "beşinci": 5, "altıncı": 6,
           "yedinci": 7, "sekizinci": 8, "dokuzuncu": 9, "onuncu": 10, "on birinci": 11, "on ikinci": 12,
           "on üçüncü": 13, "on dördüncü": 14, "on beşinci": 15},
    "ar": {"الأول": 1, "الاول": 1, "الأولى": 1, "الاولى": 1, "الثاني": 2, "الثانية": 2, "الثالث": 3,
           "الثالثة": 3, "الرابع": 4, "الرابعة": 4, "الخامس": 5, "الخامسة": 5, "السادس": 6, "السادسة": 6,
           "السابع": 7, "السابعة": 7, "الثامن": 8, "الثامنة": 8, "التاسع": 9, "التاسعة": 9, "العاشر": 10,
           "العاشرة": 10, "الحادي عشر": 11, "الحادية عشرة": 11, "الثاني عشر": 12, "الثانية عشرة": 12,
           "الثالث عشر": 13, "الثالثة عشرة": 13, "الرابع عشر": 14, "الرابعة عشرة": 14,
           "الخامس عشر": 15, "الخامسة عشرة": 15},
}


def _alternation(words: dict[str, int]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# An ordinal counts only next to a word for "issue", so "the first paper" never numbers an issue.
_ORDINAL_PATTERNS: tuple[tuple[re.Pattern[str], dict[str, int]], ...] = (
    (re.compile(rf"(?i)\b({_alternation(_ORDINALS['en'])})\s+(?:issue\b|edition\s+of\s+(?:the\s+)?(?:nlp\s+)?"
                rf"newsletter)"), _ORDINALS["en"]),
    (re.compile(rf"(?i)\b({_alternation(_ORDINALS['fr'])})\s+(?:numéro|édition|newsletter|lettre)\b"),
     _ORDINALS["fr"]),
    (re.compile(rf"(?i)(?:numéro|édition)\s+({_alternation(_ORDINALS['fr'])})\b"), _ORDINALS["fr"]),
    (re.compile(rf"(?i)\b({_alternation(_ORDINALS['es'])})\s+(?:número|edición|boletín|entrega)\b"),
     _ORDINALS["es"]),
    (re.compile(rf"(?i)\b({_alternation(_ORDINALS['pt'])})\s+(?:edição|número|newsletter|boletim)\b"),
     _ORDINALS["pt"]),
    (re.compile(rf"(?i)(?<!\w)({_alternation(_ORDINALS['tr'])})\s+(?:sayı|bülten|baskı)"), _ORDINALS["tr"]),
    (re.compile(rf"(?:الإصدار|الاصدار|العدد|النسخة|الطبعة)\s+({_alternation(_ORDINALS['ar'])})(?!\w)"),
     _ORDINALS["ar"]),
)
_NUMERIC_ORDINAL = re.compile(
    r"(?i)\b(\d{1,3})\s*(?:st|nd|rd|th|e|er|ère|ème|º|ª|\.)\s+(?:issue|edition|numéro|édition|edición|edição|"
    r"número|sayı|bülten)\b"
)


def _zh_number(text: str) -> int | None:
    """"六" → 6, "十二" → 12, "二十" → 20, "一百零一" → 101."""
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch in _ZH_DIGITS:
            current = _ZH_DIGITS[ch]
        else:
            return None
    value = total + current
    return value or None


def _is_year(value: int) -> bool:
    return 1990 <= value <= 2099


def _first_match(patterns: tuple[re.Pattern[str], ...], text: str) -> int | None:
    """The first number a pattern finds that is not 0 and not a year ("Issue 2020 in review")."""
    for pattern in patterns:
        for match in pattern.finditer(text):
            value = int(match.group(1))
            if 0 < value < 10000 and not _is_year(value):
                return value
    return None


# After the newsletter's name, a bare number is the issue's: "This Week in Rust 635",
# "Rust Weekly 12 — Subtitle"; never a version ("2.1") nor a count ("12 papers").
_AFTER_NAME = r"\s*[-–—:|]?\s*(\d{1,4})(?![\d.,]|\s*[^\W\d_])"


def _name_number(title: str, names: tuple[str, ...]) -> int | None:
    folded = title.casefold()
    for name in names:
        name = " ".join(name.split()).casefold()
        if len(name) < 3 or not folded.startswith(name):
            continue
        match = re.match(_AFTER_NAME, folded[len(name):])
        if match and not _is_year(int(match.group(1))) and int(match.group(1)) > 0:
            return int(match.group(1))
    return None


# Every ordinal pattern above needs one of these words (or "第"): texts without any are skipped
# with one search instead of nine.
_ORDINAL_CONTEXT = re.compile(
    r"(?i)issue|edition|numéro|édition|edición|edição|número|sayı|bülten|newsletter|lettre|boletín|entrega|"
    r"boletim|baskı|الإصدار|الاصدار|العدد|النسخة|الطبعة"
)


def _ordinal_number(text: str) -> int | None:
    if "第" not in text and not _ORDINAL_CONTEXT.search(text):
        return None
    match = _ZH_ORDINAL.search(text)
    if match:
        value = _zh_number(match.group(1))
        if value:
            return value
    match = _NUMERIC_ORDINAL.search(text)
    if match and 0 < int(match.group(1)) < 1000:
        return int(match.group(1))
    for pattern, table in _ORDINAL_PATTERNS:
        match = pattern.search(text)
        if match:
            word = match.group(1)
            value = table.get(word) or table.get(word.lower())
            if value:
                return value
    return None


def infer_number(title: str, link: str, entry_id: str, text: str, names: tuple[str, ...] = ()) -> int | None:
    """The issue number an edition states: "#7", "Issue 538", "Vol. 3, Issue 5", "No. 12", "This Week in
    Rust 635", "/issue-42/", "/538.html", "_NLP_7", "第六期", "الإصدار الخامس" — never a year, a version or a count.

    Args:
        title: tried first, digits then ordinal words.
        link: then the link ("NLP_Newsletter_-7_-FR", "…_NLP_7", "…ISSUE_4…").
        entry_id: read like the link.
        text: last resort, ordinal phrases only ("Welcome to the 7th issue", "第一期"); pass the
            preamble rather than the whole edition, where "Issue #1" of some other series may appear.
        names: the newsletter's names (configured, feed title): a number right after one is the issue's.

    Returns:
        The number, or None when nothing says it (see `split.assign_numbers`).
    """
    title = unicodedata.normalize("NFKC", title or "")
    number = _first_match(_TITLE_NUMBER, title)
    if number is not None:
        return number
    number = _name_number(title, names)
    if number is not None:
        return number
    for location in (link, entry_id):
        if location:
            number = _first_match(_LINK_NUMBER, unquote(location))
            if number is not None:
                return number
    number = _ordinal_number(title)
    if number is not None:
        return number
    return _ordinal_number((text or "")[:4000])
