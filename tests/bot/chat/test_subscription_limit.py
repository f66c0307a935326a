"""One person cannot take more subscriptions than `max_per_user`: the engine's answer, in process."""

from __future__ import annotations

from pathlib import Path

from bot.chat.commands import Query, parse_command
from bot.chat.query import QueryEngine
from bot.core.i18n import t
from bot.core.messages import Answer, ErrorAnswer, Subscribed
from bot.feeds.ingest import Ingestor
from bot.settings.config import Config, SubscriptionsConfig
from bot.storage.store import Store
from tests.harness.corpus import CORPUS


def test_one_person_cannot_take_more_subscriptions_than_max_per_user(tmp_path: Path) -> None:
    store = Store(tmp_path / "bot.db")
    Ingestor(store, Config()).ingest_bytes(CORPUS.read_bytes(), "nlp")
    engine = QueryEngine(store, subscriptions=SubscriptionsConfig(max_total=100, max_per_user=2))

    def subscribe(chat: str, lang: str = "es") -> Answer:
        return engine.answer(Query(parse_command("subscribe", "outils"), lang=lang, platform="telegram", chat=chat,
                                   user="42", is_admin=True, is_private=chat == "42"))

    assert isinstance(subscribe("42"), Subscribed)
    assert isinstance(subscribe("-100"), Subscribed)  # a group the same person administers
    refused = subscribe("-200")
    assert isinstance(refused, ErrorAnswer)
    assert refused.message == t("query.subscribe_user_limit", "es", limit=2)
    assert isinstance(subscribe("-100"), Subscribed)  # changing one of theirs is never refused
    assert not store.has_subscription("telegram:-200") and store.subscription_counts("42") == (2, 2)
    store.close()
