"""Canonical section keys: one name for "Outils et jeux de données ⚙️", "Tools and Datasets" and "工具与数据集".

Every edition of an issue, whatever its language, files its sections under the
same key, so configuration (`sections = ["tools_datasets"]`), storage and chat
queries (`/section outils`) work across languages. A heading is mapped by its
name in a per-language alias table first, then by its emoji (📙 🎨 ⚙️ …), then by
a close name; an unknown heading still gets a stable slug key.

Key decisions:
- issues #1–#6 have "Creativity and Society 🎨" (`creativity_society`) and a
  separate "Ethics in AI 🚨" (`ethics`); from #7 on they are merged into
  "Creativity, Ethics, and Society 🌎", which gets its own key
  `creativity_ethics_society` (its content is not that of either older section,
  and a subscriber of `ethics` should not silently receive creativity items).
- "Research and Publications 📙" is `publications`; "Avant-propos" / intros are
  `foreword`; the Chinese editions' "本文参考资料" reference lists are `references`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache

from rapidfuzz import fuzz

from bot.core.i18n import LANGUAGES as LANGUAGE_NAMES
from bot.core.i18n import normalize_language
from bot.core.textforms import plain_fold

__all__ = [
    "CANONICAL_EMOJI",
    "FRAME_KEYS",
    "SectionAliases",
    "is_emoji_char",
    "normalize",
    "slugify",
    "split_heading",
    "strip_variation",
]

#: Sections that frame an issue rather than carry its news (the editor's foreword, a reference list): they
#: do not mark a feed's shape and are never the example a reply suggests.
FRAME_KEYS: frozenset[str] = frozenset({"foreword", "references"})

#: The emoji each canonical section carries in every language (with VS16 where the feed uses it).
CANONICAL_EMOJI: dict[str, str] = {
    "publications": "📙",
    "creativity_society": "🎨",
    "creativity_ethics_society": "🌎",
    "tools_datasets": "⚙️",
    "ethics": "🚨",
    "articles_blogs": "✍️",
    "education": "🎓",
    "mentions": "⭐️",
    "stay_informed": "🎯",
}

# Names per key and language, best (most usual display name) first. EN/FR/PT-BR/ZH/ES/AR
# first names are those published in the feed; the others are real translations.
_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "top_stories": {
        "en": ("Top Stories", "Top Story", "Highlights", "Headlines"),
        "fr": ("À la une", "Actualités principales", "Les grandes nouvelles", "Temps forts"),
        "pt-br": ("Principais notícias", "Destaques", "Principais histórias"),
        "zh": ("头条新闻", "头条", "热点新闻", "要闻"),
        "tr": ("Öne Çıkanlar", "Manşetler", "Öne Çıkan Haberler"),
        "es": ("Noticias destacadas", "Historias destacadas", "Titulares"),
        "ar": ("أهم الأخبار", "أبرز الأخبار", "أهم القصص"),
    },
    "publications": {
        "en": ("Publications", "Research and Publications", "Research & Publications", "Research", "Papers"),
        "fr": ("Publications", "Recherche et publications", "Recherches et publications", "Articles scientifiques"),
        "pt-br": ("Publicações", "Pesquisas e Publicações", "Pesquisa e Publicações"),
        "zh": ("论文", "研究与论文", "研究和论文", "研究与出版物", "出版物", "学术论文", "研究与发表"),
        "tr": ("Yayınlar", "Araştırmalar ve Yayınlar", "Araştırma ve Yayınlar", "Makaleler ve Yayınlar"),
        "es": ("Publicaciones", "Investigación y publicaciones", "Investigaciones y publicaciones"),
        "ar": ("المنشورات", "الأبحاث والمنشورات", "البحث والمنشورات", "الأوراق البحثية"),
    },
    "creativity_society": {
        "en": ("Creativity and Society", "Creativity & Society"),
        "fr": ("Créativité et société",),
        "pt-br": ("Criatividade e Sociedade",),
        "zh": ("创意与社会", "创造力与社会", "创意和社会"),
        "tr": ("Yaratıcılık ve Toplum",),
        "es": ("Creatividad y Sociedad",),
        "ar": ("الإبداع والمجتمع",),
    },
    "creativity_ethics_society": {
        "en": ("Creativity, Ethics, and Society", "Creativity, Ethics and Society", "Creativity, Ethics & Society"),
        "fr": ("Créativité, éthique et société", "Créativité, Éthique et Société"),
        "pt-br": ("Criatividade, Ética e Sociedade",),
        "zh": ("创意、伦理与社会", "创造力、伦理与社会", "创意、道德与社会", "创造力、道德与社会"),
        "tr": ("Yaratıcılık, Etik ve Toplum",),
        "es": ("Creatividad, Ética y Sociedad",),
        "ar": ("الإبداع والأخلاق والمجتمع", "الإبداع، الأخلاق والمجتمع"),
    },
    "tools_datasets": {
        "en": ("Tools and Datasets", "Tools & Datasets", "Tools"),
        "fr": ("Outils et jeux de données", "Outils et données", "Outils"),
        "pt-br": ("Ferramentas e Bases de Dados", "Ferramentas e Datasets", "Ferramentas e Conjuntos de Dados"),
        "zh": ("工具与数据集", "工具和数据集", "工具"),
        "tr": ("Araçlar ve Veri Setleri", "Araçlar ve Veri Kümeleri", "Araçlar"),
        "es": ("Herramientas y conjuntos de datos", "Herramientas y Set de Datos", "Herramientas y datasets"),
        "ar": ("أدوات ومجموعات بيانات", "الأدوات ومجموعات البيانات", "الأدوات"),
    },
    "ethics": {
        "en": ("Ethics in AI", "Ethics", "AI Ethics"),
        "fr": ("Éthique en IA", "Ethique en IA", "Éthique de l'IA", "Éthique"),
        "pt-br": ("Ética em IA", "Ética em Inteligência Artificial", "Ética"),
        "zh": ("AI伦理", "人工智能伦理", "AI中的伦理", "伦理"),
        "tr": ("Yapay Zekada Etik", "Yapay Zeka Etiği", "Etik"),
        "es": ("Ética en la Inteligencia Artificial", "Ética en IA", "Ética"),
        "ar": ("الأخلاق في الذكاء الاصطناعي", "أخلاقيات الذكاء الاصطناعي", "الأخلاق"),
    },
    "articles_blogs": {
        "en": ("Articles and Blog posts", "Articles and Blogs", "Articles & Blog posts", "Articles"),
        "fr": ("Articles et Blog", "Articles et billets de blog", "Articles"),
        "pt-br": ("Artigos e Postagens", "Artigos e Blog posts", "Artigos e Blogs", "Artigos"),
        "zh": ("文章与博客", "文章和博客", "文章与博文", "文章"),
        "tr": ("Makaleler ve Blog Yazıları", "Makaleler ve Bloglar", "Makaleler"),
        "es": ("Artículos y Blogs", "Artículos y publicaciones de blog", "Artículos"),
        "ar": ("المقالات والتدوينات", "مقالات ومدونات", "المقالات"),
    },
    "education": {
        "en": ("Education", "Education and Courses"),
        "fr": ("Éducation", "Education", "Formation"),
        "pt-br": ("Educação",),
        "zh": ("教育", "学习资源"),
        "tr": ("Eğitim",),
        "es": ("Educación",),
        "ar": ("التعليم", "تعليم"),
    },
    "mentions": {
        "en": ("Noteworthy Mentions", "Notable Mentions", "Honorable Mentions", "Mentions"),
        "fr": ("Mentions spéciales", "Mentions honorables", "Mentions"),
        "pt-br": ("Menções Honrosas", "Menções"),
        "zh": ("值得关注", "其他值得关注", "值得一提", "特别提及"),
        "tr": ("Kayda Değer Bahisler", "Dikkate Değer", "Anmaya Değer"),
        "es": ("Menciones a considerar", "Menciones especiales", "Menciones destacadas", "Menciones"),
        "ar": ("إضافات جديرة بالذكر", "إشارات جديرة بالذكر", "جدير بالذكر"),
    },
    "updates": {
        "en": ("Updates", "A few updates", "News", "Announcements"),
        "fr": ("Mises à jour", "Nouvelles", "Annonces"),
        "pt-br": ("Atualizações", "Novidades", "Anúncios"),
        "zh": ("更新", "最新动态", "动态", "公告"),
        "tr": ("Güncellemeler", "Duyurular", "Haberler"),
        "es": ("Actualizaciones", "Novedades", "Anuncios"),
        "ar": ("التحديثات", "تحديثات", "إعلانات"),
    },
    "stay_informed": {
        "en": ("Stay Informed", "Stay informed", "Keep in touch"),
        "fr": ("Restez informés", "Restez informé", "Restez informé·e·s", "Restez à l'écoute"),
        "pt-br": ("Fique por dentro", "Mantenha-se informado", "Fique informado"),
        "zh": ("保持关注", "随时了解", "持续关注"),
        "tr": ("Haberdar Olun", "Gelişmelerden Haberdar Olun", "Takipte Kalın"),
        "es": ("Mantente informado", "Mantente al día", "Manténgase informado"),
        "ar": ("ابق على اطلاع", "ابقَ على اطلاع", "ابقوا على اطلاع"),
    },
    "foreword": {
        "en": ("Foreword", "Introduction", "Intro", "Preface", "Editor's note"),
        "fr": ("Avant-propos", "Introduction", "Préface", "Mot de l'éditeur"),
        "pt-br": ("Prefácio", "Introdução", "Apresentação"),
        "zh": ("前言", "引言", "序言", "导语"),
        "tr": ("Önsöz", "Giriş"),
        "es": ("Prólogo", "Introducción", "Prefacio"),
        "ar": ("مقدمة", "المقدمة", "تمهيد"),
    },
    "references": {
        "en": ("References", "Sources"),
        "fr": ("Références", "Sources"),
        "pt-br": ("Referências", "Fontes"),
        "zh": ("本文参考资料", "参考资料", "参考文献", "参考链接"),
        "tr": ("Kaynaklar", "Referanslar"),
        "es": ("Referencias", "Fuentes"),
        "ar": ("المراجع", "المصادر"),
    },
}

LANGUAGES: tuple[str, ...] = tuple(LANGUAGE_NAMES)
_EXTRA = "*"  # language slot of config-provided aliases

_VARIATION = "\ufe0f\ufe0e"
_ZWJ = "\u200d"
_WS = re.compile(r"\s+")
_PUNCT_CATEGORIES = ("P", "S", "C", "Z")
# "1、", "1.", "2)", "3 -", "#4", "IV." … at the start of a heading.
_NUMBERING = re.compile(r"^\s*(?:#?\d{1,3}(?:\.\d{1,3})*(?:\s*[、.)）:：]|\s+[-–—](?=\s))|[IVX]{1,4}[.)])\s*")
_MIN_PREFIX = 4
# "Avant-propos d'Elvis" is the foreword; "Updates from the Rust Project" is a section of its own
# (a longer heading names its own subject, and its key must not depend on which others the issue has).
_MAX_EXTRA_WORDS = 2
_FUZZY_THRESHOLD = 88.0


def is_emoji_char(ch: str) -> bool:
    """True for pictographs, dingbats, variation selectors, ZWJ and skin tones that make up emoji."""
    if ch in _VARIATION or ch == _ZWJ:
        return True
    code = ord(ch)
    if 0x1F3FB <= code <= 0x1F3FF or 0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF:
        return True
    if 0x2B00 <= code <= 0x2BFF or 0x2190 <= code <= 0x21FF or 0x2300 <= code <= 0x23FF:
        return unicodedata.category(ch) == "So"
    return False


def strip_variation(text: str) -> str:
    """Emoji without variation selectors, so "⚙" and "⚙️", "⭐" and "⭐️" compare equal."""
    return "".join(ch for ch in text if ch not in _VARIATION)


@lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """Casefolded, accent-free, single-spaced text: the form names are compared in
    (`bot.core.textforms.plain_fold`, single-spaced; the other forms are listed there).

    Used for heading → key mapping, repeated labels in the splitter and by the query engine, so "Éducation",
    "education " and "EDUCATION" all meet. Cached: a lookup compares the words with the same
    few dozen section names every time.
    """
    return _WS.sub(" ", plain_fold(text)).strip()


@lru_cache(maxsize=8192)
def _match_form(text: str) -> str:
    """`normalize` without emoji or punctuation: "Creativity, Ethics, and Society" → "creativity ethics and society"."""
    text = normalize(text.replace("&", " and "))
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        out.append(" " if cat[0] in _PUNCT_CATEGORIES or is_emoji_char(ch) else ch)
    return _WS.sub(" ", "".join(out)).strip()


@lru_cache(maxsize=4096)
def split_heading(text: str) -> tuple[str, str]:
    """Heading → (title, emoji): "1、Publications 📙" → ("Publications", "📙").

    Strips leading numbering ("1、", "2.", "3)") and moves emoji found at either
    end into the second element (with its variation selector as published).
    """
    text = _WS.sub(" ", text.replace("\u00a0", " ")).strip()
    emoji_chars: list[str] = []
    end = len(text)
    while end > 0 and (is_emoji_char(text[end - 1]) or text[end - 1].isspace()):
        end -= 1
    trailing = text[end:].replace(" ", "")
    start = 0
    while start < end and (is_emoji_char(text[start]) or text[start].isspace()):
        start += 1
    leading = text[:start].replace(" ", "")
    emoji_chars.append(leading)
    emoji_chars.append(trailing)
    title = text[start:end].strip()
    stripped = _NUMBERING.sub("", title, count=1).strip()
    if stripped and stripped != title and not stripped[0].isdigit():
        title = stripped
    emoji = "".join(emoji_chars)
    if emoji and not strip_variation(emoji).strip(_ZWJ):
        emoji = ""  # a stray variation selector is not an emoji
    return title, emoji


def slugify(text: str, max_length: int = 48) -> str:
    """A stable key for an unknown heading: ASCII where the heading is Latin, its own letters otherwise.

    "Stay Curious!" → "stay_curious", "Ça va" → "ca_va", "机器学习" → "机器学习",
    "📰" → "newspaper" (the emoji's Unicode name), "" → "section".
    """
    title, emoji = split_heading(text)
    base = _match_form(title)
    slug = re.sub(r"[^\w]+", "_", base).strip("_")
    if not slug and emoji:
        first = strip_variation(emoji)[:1]
        try:
            slug = re.sub(r"[^a-z0-9]+", "_", unicodedata.name(first).lower()).strip("_")
        except (ValueError, TypeError):
            slug = ""
    return (slug[:max_length].rstrip("_")) or "section"


class SectionAliases:
    """Maps section headings in any language to canonical keys, and keys back to names.

    Args:
        extra: `config.toml [sections.aliases]`: more names per key. A key that is
            not canonical becomes a known key of its own (its first alias is its
            display name), so a maintainer can name a new section without code.
    """

    def __init__(self, extra: Mapping[str, Sequence[str]] | None = None) -> None:
        self._names: dict[str, dict[str, list[str]]] = {
            key: {lang: list(names) for lang, names in by_lang.items()} for key, by_lang in _ALIASES.items()
        }
        for key, names in (extra or {}).items():
            clean = [n.strip() for n in names if isinstance(n, str) and n.strip()]
            self._names.setdefault(key, {}).setdefault(_EXTRA, []).extend(clean)
        self._exact: dict[str, str] = {}
        self._by_lang: dict[tuple[str, str], str] = {}
        # Config extras win over the built-in table, so a maintainer can re-file a name.
        for key, by_lang in self._names.items():
            for lang, names in by_lang.items():
                for name in names:
                    form = _match_form(name)
                    if not form:
                        continue
                    if lang == _EXTRA:
                        self._exact[form] = key
                    else:
                        self._exact.setdefault(form, key)
                        self._by_lang.setdefault((lang, form), key)
        for key, by_lang in self._names.items():
            for name in by_lang.get(_EXTRA, []):
                form = _match_form(name)
                if form:
                    for lang in LANGUAGES:
                        self._by_lang[(lang, form)] = key
        self._emoji: dict[str, str] = {strip_variation(e): k for k, e in CANONICAL_EMOJI.items()}
        self._forms: list[tuple[str, str]] = sorted(self._exact.items(), key=lambda kv: -len(kv[0]))

    # ------------------------------------------------------------------ heading → key
    def key_for(self, heading: str, lang: str | None = None) -> str:
        """Canonical key of a heading ("Outils et jeux de données ⚙️" → "tools_datasets").

        Order: exact name (the heading's language first), emoji, a known name that
        starts the heading with at most two more words ("Avant-propos d'Elvis" → foreword) or that the heading
        starts (a query word such as "outils"), a close name (typos), else a slug.
        """
        title, emoji = split_heading(heading)
        form = _match_form(title)
        if form and (key := self._exact_form(form, lang)) is not None:
            return key
        if emoji and (key := self.emoji_key(emoji)):
            return key
        if len(form) >= _MIN_PREFIX and (key := self._prefix_key(form) or self._close_key(form)):
            return key
        return slugify(heading)

    def _prefix_key(self, form: str) -> str | None:
        """The key of a known name that starts `form` with at most two more words, or of the one
        known section whose names `form` starts (a query word such as "outils")."""
        for name, key in self._forms:
            if len(name) >= _MIN_PREFIX and form.startswith(name + " ") \
                    and len(form[len(name):].split()) <= _MAX_EXTRA_WORDS:
                return key
        starts = {key for name, key in self._forms if name.startswith(form + " ") or name.startswith(form)}
        return starts.pop() if len(starts) == 1 else None

    def _close_key(self, form: str) -> str | None:
        """The key of the known name closest to `form` (typos), if close enough."""
        best_key, best = None, 0.0
        for name, key in self._forms:
            score = fuzz.ratio(form, name)
            if score > best:
                best_key, best = key, score
        return best_key if best_key is not None and best >= _FUZZY_THRESHOLD else None

    def exact_key(self, heading: str, lang: str | None = None) -> str | None:
        """Key of a heading only when its name is known exactly (no emoji, prefix or fuzzy guess)."""
        title, _emoji = split_heading(heading)
        form = _match_form(title)
        return self._exact_form(form, lang) if form else None

    def _exact_form(self, form: str, lang: str | None) -> str | None:
        """The key a match form names exactly, in `lang`'s names first."""
        code = self._lang(lang)
        if code and (code, form) in self._by_lang:
            return self._by_lang[(code, form)]
        return self._exact.get(form)

    def emoji_key(self, emoji: str) -> str | None:
        """Canonical key an emoji stands for ("⚙" and "⚙️" → tools_datasets), else None."""
        for ch in strip_variation(emoji):
            key = self._emoji.get(ch)
            if key:
                return key
        return None

    def is_known(self, key: str) -> bool:
        return key in self._names

    def known_keys(self) -> list[str]:
        """Canonical keys plus those config extras introduced, in table order."""
        return list(self._names)

    # ------------------------------------------------------------------ key → names
    def aliases(self, key: str) -> list[str]:
        """Every known name of the key in every language (for matching chat queries)."""
        seen: dict[str, None] = {}
        for names in self._names.get(key, {}).values():
            for name in names:
                seen.setdefault(name, None)
        return list(seen)

    def names(self, key: str, lang: str) -> list[str]:
        """The key's names in one language, best first (config extras last)."""
        by_lang = self._names.get(key, {})
        code = self._lang(lang)
        return [*by_lang.get(code or "", []), *by_lang.get(_EXTRA, [])] if code else list(by_lang.get(_EXTRA, []))

    def display_name(self, key: str, lang: str) -> str | None:
        """The name to show for a key in a language: that language's, else English, else any; None if unknown."""
        by_lang = self._names.get(key)
        if by_lang is None:
            return None
        code = self._lang(lang)
        for candidate in (code, "en", _EXTRA, *by_lang):
            if candidate and by_lang.get(candidate):
                return by_lang[candidate][0]
        return None

    @staticmethod
    def emoji_for(key: str) -> str | None:
        return CANONICAL_EMOJI.get(key)

    @staticmethod
    def _lang(lang: str | None) -> str | None:
        """"pt", "pt-BR", "pt_br" → "pt-br"; "zh-CN", "zh-hans" → "zh" (`bot.core.i18n.normalize_language`)."""
        return normalize_language(lang) or None
