"""Storage: idempotent upserts, per-section revisions, search, settings, subscriptions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from bot.core.models import Block, Issue, Item, Section, Span
from bot.ports import Destination
from bot.storage.store import Store


def _item(title: str, text: str) -> Item:
    return Item(title=title, body=(Block("paragraph", (Span(text),)),), links=("https://x.org/a",))


def _issue(**changes: object) -> Issue:
    base = Issue(
        entry_id="https://example.org/nine", link="https://example.org/nine/", title="NLP Newsletter [FR] #9",
        published=datetime(2020, 4, 6, tzinfo=UTC), language="fr", number=9,
        sections=(
            Section("publications", "Publications 📙", "Publications", "📙", 0,
                    (_item("Turing-NLG", "Un modèle de 17 milliards de paramètres"),)),
            Section("tools_datasets", "Outils et jeux de données ⚙️", "Outils et jeux de données", "⚙️", 1,
                    (_item("DeepSpeed", "Une librairie d’optimisation"), _item("Hydra", "Configurer"))),
        ),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_upsert_is_idempotent_and_round_trips(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    issue = _issue()
    first = store.save_issue(issue)
    again = store.save_issue(issue)
    assert (first.status, first.revision, first.added) == ("new", 1, ("publications", "tools_datasets"))
    assert (again.status, again.revision) == ("unchanged", 1)
    loaded = store.get_issue(issue.entry_id)
    assert loaded == issue
    assert store.db["items"].count == 3


def test_changed_section_is_a_new_revision_not_a_duplicate(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    issue = _issue()
    store.save_issue(issue)
    tools = issue.sections[1]
    edited = replace(issue, sections=(issue.sections[0], replace(tools, items=tools.items[:1])))
    result = store.save_issue(edited)
    assert (result.status, result.revision, result.changed, result.added, result.removed) == (
        "changed", 2, ("tools_datasets",), (), ())
    assert store.db["items"].count == 2
    assert store.db["issues"].count == 1
    assert store.search('"hydra"*') == []  # the removed item left the search index too
    assert [h.title for h in store.search('"deepspeed"*')] == ["DeepSpeed"]
    added = replace(edited, sections=(*edited.sections, Section("education", "Education 🎓", "Education", "🎓", 2,
                                                                  (_item("Cours", "Un cours"),))))
    result = store.save_issue(added)
    assert (result.revision, result.changed, result.added) == (3, (), ("education",))
    revisions = list(store.db.query("select key, revision, change from section_revisions order by revision, key"))
    assert {"key": "tools_datasets", "revision": 2, "change": "changed"} in revisions


def test_search_is_accent_insensitive_and_language_filtered(tmp_path: Path) -> None:
    store = Store(":memory:")
    store.save_issue(_issue())
    store.save_issue(_issue(entry_id="en9", language="en", title="NLP Newsletter #9"))
    hits = store.search('"librairie"*', lang="fr")
    assert [h.title for h in hits] == ["DeepSpeed"]
    assert [h.title for h in store.search('"modele"*')] == ["Turing-NLG", "Turing-NLG"]
    assert store.search('"this is not" NEAR(')  == []  # bad FTS never raises


def test_list_and_latest_order_by_date_then_number(tmp_path: Path) -> None:
    store = Store(":memory:")
    store.save_issue(_issue(entry_id="a", number=3))
    store.save_issue(_issue(entry_id="b", number=4))
    store.save_issue(_issue(entry_id="c", number=2, published=datetime(2020, 5, 1, tzinfo=UTC)))
    assert [r.number for r in store.list_issues()] == [2, 4, 3]
    latest = store.latest("fr")
    assert latest is not None and latest.entry_id == "c"
    assert [r.entry_id for r in store.editions(4)] == ["b"]
    paris = timezone(timedelta(hours=2))
    store.save_issue(_issue(entry_id="d", number=5, published=datetime(2020, 5, 1, 1, 30, tzinfo=paris)))
    assert store.list_issues()[0].entry_id == "c"  # 23:30 UTC the day before is older than 00:00 UTC
    rowid = store.rowid_for_entry("b")
    assert store.entry_for_rowid(rowid) == "b"


def test_chat_settings_and_subscriptions(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = Store(path)
    store.set_chat_language("telegram", "42", "fr")
    dest = Destination(name="telegram:42", platform="telegram", chat="42", languages=("fr",),
                       sections=("tools_datasets",))
    version = store.subscriptions_version()
    store.save_subscription(dest)
    assert store.subscriptions_version() == version + 1
    store.close()
    reopened = Store(path)
    assert reopened.chat_language("telegram", "42") == "fr"
    [stored] = reopened.subscriptions("telegram")
    assert replace(stored, change=None) == dest and stored.change is not None  # when it was stored, too
    assert reopened.delete_subscription("telegram:42") is True
    assert reopened.delete_subscription("telegram:42") is False
    assert reopened.subscriptions() == []


def _titled(entry_id: str, word: str, **changes: object) -> Issue:
    sections = (Section("publications", "Publications 📙", "Publications", "📙", 0, (_item(word, f"about {word}"),)),)
    return _issue(entry_id=entry_id, sections=sections, **changes)


def test_a_repeated_id_in_one_batch_keeps_the_last_and_the_index_stays_sound(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    results = store.save_issues([_titled("a", "premier"), _titled("a", "dernier"), _titled("b", "autre", number=10)])
    assert [r.entry_id for r in results] == ["a", "b"]
    assert [h.title for h in store.search("dernier")] == ["dernier"] and store.search("premier") == []
    store.save_issues([_titled("a", "encore"), _titled("a", "final")])  # the stored one, changed twice
    assert [h.title for h in store.search("final")] == ["final"] and store.search("dernier") == []
    store.db.execute("insert into items_fts (items_fts) values ('integrity-check')")


def test_an_index_out_of_step_is_rebuilt_instead_of_blocking(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.save_issue(_titled("a", "premier"))
    store.db.execute("insert into items_fts (items_fts) values ('delete-all')")  # what the old bug left behind
    result = store.save_issue(_titled("a", "second"))
    assert result.status == "changed"
    assert [h.title for h in store.search("second")] == ["second"]


def test_identity_survives_an_id_change_but_not_a_shared_link(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.save_issues([_titled("old-9", "neuf", link="http://www.example.org/fr/9/", number=9),
                       _titled("old-10", "dix", link="https://example.org/home", number=10),
                       _titled("old-11", "onze", link="https://example.org/home", number=11)])
    moved = store.save_issues([_titled("new-9", "neuf", link="https://example.org/fr/9", number=9)])
    assert [(r.entry_id, r.status) for r in moved] == [("old-9", "unchanged")]
    assert store.save_issues([_titled("new-9", "neuf", link="https://example.org/fr/9", number=9)])[0].entry_id \
        == "old-9"  # remembered as an alias
    renumbered = store.save_issues([_titled("x-10", "dix", link="https://example.org/ten", number=10)])
    assert renumbered[0].entry_id == "old-10"  # same language and number
    # A link many stored issues share is no identity, nor one whose number says otherwise.
    other = store.save_issues([_titled("new-12", "douze", link="https://example.org/home", number=12)])
    assert [(r.entry_id, r.status) for r in other] == [("new-12", "new")]
    # An entry whose stored namesake is still in the same fetch is a different issue.
    both = store.save_issues([_titled("old-11", "onze", link="https://example.org/home", number=11),
                              _titled("y-11", "onze bis", link="https://example.org/y", number=11)])
    assert [(r.entry_id, r.status) for r in both] == [("old-11", "unchanged"), ("y-11", "new")]
    assert len(store.list_issues(limit=100)) == 5


def test_held_issues_are_stored_but_not_listed(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    (result,) = store.save_issues([_titled("big", "grand")], held=lambda issue: "too big")
    assert result.held == "too big" and store.get_issue("big") is not None
    assert store.list_issues() == [] and store.search("grand") == []
    assert [(h.entry_id, h.reason) for h in store.held_issues()] == [("big", "too big")]
    store.save_issues([_titled("big", "grand")])
    assert [r.entry_id for r in store.list_issues()] == ["big"] and store.held_issues() == []


def test_a_database_from_before_languages_were_indexed_is_migrated(tmp_path: Path) -> None:
    """An older file: items without a language, a search index of title and text only."""
    path = tmp_path / "old.db"
    store = Store(path)
    store.save_issue(_issue())
    store.save_issue(_issue(entry_id="en9", language="en", title="NLP Newsletter #9"))
    store.db.execute("drop table items_fts")
    store.db.table("items").enable_fts(["title", "text"], create_triggers=False)
    store.db.execute("insert into items_fts (items_fts) values ('rebuild')")
    store.db.execute("alter table items drop column language")
    store.db.conn.commit()
    store.close()
    migrated = Store(path)
    assert [h.title for h in migrated.search('"librairie"*', lang="fr")] == ["DeepSpeed"]
    assert [h.entry_id for h in migrated.search('"librairie"*', lang="en")] == ["en9"]
    assert migrated.search('"librairie"*', lang="zh") == []
    migrated.save_issue(_issue(entry_id="fr10", number=10, title="NLP Newsletter [FR] #10",
                               published=datetime(2020, 4, 13, tzinfo=UTC)))
    assert len(migrated.search('"hydra"', lang="fr")) == 2
    migrated.db.execute("insert into items_fts (items_fts) values ('integrity-check')")  # raises if out of step


def test_search_puts_title_hits_first_then_the_newest(tmp_path: Path) -> None:
    store = Store(":memory:")
    older = _issue()
    newer = _issue(entry_id="fr10", number=10, title="NLP Newsletter [FR] #10", link="https://example.org/ten/",
                   published=datetime(2020, 4, 13, tzinfo=UTC),
                   sections=(Section("tools_datasets", "Outils", "Outils", "⚙️", 0,
                                     (_item("Accélérer", "avec DeepSpeed, encore"),)),))
    store.save_issues([older, newer])
    hits = store.search('"deepspeed"*', lang="fr")
    assert [(h.entry_id, h.title) for h in hits] == [(older.entry_id, "DeepSpeed"), ("fr10", "Accélérer")]
    assert [h.entry_id for h in store.search('"encore"*', lang="fr")] == ["fr10"]
