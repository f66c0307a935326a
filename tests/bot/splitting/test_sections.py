"""Canonical section keys: headings in 7 languages, emoji variants, config extras, and names back."""

from __future__ import annotations

import pytest

from bot.splitting.sections import CANONICAL_EMOJI, SectionAliases, normalize, slugify, split_heading

ALIASES = SectionAliases()

# heading as an edition publishes it → (language, canonical key)
HEADINGS: list[tuple[str, str, str]] = [
    # EN
    ("Publications 📙", "en", "publications"),
    ("Research and Publications 📙", "en", "publications"),
    ("Creativity and Society 🎨", "en", "creativity_society"),
    ("Creativity, Ethics, and Society 🌎", "en", "creativity_ethics_society"),
    ("Tools and Datasets ⚙️", "en", "tools_datasets"),
    ("Ethics in AI 🚨", "en", "ethics"),
    ("Articles and Blog posts ✍️", "en", "articles_blogs"),
    ("Education 🎓", "en", "education"),
    ("Noteworthy Mentions ⭐️", "en", "mentions"),
    ("Notable Mentions ⭐️", "en", "mentions"),
    ("Stay Informed 🎯", "en", "stay_informed"),
    ("Top Stories", "en", "top_stories"),
    ("Updates", "en", "updates"),
    ("Introduction", "en", "foreword"),
    # FR
    ("Avant-propos", "fr", "foreword"),
    ("Avant-propos d’Elvis", "fr", "foreword"),
    ("Publications  📙", "fr", "publications"),
    ("Créativité et société 🎨", "fr", "creativity_society"),
    ("Créativité, éthique et société 🌎", "fr", "creativity_ethics_society"),
    ("Outils et jeux de données ⚙️", "fr", "tools_datasets"),
    ("Ethique en IA 🚨", "fr", "ethics"),
    ("Éthique en IA", "fr", "ethics"),
    ("Articles et Blog ✍️", "fr", "articles_blogs"),
    ("Education 🎓", "fr", "education"),
    ("Mentions spéciales ⭐️", "fr", "mentions"),
    ("Restez informés 🎯", "fr", "stay_informed"),
    ("À la une", "fr", "top_stories"),
    # PT-BR
    ("Publicações 📙", "pt-br", "publications"),
    ("Criatividade e Sociedade 🎨", "pt-br", "creativity_society"),
    ("Ferramentas e Bases de Dados ⚙️", "pt-br", "tools_datasets"),
    ("Ferramentas e Datasets ⚙️", "pt-br", "tools_datasets"),
    ("Ética em IA 🚨", "pt-br", "ethics"),
    ("Ética em Inteligência Artificial 🚨", "pt-br", "ethics"),
    ("Artigos e Postagens ✍️", "pt-br", "articles_blogs"),
    ("Educação 🎓", "pt-br", "education"),
    ("Menções Honrosas ⭐️", "pt-br", "mentions"),
    ("Principais notícias", "pt-br", "top_stories"),
    # ZH
    ("1、Publications 📙", "zh", "publications"),
    ("1、Research and Publications 📙", "zh", "publications"),
    ("论文", "zh", "publications"),
    ("工具与数据集", "zh", "tools_datasets"),
    ("教育", "zh", "education"),
    ("本文参考资料", "zh", "references"),
    ("参考文献", "zh", "references"),
    ("前言", "zh", "foreword"),
    ("头条新闻", "zh", "top_stories"),
    # TR
    ("Yayınlar 📙", "tr", "publications"),
    ("Yaratıcılık ve Toplum", "tr", "creativity_society"),
    ("Araçlar ve Veri Setleri", "tr", "tools_datasets"),
    ("Yapay Zekada Etik", "tr", "ethics"),
    ("Makaleler ve Blog Yazıları", "tr", "articles_blogs"),
    ("Eğitim", "tr", "education"),
    ("Kayda Değer Bahisler", "tr", "mentions"),
    ("Haberdar Olun", "tr", "stay_informed"),
    # ES
    ("Publicaciones📙", "es", "publications"),
    ("Creatividad y Sociedad 🎨", "es", "creativity_society"),
    ("Herramientas y Set de Datos ⚙️", "es", "tools_datasets"),
    ("Herramientas y conjuntos de datos", "es", "tools_datasets"),
    ("Ética en la Inteligencia Artificial 🚨", "es", "ethics"),
    ("Artículos y Blogs ✍️", "es", "articles_blogs"),
    ("Educación🎓", "es", "education"),
    ("Menciones a considerar ⭐️", "es", "mentions"),
    ("Mantente informado", "es", "stay_informed"),
    # AR
    ("المنشورات 📙", "ar", "publications"),
    ("الإبداع والمجتمع 🎨", "ar", "creativity_society"),
    ("أدوات ومجموعات بيانات ⚙️", "ar", "tools_datasets"),
    ("الأخلاق في الذكاء الاصطناعي 🚨", "ar", "ethics"),
    ("المقالات والتدوينات ✍️", "ar", "articles_blogs"),
    ("التعليم 🎓", "ar", "education"),
    ("إضافات جديرة بالذكر ⭐️", "ar", "mentions"),
    ("المراجع", "ar", "references"),
]


@pytest.mark.parametrize(("heading", "lang", "key"), HEADINGS)
def test_heading_to_key(heading: str, lang: str, key: str) -> None:
    assert ALIASES.key_for(heading, lang) == key
    assert ALIASES.key_for(heading) == key  # the language is a hint, not a requirement


@pytest.mark.parametrize(("heading", "key"), [
    ("Outils ⚙", "tools_datasets"),           # no variation selector
    ("Something new ⚙️", "tools_datasets"),   # unknown name, known emoji
    ("Mentions ⭐", "mentions"),
    ("⭐️", "mentions"),
    ("Quelque chose 🌎", "creativity_ethics_society"),
    ("📙", "publications"),
    ("Cible 🎯", "stay_informed"),
])
def test_emoji_variants_decide_when_the_name_is_unknown(heading: str, key: str) -> None:
    assert ALIASES.key_for(heading, "fr") == key


@pytest.mark.parametrize(("text", "key"), [
    ("outils", "tools_datasets"),   # a word of a name (queries)
    ("educatoin", "education"),     # a typo
    ("EDUCATION", "education"),
    ("ethique en ia", "ethics"),    # no accents
    ("Creativity & Society", "creativity_society"),
])
def test_loose_names(text: str, key: str) -> None:
    assert ALIASES.key_for(text, "fr") == key


@pytest.mark.parametrize(("heading", "slug"), [
    ("A Word From Our Sponsors", "a_word_from_our_sponsors"),
    ("Ça va bien ?", "ca_va_bien"),
    ("Stay Curious!", "stay_curious"),
    ("机器学习新闻", "机器学习新闻"),
    ("📰", "newspaper"),
    ("", "section"),
    ("3) Podcast Picks 🎧", "podcast_picks"),
])
def test_unknown_headings_get_a_stable_slug(heading: str, slug: str) -> None:
    assert ALIASES.key_for(heading, "en") == slug
    assert slugify(heading) == slug


def test_config_extras_add_names_and_new_keys() -> None:
    aliases = SectionAliases({"tools_datasets": ["Outillage"], "podcasts": ["Podcasts", "Balados"]})
    assert aliases.key_for("Outillage", "fr") == "tools_datasets"
    assert aliases.key_for("Balados 🎧", "fr") == "podcasts"
    assert "Outillage" in aliases.aliases("tools_datasets")
    assert aliases.names("tools_datasets", "fr")[-1] == "Outillage"
    assert aliases.display_name("podcasts", "fr") == "Podcasts"
    assert "podcasts" in aliases.known_keys() and aliases.is_known("podcasts")
    assert not ALIASES.is_known("podcasts")
    # extras win over the built-in table: a maintainer can re-file a name
    refiled = SectionAliases({"updates": ["Top Stories"]})
    assert refiled.key_for("Top Stories", "en") == "updates"
    # nonsense in the config does no harm
    assert SectionAliases({"x": ["", "   "]}).key_for("Education", "en") == "education"


def test_names_back_from_a_key() -> None:
    assert ALIASES.display_name("tools_datasets", "fr") == "Outils et jeux de données"
    assert ALIASES.display_name("tools_datasets", "pt-BR") == "Ferramentas e Bases de Dados"
    assert ALIASES.display_name("tools_datasets", "pt") == "Ferramentas e Bases de Dados"
    assert ALIASES.display_name("education", "tr") == "Eğitim"
    assert ALIASES.display_name("publications", "es") == "Publicaciones"
    assert ALIASES.display_name("education", "ar") == "التعليم"
    assert ALIASES.display_name("publications", "zh") == "论文"
    assert ALIASES.display_name("mentions", "ja") == "Noteworthy Mentions"  # falls back to English
    assert ALIASES.display_name("no_such_key", "en") is None
    assert ALIASES.names("ethics", "en")[0] == "Ethics in AI"
    assert ALIASES.names("ethics", "xx") == []
    every = ALIASES.aliases("tools_datasets")
    for name in ("Tools and Datasets", "Outils et jeux de données", "工具与数据集", "Araçlar ve Veri Setleri",
                 "Herramientas y conjuntos de datos", "أدوات ومجموعات بيانات", "Ferramentas e Datasets"):
        assert name in every
    assert ALIASES.aliases("unknown") == []


def test_every_canonical_key_has_names_in_all_seven_languages() -> None:
    for key in ("publications", "creativity_society", "creativity_ethics_society", "tools_datasets", "ethics",
                "articles_blogs", "education", "mentions", "updates", "stay_informed", "top_stories",
                "foreword", "references"):
        for lang in ("en", "fr", "pt-br", "zh", "tr", "es", "ar"):
            assert ALIASES.names(key, lang), (key, lang)


def test_emoji_for() -> None:
    assert ALIASES.emoji_for("tools_datasets") == "⚙️"
    assert ALIASES.emoji_for("mentions") == "⭐️"
    assert ALIASES.emoji_for("creativity_ethics_society") == "🌎"
    assert ALIASES.emoji_for("stay_informed") == "🎯"
    assert ALIASES.emoji_for("foreword") is None
    assert set(CANONICAL_EMOJI) <= set(ALIASES.known_keys())


@pytest.mark.parametrize(("text", "expected"), [
    ("1、Publications 📙", ("Publications", "📙")),
    ("Publications  📙", ("Publications", "📙")),
    ("Publicaciones📙", ("Publicaciones", "📙")),
    ("Tools and Datasets ⚙️", ("Tools and Datasets", "⚙️")),
    ("📙 Publications", ("Publications", "📙")),
    ("2. Creativity and Society 🎨", ("Creativity and Society", "🎨")),
    ("Avant-propos", ("Avant-propos", "")),
    ("本文参考资料", ("本文参考资料", "")),
    ("2020 in review", ("2020 in review", "")),
    ("12-in-1: Multi-Task", ("12-in-1: Multi-Task", "")),
    ("", ("", "")),
])
def test_split_heading(text: str, expected: tuple[str, str]) -> None:
    assert split_heading(text) == expected


def test_normalize() -> None:
    assert normalize("  Éducation\u00a0 et   CRÉATIVITÉ ") == "education et creativite"
    assert normalize("Ética") == normalize("etica")
    assert normalize("工具与数据集") == "工具与数据集"
