"""Group rights, black-box on both fakes: only a chat's administrators change its state.

A member's `/language fr` in a Telegram group, or `/subscribe` by a Discord member without
Manage Channels / Manage Server, is refused with one line saying why, and nothing is stored.
Filter mistakes in `/subscribe` (`+"`, `+""`, a lone `-`) are refused with a clear line too,
instead of being dropped while the reply says "Subscribed".
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.chat.query import QueryEngine
from bot.core.i18n import supported_languages, t
from bot.storage.store import Store
from tests.fakes.discord import EPHEMERAL, FakeDiscord
from tests.fakes.telegram import FakeMessage, FakeTelegram
from tests.harness.serving import telegram_answering

pytestmark = pytest.mark.corpus

GROUP = -100424242
ADMIN, MEMBER = 7, 8
MANAGE_CHANNELS = 1 << 4
BASIC = (1 << 10) | (1 << 11)  # View Channel, Send Messages


@pytest.fixture
def engine(store: Store) -> QueryEngine:
    return QueryEngine(store, default_lang="en")


async def _say(fake: FakeTelegram, chat: int, user: int, text: str) -> str:
    before = len(fake.sent(chat))
    fake.user_says(chat, text, user_id=user, language_code="en")
    await fake.wait_for(lambda: len(fake.sent(chat)) > before)
    replies: list[FakeMessage] = fake.sent(chat)[before:]
    return "\n".join(m.text for m in replies)


def test_the_refusal_is_one_line_in_every_language() -> None:
    for lang in supported_languages():
        line = t("query.admin_only", lang)
        assert line and "\n" not in line and "/language" in line, lang
        assert "\n" not in t("query.subscribe_empty_term", lang, term='+"'), lang


async def test_telegram_member_cannot_change_a_group(engine: QueryEngine, store: Store) -> None:
    async with telegram_answering(engine) as fake:
        fake.add_chat(GROUP, "supergroup", admins=(ADMIN,))
        refused = await _say(fake, GROUP, MEMBER, "/language fr")
        assert refused.endswith(t("query.admin_only", "en")) and "\n" not in refused
        assert store.chat_language("telegram", str(GROUP)) is None
        assert fake.calls("getChatMember")[-1].params["user_id"] == MEMBER
        for text in ("/subscribe", "/unsubscribe"):
            assert (await _say(fake, GROUP, MEMBER, text)).endswith(t("query.admin_only", "en"))
        assert not [d for d in store.subscriptions("telegram") if d.chat == str(GROUP)]
        # asking which language is in use changes nothing: anyone may, and no rights are looked up
        asked = len(fake.calls("getChatMember"))
        assert "/language" in await _say(fake, GROUP, MEMBER, "/language")
        assert len(fake.calls("getChatMember")) == asked
        # an administrator may
        await _say(fake, GROUP, ADMIN, "/language fr")
        assert store.chat_language("telegram", str(GROUP)) == "fr"


@pytest.mark.parametrize("typed", ['/subscribe tools +"', '/subscribe tools +""', "/subscribe tools -"])
async def test_telegram_filter_mistake_is_refused_not_dropped(engine: QueryEngine, store: Store, typed: str) -> None:
    async with telegram_answering(engine) as fake:
        private = 5005
        fake.add_chat(private, "private")
        reply = await _say(fake, private, private, typed)
        assert "Subscribed" not in reply
        assert reply.endswith(t("query.subscribe_empty_term", "en", term=typed.split()[-1])), reply
        assert store.subscriptions("telegram") == []


def _opt(name: str, value: Any) -> dict[str, Any]:
    return {"name": name, "type": 3, "value": value}


async def test_discord_member_without_manage_rights_is_refused(discord_serving: FakeDiscord,
                                                               engine: QueryEngine) -> None:
    refused = await discord_serving.interact("subscribe", [_opt("sections", "outils")], permissions=BASIC,
                                             locale="en-US")
    assert refused["data"]["flags"] & EPHEMERAL
    assert t("query.admin_only", "en") in refused["data"]["content"]
    assert engine.store.subscriptions("discord") == []
    # Manage Channels is enough to manage this channel's subscription
    done = await discord_serving.interact("subscribe", [_opt("sections", "outils")],
                                          permissions=BASIC | MANAGE_CHANNELS, locale="en-US")
    assert not (done["data"].get("flags") or 0) & EPHEMERAL
    assert [d.chat for d in engine.store.subscriptions("discord")] == [discord_serving.default_channel]
    # a plain member cannot remove it either
    kept = await discord_serving.interact("unsubscribe", permissions=BASIC, locale="en-US")
    assert t("query.admin_only", "en") in kept["data"]["content"]
    assert len(engine.store.subscriptions("discord")) == 1


async def test_discord_filter_mistake_is_refused(discord_serving: FakeDiscord, engine: QueryEngine) -> None:
    reply = await discord_serving.interact("subscribe", [_opt("sections", 'outils +""')], admin=True,
                                           locale="en-US")
    assert t("query.subscribe_empty_term", "en", term='+""') in reply["data"]["content"]
    assert engine.store.subscriptions("discord") == []
