"""Language and issue-number inference: titles seen in the snapshot, and formats of issues not in it."""

from __future__ import annotations

import pytest

from bot.core.language import infer_language, infer_number, normalize_language_code

# (title, link, entry id, text) → (language, number)
CASES: list[tuple[str, str, str, str, str, int | None]] = [
    # ---- the snapshot's own shapes
    ("NLP Newsletter [FR] #4: PyTorch3D, DeepSpeed, Turing-NLG", "https://dair.ai/NLP_Newsletter_-4_-FR/",
     "https://dair.ai/NLP_Newsletter_#4_[FR]", "", "fr", 4),
    ("NLP Newsletter #6: BERTology Primer, fastpages, T5", "https://dair.ai/NLP_Newsletter_BERTology_Primer/",
     "x", "Welcome to the sixth issue of the NLP Newsletter. We hope that you enjoy it.", "en", 6),
    ("NLP Newsletter: NLP Paper Summaries, Learning to Simulate", "https://dair.ai/NLP_Newsletter_NLP_7/",
     "https://dair.ai/NLP_Newsletter_NLP_7", "I hope you are having a wonderful day and that you are safe", "en", 7),
    ("NLP 简报（Issue#7）: NLP Paper Summaries", "https://dair.ai/NLP_Newsletter_NLP_7-ZH-.md/",
     "https://dair.ai/NLP_Newsletter_NLP_7[ZH].md", "", "zh", 7),
    ("NLP 简报（Issue#6）", "https://dair.ai/NLP%E7%AE%80%E6%8A%A5/", "https://dair.ai/NLP简报", "", "zh", 6),
    ("NLP简报 [CH]: Tokenizers, TensorFlow 2.1", "https://dair.ai/NLP%E7%AE%80%E6%8A%A5_Tokenizers/", "x",
     "下面来看看第一期的内容", "zh", 1),
    ("NLP简报 [CH]: PyTorch3D, DeepSpeed", "https://dair.ai/NLP%E7%AE%80%E6%8A%A5_ISSUE_4_PyTorch3D/",
     "https://dair.ai/NLP简报_ISSUE_4_PyTorch3D", "", "zh", 4),
    ("NLP Newsletter: GPT-2 Anotado, Entendendo self-distillation",
     "https://dair.ai/NLP_Newsletter-PT-BR-_The_Annotated_GPT-2,_Understanding/",
     "https://dair.ai/NLP_Newsletter[PT-BR]_The_Annotated_GPT-2,_Understanding", "", "pt-br", None),
    ("الإصدار الخامس من قائمة معالجة اللغات الطبيعية (NLP) البريدية: GPT-2 المشروح",
     "https://dair.ai/NLP_Newsletter.AR._The_Annotated_GPT-2_And_More/", "x", "", "ar", 5),
    ("Boletín informativo NLP #5: GPT-2 Explicado", "https://dair.ai/Bolet%C3%ADn_informativo_NLP_GPT-2/", "x",
     "", "es", 5),
    ("Fundamentals of NLP (Chapter 1): Tokenization, Lemmatization",
     "https://dair.ai/Fundamentals-of-NLP-Chapter-1/", "x",
     "Natural language processing (NLP) has made substantial advances in the past few years", "en", None),
    # ---- formats of later issues, not in the snapshot
    ("NLP Newsletter [TR] #9: Yeni modeller", "https://dair.ai/NLP_Newsletter_-9_-TR/", "x", "", "tr", 9),
    ("Boletín de PLN #10: Modelos nuevos", "https://dair.ai/Boletin_PLN_10/", "x", "", "es", 10),
    ("NLP Newsletter #12 [AR]", "https://dair.ai/NLP_Newsletter_12_AR/", "x", "", "ar", 12),
    ("NLP简报（Issue#10）", "https://dair.ai/nlp-10/", "x", "", "zh", 10),
    ("NLP Newsletter [PT-BR] #11: Novidades", "https://dair.ai/x/", "x", "", "pt-br", 11),
    ("NLP Newsletter (FR) #13 : Nouveautés", "https://dair.ai/x/", "x", "", "fr", 13),
    ("NLP Bülteni #14: Yenilikler", "https://dair.ai/x/", "x", "", "tr", 14),
    ("NLP Newsletter Issue 8: Something", "https://dair.ai/x/", "x",
     "This is the issue with the best things of the month and the year for you", "en", 8),
    ("NLP 简报 第十二期", "https://dair.ai/x/", "x", "", "zh", 12),
    ("NLP简报第一期：Tokenizers", "https://dair.ai/x/", "x", "", "zh", 1),
    ("الإصدار الحادي عشر من النشرة البريدية", "https://dair.ai/x/", "x", "", "ar", 11),
    ("العدد 9 من النشرة", "https://dair.ai/x/", "x", "", "ar", 9),
    ("NLP Newsletter: Something", "https://dair.ai/NLP_Newsletter_-8_-ES/", "x", "", "es", 8),
    ("NLP Newsletter: Something", "https://dair.ai/x/", "https://dair.ai/NLP_Newsletter_#9_[TR]", "", "tr", 9),
    ("NLP Newsletter 9. Sayı", "https://dair.ai/x/", "x", "", "tr", 9),
    # ---- numbers only from the text's ordinal phrases
    ("NLP Newsletter", "https://dair.ai/x/", "x", "Bienvenue au septième numéro de la newsletter sur le NLP.", "fr", 7),
    ("NLP Newsletter", "https://dair.ai/x/", "x", "Bienvenue au 7e numéro de la lettre d’information.", "fr", 7),
    ("NLP Newsletter", "https://dair.ai/x/", "x", "Seja muito bem-vindo à sexta edição da NLP Newsletter.",
     "pt-br", 6),
    ("NLP Newsletter", "https://dair.ai/x/", "x", "Bienvenidos a la décima edición del boletín de PLN.", "es", 10),
    ("NLP Newsletter", "https://dair.ai/x/", "x", "NLP bülteninin dokuzuncu sayısına hoş geldiniz.", "tr", 9),
    ("NLP Newsletter", "https://dair.ai/x/", "x", "Welcome to the 11th issue of the NLP Newsletter.", "en", 11),
]


@pytest.mark.parametrize(("title", "link", "entry_id", "text", "language", "number"), CASES)
def test_inference_table(title: str, link: str, entry_id: str, text: str, language: str,
                         number: int | None) -> None:
    assert infer_language(title, link, entry_id, text) == language
    assert infer_number(title, link, entry_id, text) == number


@pytest.mark.parametrize(("text", "language"), [
    ("Primero que todo, no puedo agradecerles lo suficiente por el apoyo que le han dado al boletín.", "es"),
    ("بداية، لا أستطيع شكركم جميعاً كفاية للدعم الهائل الذي قدمتموه للنشرة", "ar"),
    ("欢迎来到 NLP 时事简报！全文较长，建议收藏。Transformer BERT GPT-2", "zh"),
    ("Seja muito bem-vindo à sexta edição da NLP Newsletter. Agradecemos por todo o suporte e dedicação.", "pt-br"),
    ("Bienvenue au sixième numéro de la lettre d’information consacrée au NLP. Merci pour votre soutien.", "fr"),
    ("Bu sayıda yeni modeller ve veri setleri var. Bültenimizi okuduğunuz için çok teşekkürler, "
     "bir sonraki sayıda görüşmek üzere ve iyi okumalar dileriz.", "tr"),
    ("Willkommen zur neunten Ausgabe des Newsletters über die Verarbeitung natürlicher Sprache.", "de"),
])
def test_language_from_text_alone(text: str, language: str) -> None:
    assert infer_language("Newsletter", "https://example.org/post/", "urn:x", text) == language


def test_feed_language_is_only_a_last_resort() -> None:
    assert infer_language("Post", "https://example.org/p/", "urn:x", "", feed_language="fr-FR") == "fr"
    assert infer_language("Post", "https://example.org/p/", "urn:x", "") == "und"
    english = "This is the text of the post and it is in English for all of the readers."
    assert infer_language("Post", "https://example.org/p/", "urn:x", english, feed_language="fr") == "en"


@pytest.mark.parametrize("title", [
    "The Annotated GPT-2, TensorFlow 2.1 and T5",
    "Fundamentals of NLP (Chapter 1)",
    "Top 10 papers of 2020",
    "Our first paper on the second edition of the dataset",
])
def test_no_number_is_invented(title: str) -> None:
    assert infer_number(title, "https://dair.ai/Post_about_GPT-2_and_T5/", "urn:x",
                        "The first paper of the second author in the third year.") is None


@pytest.mark.parametrize(("code", "expected"), [
    ("pt", "pt-br"), ("pt-BR", "pt-br"), ("pt_br", "pt-br"), ("zh-CN", "zh"), ("en-US", "en"), ("AR", "ar"),
    ("", None), (None, None), ("!!", None),
])
def test_language_codes_are_normalised(code: str | None, expected: str | None) -> None:
    assert normalize_language_code(code) == expected


# --------------------------------------------------------------------------- issue numbers of any newsletter
@pytest.mark.parametrize(("title", "link", "number"), [
    ("Golang Weekly #7", "https://x.example/p/", 7),
    ("Python Weekly - Issue 538", "https://x.example/p/", 538),
    ("Data Digest Issue#6: Queues", "https://x.example/p/", 6),
    ("The Monthly No. 12 — Winter", "https://x.example/p/", 12),
    ("This Week in Rust 635", "https://this-week-in-rust.org/blog/2026/01/21/this-week-in-rust/", 635),
    ("Rust Weekly 12: TensorFlow 2.1 and 10 papers", "https://x.example/p/", 12),
    ("Garden Letter, Vol. 3, Issue 5", "https://x.example/p/", 5),
    ("Garden Letter Volume 3 Number 5", "https://x.example/p/", 5),
    ("A quiet week", "https://x.example/issue-42/", 42),
    ("A quiet week", "https://x.example/archive/538.html", 538),
    ("A quiet week", "https://x.example/issues/17/", 17),
])
def test_issue_number_forms(title: str, link: str, number: int) -> None:
    names = ("This Week in Rust", "Rust Weekly")
    assert infer_number(title, link, "urn:x", "", names) == number


@pytest.mark.parametrize(("title", "link"), [
    ("TensorFlow 2.1 is out", "https://x.example/p/"),  # a version
    ("10 papers to read this summer", "https://x.example/p/"),  # a count
    ("Rust Weekly 10 papers to read", "https://x.example/p/"),  # a count, even after the name
    ("Rust Weekly 2.1 released", "https://x.example/p/"),  # a version, even after the name
    ("Best of 2025", "https://x.example/p/"),  # a year
    ("Issue 2024 in review", "https://x.example/p/"),  # a year, even after "issue"
    ("Rust Weekly 2026", "https://x.example/p/"),  # a year after the name
    ("A quiet week", "https://x.example/2020/05/"),  # a date's month in the link
    ("A quiet week", "https://x.example/blog/2026/01/21/this-week-in-rust/"),  # a date in the link
    ("A quiet week", "https://x.example/2019/"),  # a year in the link
    ("Python 3 for gardeners", "https://x.example/p/"),  # a number after a word that is not the name
])
def test_issue_number_traps(title: str, link: str) -> None:
    assert infer_number(title, link, "urn:x", "", ("This Week in Rust", "Rust Weekly")) is None
