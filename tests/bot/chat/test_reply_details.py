"""Small things readers noticed: the /section example, the /subscribe schedule in words, dates, plain errors.

Engine answers over the real corpus, then the same replies through the real Telegram
client against the fake Bot API (what a French reader actually reads).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from adapters.console.render import render_answer_text
from adapters.discord.render import DiscordRenderer
from adapters.telegram.render import TelegramRenderer
from bot.chat.commands import Query, parse_command
from bot.chat.query import QueryEngine
from bot.chat.schedule_words import schedule_in_words
from bot.contract.schedule import CronDrip, parse_schedule
from bot.core.i18n import LANGUAGES, t
from bot.core.messages import IssueList, NotFound, SectionAnswer, SectionList, Subscribed
from bot.core.models import IssueRef
from bot.feeds.ingest import Ingestor
from bot.settings.config import Config
from bot.splitting.sections import FRAME_KEYS
from bot.storage.store import Store
from tests.fakes.telegram import FakeTelegram
from tests.harness.corpus import CORPUS
from tests.harness.serving import PRIVATE, telegram_answering

#: A Monday morning: the next run of every crontab below is on a known day.
NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


def _q(command: str, args: str = "", **asker: Any) -> Query:
    return Query(parse_command(command, args), **asker)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> QueryEngine:
    store = Store(tmp_path_factory.mktemp("details") / "d.db")
    Ingestor(store, Config()).ingest_bytes(CORPUS.read_bytes(), "nlp")
    return QueryEngine(store, clock=lambda: NOW)


# --------------------------------------------------------------------------- /section with no name
def test_french_example_is_a_real_section_not_the_foreword(engine: QueryEngine) -> None:
    answer = engine.answer(_q("section", "", lang="fr"))
    assert isinstance(answer, NotFound) and answer.choices[0].key == "foreword"  # FR #7 opens with its foreword
    assert "par exemple /section publications." in answer.message
    assert "avant-propos" not in answer.message.lower()


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_the_suggested_section_answers_with_news(engine: QueryEngine, lang: str) -> None:
    """Typing the suggestion as it is gives that section of the newest issue: one with items, not a frame."""
    hint = engine.answer(_q("section", "", lang=lang))
    assert isinstance(hint, NotFound)
    example = hint.message.split("/section ")[-1].split(".")[0].split("。")[0].split("،")[0].strip()
    answer = engine.answer(_q("section", example, lang=lang))
    assert isinstance(answer, SectionAnswer), (lang, example, answer)
    assert answer.issue == hint.issue and answer.section.key not in FRAME_KEYS and answer.section.items


# --------------------------------------------------------------------------- /subscribe in words
@pytest.mark.parametrize(("lang", "schedule", "said"), [
    ("en", "on_publish", ", as soon as an issue is published."),
    ("fr", "on_publish", ", dès la parution d’un numéro."),
    ("fr", "cron 0 9 * * 1", ", une section chaque lundi à 09:00 UTC."),
    ("en", "digest 30 18 * * *", ", a digest every day at 6:30\u202fPM UTC."),
    ("es", "cron 0 9 * * MON", ", una sección cada lunes a las 9:00 UTC."),
    ("fr", "cron 0 9,18 * * 1-5",
     ", une section selon l’horaire « 0 9,18 * * 1-5 » (prochain envoi : 7 décembre 2026 09:00 UTC)."),
    ("ar", "on_publish", "، فور نشر كل عدد."),
])
def test_subscribe_confirmation_says_the_schedule_in_words(engine: QueryEngine, lang: str, schedule: str,
                                                           said: str) -> None:
    args = "tools" if schedule == "on_publish" else f"tools | {schedule}"
    done = engine.answer(_q("subscribe", args, lang=lang, platform="telegram", chat=f"-9{len(said)}{lang}"))
    assert isinstance(done, Subscribed), done
    first = done.message.split("\n")[0]
    assert first.endswith(said), first
    assert "on_publish" not in first and schedule not in first  # never the config token


@pytest.mark.parametrize("text", ["on_publish", "cron 0 9 * * *", "cron 15 7 * * SUN", "digest 0 8 * * 5",
                                  "cron */30 * * * *", "digest @monthly"])
@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_schedule_reads_in_every_language(text: str, lang: str) -> None:
    words = schedule_in_words(parse_schedule(text), lang, NOW)
    assert words and "{" not in words and "}" not in words
    assert not any(token in words for token in (text, "on_publish", "cron ", "query."))


def test_per_tick_counts_follow_the_language() -> None:
    assert schedule_in_words(CronDrip("0 9 * * *", per_tick=3), "en", NOW) == "3 sections every day at 9:00\u202fAM UTC"
    assert schedule_in_words(CronDrip("0 9 * * *", per_tick=2), "ar", NOW).startswith("قسمان ")


# --------------------------------------------------------------------------- through Telegram
@pytest_asyncio.fixture
async def telegram(tmp_path: Path) -> AsyncIterator[FakeTelegram]:
    store = Store(tmp_path / "t.db")
    Ingestor(store, Config()).ingest_bytes(CORPUS.read_bytes(), "nlp")
    async with telegram_answering(QueryEngine(store, clock=lambda: NOW)) as fake:
        yield fake
    store.close()


async def _ask(fake: FakeTelegram, text: str, lang: str = "fr") -> tuple[str, str]:
    """The reply's text and its HTML as the fake Bot API received them."""
    before = len(fake.sent(PRIVATE))
    fake.user_says(PRIVATE, text, user_id=PRIVATE, language_code=lang)
    await fake.wait_for(lambda: len(fake.sent(PRIVATE)) > before)
    reply = fake.sent(PRIVATE)[before]
    return reply.text, reply.html


async def test_a_french_reader_on_telegram(telegram: FakeTelegram) -> None:
    text, html = await _ask(telegram, "/section")
    assert "par exemple /section publications" in text
    assert html.startswith("⚠️ Quelle section ?") and "<b>" not in html.split("\n")[0]  # plain, not all bold
    text, _ = await _ask(telegram, "/subscribe outils | cron 0 9 * * 1")
    assert text.endswith("une section chaque lundi à 09:00 UTC.") and "cron" not in text
    text, _ = await _ask(telegram, "/issues")
    assert text.startswith("Numéros disponibles (7) :") and "16 mars 2020" in text
    text, _ = await _ask(telegram, "/sections")
    assert "1 élément" in text or "éléments" in text
    assert "(s)" not in text


@pytest.mark.parametrize(("lang", "day"), [("fr", "· 16 mars 2020"), ("zh", "· 2020年3月16日"),
                                           ("en", "· March 16, 2020")])
def test_latest_says_when_the_issue_came_out(engine: QueryEngine, lang: str, day: str) -> None:
    latest = engine.answer(_q("latest", "", lang=lang))
    assert isinstance(latest, SectionList), latest
    assert f"{latest.issue.label} {day} — " in latest.message, latest.message


# --------------------------------------------------------------------------- /issues on every platform
ISSUE_REF = IssueRef(entry_id="e7", link="https://e.org/7", title="Numéro 7", language="es", number=7,
                     published=datetime(2020, 3, 17, 8, 0, tzinfo=UTC), newsletter="NLP Newsletter")


@pytest.mark.parametrize(("lang", "day"), [("es", "17 de marzo de 2020"), ("zh", "2020年3月17日"),
                                           ("ar", "17 مارس 2020"), ("en", "March 17, 2020")])
def test_issue_lists_date_each_issue_in_the_readers_language(lang: str, day: str) -> None:
    answer = IssueList(lang=lang, message=t("query.issues_title", lang, count=1), issues=(ISSUE_REF,))
    (discord,) = DiscordRenderer().render_answer(answer)
    (telegram,) = TelegramRenderer().render_answer(answer)
    (console,) = render_answer_text(answer, 4000)
    for said in (discord.text, telegram.text, console):
        assert day in said and "2020-03-17" not in said
