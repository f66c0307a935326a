"""The query engine over the real corpus: matching, fallbacks, paging, hostile input."""

from __future__ import annotations

import pytest

from bot.config import Config
from bot.ingest import Ingestor
from bot.models import Query
from bot.query import QueryEngine, build_fts_query, parse_section_args
from bot.store import Store
from tests.corpus import CORPUS


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> QueryEngine:
    store = Store(tmp_path_factory.mktemp("q") / "q.db")
    Ingestor(store, Config()).ingest_bytes(CORPUS.read_bytes(), "nlp")
    return QueryEngine(store)


@pytest.mark.parametrize("words", ["outils", "Outils", "OUTILS", "outil", "tools", "⚙️", "⚙", "outlis",
                                   "Outils et jeux de données", "outils et jeux de donnees", "tools_datasets",
                                   "herramientas", "ferramentas"])
def test_section_outils_matches_every_spelling(engine: QueryEngine, words: str) -> None:
    answer = engine.answer(Query("section", words, lang="fr"))
    assert answer.kind == "section", answer.message
    assert answer.section is not None and answer.section.key == "tools_datasets"
    assert answer.issue is not None and (answer.issue.language, answer.issue.number) == ("fr", 7)
    assert answer.section.heading.startswith("Outils et jeux de données")


def test_section_with_issue_number(engine: QueryEngine) -> None:
    answer = engine.answer(Query("section", "tools 3", lang="fr"))
    assert answer.kind == "section"
    assert answer.issue is not None and answer.issue.number == 3 and answer.issue.language == "fr"
    assert answer.section is not None and answer.section.key == "tools_datasets"
    english = engine.answer(Query("section", "education #6", lang="en"))
    assert english.issue is not None and (english.issue.language, english.issue.number) == ("en", 6)


def test_falls_back_to_another_edition(engine: QueryEngine) -> None:
    answer = engine.answer(Query("section", "tools 4", lang="en"))  # #4 has no EN edition in the snapshot
    assert answer.kind == "section"
    assert answer.issue is not None and answer.issue.number == 4 and answer.issue.language != "en"
    assert "edition" in answer.message
    german = engine.answer(Query("section", "education", lang="de"))
    assert german.kind == "section" and german.message
    assert german.issue is not None and (german.issue.language, german.issue.number) == ("en", 7)
    turkish = engine.answer(Query("sections", "", lang="tr"))  # no Turkish edition: the newest issue in English
    assert turkish.issue is not None and (turkish.issue.language, turkish.issue.number) == ("en", 7)


@pytest.mark.parametrize("args", ["", "   ", "zzzz", "x" * 5000, "<b>bold</b>", "' OR 1=1 --", "\u202eslootu",
                                  "أدوات", "#", "99999", "tools 999"])
def test_bad_section_arguments_get_helpful_answers(engine: QueryEngine, args: str) -> None:
    answer = engine.answer(Query("section", args, lang="fr"))
    assert answer.kind in {"error", "section"}
    if answer.kind == "error":
        assert answer.message
        assert len(answer.message) < 600
        assert "x" * 100 not in answer.message
    if args in {"", "zzzz"}:
        assert answer.kind == "error"
        assert [s.key for s in answer.sections][:2] == ["foreword", "publications"]


def test_unknown_issue_lists_known_ones(engine: QueryEngine) -> None:
    answer = engine.answer(Query("section", "tools 999", lang="fr"))
    assert answer.kind == "error" and "#999" in answer.message.replace(" ", "") or "999" in answer.message
    assert "#7" in answer.message


def test_sections_latest_issues(engine: QueryEngine) -> None:
    sections = engine.answer(Query("sections", "", lang="fr"))
    assert sections.kind == "sections"
    assert sections.issue is not None and sections.issue.number == 7
    assert "tools_datasets" in [s.key for s in sections.sections]
    latest = engine.answer(Query("latest", lang="pt-br"))
    assert latest.issue is not None and (latest.issue.language, latest.issue.number) == ("pt-br", 6)
    issues = engine.answer(Query("issues", lang="fr"))
    assert [i.number for i in issues.issues] == [7, 6, 5, 4, 3, 2, 1]


def test_paging_tokens_walk_the_sections(engine: QueryEngine) -> None:
    first = engine.answer(Query("sections", "4", lang="fr"))
    assert first.next_page and len(first.next_page) <= 40
    seen = []
    token = first.next_page
    while token:
        page = engine.answer(Query("page", token, lang="fr"))
        assert page.kind == "section" and page.section is not None
        seen.append(page.section.key)
        token = page.next_page
    assert seen == [s.key for s in first.sections]
    assert engine.answer(Query("page", "s:99999:0")).kind == "error"
    assert engine.answer(Query("page", "'; drop table issues; --")).kind == "error"


@pytest.mark.parametrize("words", ['"', '"bert', "bert*", "NEAR(bert model)", "-bert", "bert OR", "AND", "📙",
                                   "x" * 10_000, "a" * 50 + " " + "b" * 50, "col:bert", "(", "^bert", "'"])
def test_hostile_search_never_raises(engine: QueryEngine, words: str) -> None:
    answer = engine.answer(Query("search", words, lang="en"))
    assert answer.kind in {"search", "error"}
    assert answer.message


def test_search_finds_items_in_the_askers_language_first(engine: QueryEngine) -> None:
    answer = engine.answer(Query("search", "deepspeed", lang="fr"))
    assert answer.kind == "search" and answer.hits
    assert all(hit.issue.language == "fr" for hit in answer.hits)
    assert any("DeepSpeed" in hit.item_title or "DeepSpeed" in hit.snippet for hit in answer.hits)
    english = engine.answer(Query("search", "BERT", lang="en"))
    assert english.hits and all(hit.issue.language == "en" for hit in english.hits)
    chinese = engine.answer(Query("search", "分词器", lang="zh"))
    assert chinese.hits and chinese.hits[0].issue.language == "zh"


def test_fts_query_builder_quotes_everything() -> None:
    expression, cjk, truncated = build_fts_query('bert" OR NEAR(x) -y * 模型')
    assert expression == '"bert"* "OR"* "NEAR"* "x"* "y"*'
    assert cjk == ["模型"] and truncated is False
    assert build_fts_query("!!! *** ---")[0] == ""
    assert parse_section_args("tools 3") == ("tools", 3)
    assert parse_section_args("#5") == ("", 5)
    assert parse_section_args("4") == ("", 4)
    assert parse_section_args("top 10 ideas") == ("top 10 ideas", None)


def test_language_and_subscriptions(engine: QueryEngine) -> None:
    chat = Query("language", "FR", lang="en", platform="telegram", chat="-100", is_private=False, is_admin=True)
    assert engine.answer(chat).lang == "fr"
    assert engine.lang_for("telegram", "-100", "en") == "fr"
    assert engine.answer(Query("language", "klingon", lang="en")).kind == "error"
    refused = engine.answer(Query("subscribe", "outils", lang="fr", platform="telegram", chat="-200",
                                  is_private=False, is_admin=False))
    assert refused.kind == "error"
    done = engine.answer(Query("subscribe", "outils education", lang="fr", platform="telegram", chat="-200",
                               is_private=False, is_admin=True))
    assert done.kind == "text", done.message
    (dest,) = [d for d in engine.store.subscriptions() if d.chat == "-200"]
    assert dest.sections == ("tools_datasets", "education") and dest.languages == ("fr",)
    bad = engine.answer(Query("subscribe", "outils | cron nope", lang="fr", platform="telegram", chat="7"))
    assert bad.kind == "error"
    assert engine.answer(Query("unsubscribe", "", lang="fr", platform="telegram", chat="-200",
                               is_private=False, is_admin=True)).kind == "text"
    assert [d for d in engine.store.subscriptions() if d.chat == "-200"] == []


def test_autocomplete_choices(engine: QueryEngine) -> None:
    choices = engine.section_choices("out", lang="fr")
    assert choices and choices[0][1] == "tools_datasets"
    assert len(engine.section_choices("", lang="en")) <= 25
