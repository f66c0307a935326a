"""The query engine over the real corpus: matching, fallbacks, paging, hostile input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.chat.commands import Help, Query, SectionCommand, Subscribe, Unknown, parse_command
from bot.chat.query import QueryEngine, build_fts_query
from bot.core.i18n import t
from bot.core.messages import (
    ErrorAnswer,
    IssueList,
    LanguageSet,
    NotFound,
    Notice,
    SearchResults,
    SectionAnswer,
    SectionList,
    Subscribed,
)
from bot.feeds.ingest import Ingestor
from bot.settings.config import Config
from bot.storage.store import Store
from tests.harness.corpus import CORPUS


def _q(command: str, args: str = "", **asker: Any) -> Query:
    """A query as a person would type it: the command word and its argument text."""
    return Query(parse_command(command, args), **asker)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> QueryEngine:
    store = Store(tmp_path_factory.mktemp("q") / "q.db")
    Ingestor(store, Config()).ingest_bytes(CORPUS.read_bytes(), "nlp")
    return QueryEngine(store)


@pytest.mark.parametrize("words", ["outils", "Outils", "OUTILS", "outil", "tools", "⚙️", "⚙", "outlis",
                                   "Outils et jeux de données", "outils et jeux de donnees", "tools_datasets",
                                   "herramientas", "ferramentas"])
def test_section_outils_matches_every_spelling(engine: QueryEngine, words: str) -> None:
    answer = engine.answer(_q("section", words, lang="fr"))
    assert isinstance(answer, SectionAnswer), answer
    assert answer.section.key == "tools_datasets"
    assert (answer.issue.language, answer.issue.number) == ("fr", 7)
    assert answer.section.heading.startswith("Outils et jeux de données")


def test_section_with_issue_number(engine: QueryEngine) -> None:
    answer = engine.answer(_q("section", "tools 3", lang="fr"))
    assert isinstance(answer, SectionAnswer)
    assert answer.issue.number == 3 and answer.issue.language == "fr"
    assert answer.section.key == "tools_datasets"
    english = engine.answer(_q("section", "education #6", lang="en"))
    assert isinstance(english, SectionAnswer) and (english.issue.language, english.issue.number) == ("en", 6)


def test_falls_back_to_another_edition(engine: QueryEngine) -> None:
    answer = engine.answer(_q("section", "tools 4", lang="en"))  # #4 has no EN edition in the snapshot
    assert isinstance(answer, SectionAnswer)
    assert answer.issue.number == 4 and answer.issue.language != "en"
    assert "edition" in answer.note
    german = engine.answer(_q("section", "education", lang="de"))
    assert isinstance(german, SectionAnswer) and german.note
    assert (german.issue.language, german.issue.number) == ("en", 7)
    turkish = engine.answer(_q("sections", "", lang="tr"))  # no Turkish edition: the newest issue in English
    assert isinstance(turkish, SectionList) and (turkish.issue.language, turkish.issue.number) == ("en", 7)


@pytest.mark.parametrize("args", ["", "   ", "zzzz", "x" * 5000, "<b>bold</b>", "' OR 1=1 --", "\u202eslootu",
                                  "أدوات", "#", "99999", "tools 999"])
def test_bad_section_arguments_get_helpful_answers(engine: QueryEngine, args: str) -> None:
    answer = engine.answer(_q("section", args, lang="fr"))
    assert isinstance(answer, ErrorAnswer | NotFound | SectionAnswer)
    if not isinstance(answer, SectionAnswer):
        assert answer.message
        assert len(answer.message) < 600
        assert "x" * 100 not in answer.message
    if args in {"", "zzzz"}:
        assert isinstance(answer, NotFound)
        assert [s.key for s in answer.choices][:2] == ["foreword", "publications"]


def test_unknown_issue_lists_known_ones(engine: QueryEngine) -> None:
    answer = engine.answer(_q("section", "tools 999", lang="fr"))
    assert isinstance(answer, ErrorAnswer) and "999" in answer.message
    assert "#7" in answer.message


def test_sections_latest_issues(engine: QueryEngine) -> None:
    sections = engine.answer(_q("sections", "", lang="fr"))
    assert isinstance(sections, SectionList)
    assert sections.issue.number == 7
    assert "tools_datasets" in [s.key for s in sections.sections]
    latest = engine.answer(_q("latest", lang="pt-br"))
    assert isinstance(latest, SectionList) and (latest.issue.language, latest.issue.number) == ("pt-br", 6)
    issues = engine.answer(_q("issues", lang="fr"))
    assert isinstance(issues, IssueList)
    assert [i.number for i in issues.issues] == [7, 6, 5, 4, 3, 2, 1]


def test_paging_tokens_walk_the_sections(engine: QueryEngine) -> None:
    first = engine.answer(_q("sections", "4", lang="fr"))
    assert isinstance(first, SectionList)
    assert first.next_page and len(first.next_page) <= 40
    seen = []
    token: str | None = first.next_page
    while token:
        page = engine.answer(_q("page", token, lang="fr"))
        assert isinstance(page, SectionAnswer)
        seen.append(page.section.key)
        token = page.next_page
    assert seen == [s.key for s in first.sections]
    assert isinstance(engine.answer(_q("page", "s:99999:0")), ErrorAnswer)
    assert isinstance(engine.answer(_q("page", "'; drop table issues; --")), ErrorAnswer)


@pytest.mark.parametrize("words", ['"', '"bert', "bert*", "NEAR(bert model)", "-bert", "bert OR", "AND", "📙",
                                   "x" * 10_000, "a" * 50 + " " + "b" * 50, "col:bert", "(", "^bert", "'"])
def test_hostile_search_never_raises(engine: QueryEngine, words: str) -> None:
    answer = engine.answer(_q("search", words, lang="en"))
    assert isinstance(answer, SearchResults | ErrorAnswer)
    assert answer.message


def test_search_finds_items_in_the_askers_language_first(engine: QueryEngine) -> None:
    answer = engine.answer(_q("search", "deepspeed", lang="fr"))
    assert isinstance(answer, SearchResults) and answer.hits
    assert all(hit.issue.language == "fr" for hit in answer.hits)
    assert any("DeepSpeed" in hit.item_title or "DeepSpeed" in hit.snippet for hit in answer.hits)
    english = engine.answer(_q("search", "BERT", lang="en"))
    assert isinstance(english, SearchResults) and english.hits
    assert all(hit.issue.language == "en" for hit in english.hits)
    chinese = engine.answer(_q("search", "分词器", lang="zh"))
    assert isinstance(chinese, SearchResults) and chinese.hits and chinese.hits[0].issue.language == "zh"


def test_fts_query_builder_quotes_everything() -> None:
    expression, cjk, truncated = build_fts_query('bert" OR NEAR(x) -y * 模型')
    assert expression == '"bert"* "OR" "NEAR"* "x" "y"'  # short words match only themselves
    assert cjk == ["模型"] and truncated is False
    assert build_fts_query("!!! *** ---")[0] == ""
    assert parse_command("section", "tools 3") == SectionCommand("tools", 3)
    assert parse_command("/section #5") == SectionCommand("", 5)
    assert parse_command("/section@digest_bot 4") == SectionCommand("", 4)
    assert parse_command("section", "top 10 ideas") == SectionCommand("top 10 ideas", None)
    assert parse_command("/subscribe outils, éthique | cron 0 9 * * *") == \
        Subscribe(("outils", "éthique"), "cron 0 9 * * *")
    assert parse_command("") == Help() and parse_command("/frobnicate x") == Unknown("frobnicate")


def test_language_and_subscriptions(engine: QueryEngine) -> None:
    chat = _q("language", "FR", lang="en", platform="telegram", chat="-100", is_private=False, is_admin=True)
    assert isinstance(set_fr := engine.answer(chat), LanguageSet) and set_fr.lang == "fr"
    assert engine.lang_for("telegram", "-100", "en") == "fr"
    assert isinstance(engine.answer(_q("language", "klingon", lang="en")), ErrorAnswer)
    refused = engine.answer(_q("subscribe", "outils", lang="fr", platform="telegram", chat="-200",
                                  is_private=False, is_admin=False))
    assert isinstance(refused, ErrorAnswer)
    done = engine.answer(_q("subscribe", "outils education", lang="fr", platform="telegram", chat="-200",
                               is_private=False, is_admin=True))
    assert isinstance(done, Subscribed) and done.destination == "telegram:-200", done
    (dest,) = [d for d in engine.store.subscriptions() if d.chat == "-200"]
    assert dest.sections == ("tools_datasets", "education") and dest.languages == ("fr",)
    bad = engine.answer(_q("subscribe", "outils | cron nope", lang="fr", platform="telegram", chat="7"))
    assert isinstance(bad, ErrorAnswer)
    gone = engine.answer(_q("unsubscribe", "", lang="fr", platform="telegram", chat="-200",
                            is_private=False, is_admin=True))
    assert gone == Notice(lang="fr", message=t("query.unsubscribe_done", "fr"))
    assert [d for d in engine.store.subscriptions() if d.chat == "-200"] == []


def test_autocomplete_choices(engine: QueryEngine) -> None:
    choices = engine.section_choices("out", lang="fr")
    assert choices and choices[0][1] == "tools_datasets"
    assert len(engine.section_choices("", lang="en")) <= 25


def test_a_section_name_is_found_anywhere_in_the_archive_and_new_names_are_seen_at_once(tmp_path: Path) -> None:
    """/section looks through the archive's distinct section names, not the newest few dozen issues."""
    from datetime import UTC, datetime, timedelta

    from bot.chat.commands import SectionCommand
    from bot.core.messages import NotFound, SectionAnswer
    from bot.core.models import Block, Issue, Item, Section, Span

    def edition(n: int, *headings: str) -> Issue:
        sections = tuple(Section(key=h.lower().replace(" ", "_"), heading=h, title=h, emoji="", position=p,
                                 items=(Item(title=f"{h} {n}", body=(Block("paragraph", (Span(f"Text {n}."),)),)),))
                         for p, h in enumerate(headings))
        return Issue(entry_id=f"urn:g:{n}", link=f"https://garden.example/{n}", title=f"Garden Weekly {n}",
                     published=datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=7 * n), language="en", number=n,
                     sections=sections, newsletter="Garden Weekly")

    store = Store(tmp_path / "archive.db")
    store.save_issues([edition(1, "Seeds", "Compost corner")] + [edition(n, "Seeds", "Tools") for n in range(2, 120)])
    engine = QueryEngine(store)
    found = engine.answer(Query(SectionCommand("compost")))
    assert isinstance(found, SectionAnswer) and found.issue.number == 1 and "From Garden Weekly #1" in found.note
    assert isinstance(engine.answer(Query(SectionCommand("pruning"))), NotFound)
    ingest = store.reopen()  # the ingest worker's own connection
    ingest.save_issues([edition(120, "Seeds", "Pruning")])  # a new name is matched as soon as it is stored
    ingest.save_issues([edition(121, "Seeds")])
    ingest.close()
    pruned = engine.answer(Query(SectionCommand("pruning")))
    assert isinstance(pruned, SectionAnswer) and pruned.issue.number == 120
    assert [s.heading for s in store.section_names("en")] == ["Compost corner", "Pruning", "Seeds", "Tools"]
