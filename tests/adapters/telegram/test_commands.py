"""Chat commands end to end: the real PTB Application long-polls the fake Bot API and answers
through the real QueryEngine over the real corpus."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest

from adapters.telegram import TelegramAdapter, telegram_adapter
from bot.chat.query import QueryEngine
from bot.storage.store import Store
from tests.fakes.telegram import FakeMessage, FakeTelegram

TOKEN = "424242:AAH-secret_token_value_0123456789"
SCALE = 0.01  # flood windows 100× shorter in both the fake and the limiter
PRIVATE = 1001


pytestmark = pytest.mark.corpus


@pytest.fixture
def engine(store: Store) -> QueryEngine:
    return QueryEngine(store, default_lang="en")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN, time_scale=SCALE) as fake:
        fake.add_chat(PRIVATE, "private")
        yield fake


@pytest.fixture
async def bot(fake: FakeTelegram, engine: QueryEngine) -> AsyncIterator[TelegramAdapter]:
    platform = telegram_adapter(TOKEN, base_url=fake.base_url, time_scale=SCALE, poll_timeout=0.5)
    task = asyncio.create_task(platform.commands.serve(engine))
    await fake.wait_for(lambda: fake.pollers)
    yield platform
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await platform.close()


async def ask(fake: FakeTelegram, text: str, *, chat: int = PRIVATE, lang: str | None = "en",
              user: int = PRIVATE, replies: int = 1) -> list[FakeMessage]:
    """Type `text` in `chat` and return the bot's replies to it."""
    before = len(fake.sent(chat))
    fake.user_says(chat, text, user_id=user, language_code=lang)
    await fake.wait_for(lambda: len(fake.sent(chat)) >= before + replies)
    return fake.sent(chat)[before:]


def _all_text(messages: list[FakeMessage]) -> str:
    return "\n".join(m.text for m in messages)


async def test_startup_publishes_commands_per_language(fake: FakeTelegram, bot: TelegramAdapter) -> None:
    await fake.wait_for(lambda: len(fake.commands) >= 3)
    default = fake.commands[('{"type": "default"}', "")]
    french = fake.commands[('{"type": "default"}', "fr")]
    assert [c["command"] for c in default][:3] == ["start", "help", "section"]
    assert {c["command"] for c in default} >= {"section", "sections", "latest", "search", "subscribe", "language"}
    assert french[2]["description"].startswith("Une rubrique")
    assert fake.calls("getMe") and fake.calls("deleteWebhook")


async def test_section_outils_in_french(fake: FakeTelegram, bot: TelegramAdapter) -> None:
    replies = await ask(fake, "/section outils", lang="fr")
    text = _all_text(replies)
    assert "Outils et jeux de données" in text.splitlines()[0]
    assert "NLP Newsletter #7 (FR)" in text
    assert "DeepSpeed" in text or "Hugging Face" in text or len(text) > 200
    assert replies[-1].buttons  # ◀ ▶ paging under the last part
    assert not fake.rejected()


async def test_section_tools_of_issue_3_and_paging(fake: FakeTelegram, bot: TelegramAdapter) -> None:
    replies = await ask(fake, "/section tools 3", lang="fr")
    first = replies[0].text
    assert "#3" in first and ("Outils" in first or "Tools" in first)
    keyboard = replies[-1].buttons
    assert keyboard is not None
    labels = [b["text"] for b in keyboard[0]]
    assert "▶" in labels
    next_token = next(b["callback_data"] for b in keyboard[0] if b["text"] == "▶")
    count = len(fake.sent(PRIVATE))
    query_id = fake.press_button(replies[-1], next_token, language_code="fr")
    await fake.wait_for(lambda: replies[-1].edits)
    assert query_id in fake.callback_answers  # the spinner is stopped
    edited = replies[-1]
    assert edited.text != first and "#3" in edited.text
    assert len(fake.sent(PRIVATE)) >= count  # edited in place (long pages may add parts)
    assert edited.buttons
    back = next(b["callback_data"] for b in edited.buttons[0] if b["text"] == "◀")
    fake.press_button(edited, back, language_code="fr")
    await fake.wait_for(lambda: len(edited.edits) >= 2)
    assert not fake.rejected()


async def test_sections_latest_search(fake: FakeTelegram, bot: TelegramAdapter) -> None:
    sections = _all_text(await ask(fake, "/sections", lang="fr"))
    assert "Publications" in sections and "Outils" in sections
    latest = _all_text(await ask(fake, "/latest", lang="en"))
    assert "#7" in latest
    found = await ask(fake, "/search deepspeed", lang="en")
    assert "deepspeed" in _all_text(found).lower()
    assert any(e["type"] == "text_link" for m in found for e in m.entities)
    issues = _all_text(await ask(fake, "/issues", lang="fr"))
    assert "#4" in issues
    assert not fake.rejected()


@pytest.mark.parametrize("text, expected", [
    ("/section", "Which section"),
    ("/section zzzz", "zzzz"),
    ("/section <b>bold</b> & <script>", "<b>bold</b>"),
    ("/search", "What should I look for"),
    ("/section \u202eأدوات\u202c שלום", "I found no section"),
])
async def test_bad_inputs_get_helpful_replies(fake: FakeTelegram, bot: TelegramAdapter, text: str,
                                              expected: str) -> None:
    replies = await ask(fake, text, lang="en")
    assert expected in _all_text(replies)
    assert not fake.rejected()


async def test_five_thousand_characters(fake: FakeTelegram, bot: TelegramAdapter) -> None:
    replies = await ask(fake, "/section " + "é<x>&" * 1000, lang="en")
    assert replies and all(len(m.text) <= 4096 for m in replies)
    assert not fake.rejected()
    replies = await ask(fake, "/search " + "deepspeed " * 500, lang="en")
    assert replies and not fake.rejected()


async def test_subscribe_private_and_group_admin_check(fake: FakeTelegram, bot: TelegramAdapter,
                                                       store: Store) -> None:
    done = _all_text(await ask(fake, "/subscribe outils", lang="fr"))
    assert "Abonn" in done or "Subscribed" in done
    assert any(d.chat == str(PRIVATE) for d in store.subscriptions("telegram"))
    group = -100777
    fake.add_chat(group, "supergroup", admins=(7,))
    refused = _all_text(await ask(fake, "/subscribe", chat=group, user=8, lang="en"))
    assert "administrators" in refused
    assert fake.calls("getChatMember")[-1].params["user_id"] == 8
    accepted = _all_text(await ask(fake, "/subscribe@digest_test_bot", chat=group, user=7, lang="en"))
    assert "Subscribed" in accepted
    assert any(d.chat == str(group) for d in store.subscriptions("telegram"))
    gone = _all_text(await ask(fake, "/unsubscribe", chat=group, user=7, lang="en"))
    assert "Unsubscribed" in gone


async def test_language_command_changes_replies(fake: FakeTelegram, bot: TelegramAdapter) -> None:
    chat = 2002
    fake.add_chat(chat, "private")
    await ask(fake, "/language fr", chat=chat, user=chat, lang="en")
    reply = _all_text(await ask(fake, "/help", chat=chat, user=chat, lang="en"))
    assert "rubrique" in reply.lower() or "numéro" in reply.lower()


async def test_channel_post_commands(fake: FakeTelegram, bot: TelegramAdapter) -> None:
    channel = -100555
    fake.add_chat(channel, "channel", username="digest_chan")
    replies = await ask(fake, "/sections@digest_test_bot", chat=channel, lang=None)
    assert "Publications" in _all_text(replies)
    before = len(fake.sent(channel))
    fake.user_says(channel, "/sections@someone_else_bot", language_code=None)
    follow_up = await ask(fake, "/latest@digest_test_bot", chat=channel, lang=None)  # answered after it
    assert len(fake.sent(channel)) == before + len(follow_up)  # the other bot's command got no reply


async def test_throttle_lets_a_burst_through_cuts_off_a_flood_and_recovers(fake: FakeTelegram,
                                                                           engine: QueryEngine) -> None:
    from adapters.telegram.commands import CommandThrottle, TelegramCommands

    # the throttle's clock moves only when the test says: a flood falls in one instant however slow the machine
    now = [0.0]
    throttle = CommandThrottle(burst=10, interval=2.0, clock=lambda: now[0])
    adapter = telegram_adapter(TOKEN, base_url=fake.base_url, time_scale=SCALE, poll_timeout=0.5)
    commands = TelegramCommands(adapter.sender, adapter.renderer, throttle=throttle)
    task = asyncio.create_task(commands.serve(engine))
    explorer, flooder = 3003, 3004
    fake.add_chat(explorer, "private")
    fake.add_chat(flooder, "private")
    try:
        await fake.wait_for(lambda: fake.pollers)
        # a reader exploring: ten commands in a row, all answered
        for text in ("/help", "/latest", "/sections", "/section outils", "/section tools 4", "/issues",
                     "/search bert", "/section publications", "/sections 3", "/latest"):
            fake.user_says(explorer, text, user_id=explorer)
        await fake.wait_for(lambda: throttle.verdicts["ok"] == 10)
        # a script: two hundred commands at once; ten answered, one notice, the rest ignored
        for _ in range(200):
            fake.user_says(flooder, "/help", user_id=flooder)
        await fake.wait_for(lambda: sum(throttle.verdicts.values()) == 210)
        assert throttle.verdicts == {"ok": 20, "warn": 1, "drop": 189}
        await fake.wait_for(lambda: len(fake.sent(flooder)) >= 11)
        flood_replies = len(fake.sent(flooder))
        now[0] += 2.0  # one refill interval later the next command is answered
        fake.user_says(flooder, "/latest", user_id=flooder)
        await fake.wait_for(lambda: len(fake.sent(flooder)) > flood_replies)
        await fake.wait_for(lambda: len(fake.sent(explorer)) >= 10)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await adapter.close()
    assert not any("too fast" in m.text for m in fake.sent(explorer))
    replies = fake.sent(flooder)
    assert sum("too fast" in m.text for m in replies) == 1
    assert len(replies) == 12  # ten answers, one notice, then the answer after the wait
    assert "#7" in replies[-1].text
    assert not any(r.status == 429 for r in fake.requests)


async def test_commands_are_answered_again_after_close_and_serve(fake: FakeTelegram, engine: QueryEngine) -> None:
    """The supervisor's cycle (close → start → serve) on one adapter: each new connection gets the handlers."""
    platform = telegram_adapter(TOKEN, base_url=fake.base_url, time_scale=SCALE, poll_timeout=0.3)
    for round_ in range(3):
        task = asyncio.create_task(platform.commands.serve(engine))
        try:
            await fake.wait_for(lambda: fake.pollers)
            assert "/section" in _all_text(await ask(fake, "/help"))
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await platform.close()
        assert platform.sender.generation == round_ + 1
        await fake.wait_for(lambda: not fake.pollers)


async def test_token_never_logged(fake: FakeTelegram, engine: QueryEngine,
                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    platform = telegram_adapter(TOKEN, base_url=fake.base_url, time_scale=SCALE, poll_timeout=0.3)
    task = asyncio.create_task(platform.commands.serve(engine))
    try:
        await fake.wait_for(lambda: fake.pollers)
        await ask(fake, "/latest")
        fake.fail(500, "Internal Server Error", methods=("getUpdates",), times=1)
        await fake.wait_for(lambda: len(fake.calls("getUpdates")) >= 4)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await platform.close()
    logged = caplog.text + "\n".join(str(r.__dict__) for r in caplog.records)
    assert "getUpdates" in logged  # httpx and PTB did log the traffic …
    assert TOKEN not in logged and TOKEN.split(":")[1] not in logged  # … without the token
    assert "TelegramSender(base_url=" in repr(platform.sender) and TOKEN not in repr(platform.sender)


def test_throttle_bucket_refills_warns_once_per_trip_and_forgets_idle_senders() -> None:
    from adapters.telegram.commands import CommandThrottle

    now = [0.0]
    throttle = CommandThrottle(burst=3, interval=2.0, clock=lambda: now[0])
    assert [throttle.check(1, 1) for _ in range(5)] == ["ok", "ok", "ok", "warn", "drop"]
    assert throttle.check(1, 2) == "ok"  # another user in the same chat is not punished
    now[0] = 1.0
    assert throttle.check(1, 1) == "drop"  # half a token is not a command
    now[0] = 2.0
    assert [throttle.check(1, 1) for _ in range(3)] == ["ok", "warn", "drop"]  # one back; a new trip, a new notice
    now[0] = 100.0
    assert [throttle.check(1, 1) for _ in range(4)] == ["ok", "ok", "ok", "warn"]  # the burst never exceeds 3
    # a steady pace of one command per interval is never refused
    assert all(throttle.check(9, 9) == "ok" for now[0] in [200.0 + 2.0 * i for i in range(50)])
    for user in range(10_002):
        throttle.check(2, user)
    now[0] = 1000.0
    throttle.check(3, 3)
    assert len(throttle._buckets) < 10  # idle senders were forgotten


async def test_private_chat_always_answers(fake: FakeTelegram, bot: TelegramAdapter) -> None:
    unknown = await ask(fake, "/foo", lang="en")
    assert len(unknown) == 1 and "/help" in unknown[0].text and len(unknown[0].text.splitlines()) == 1
    plain = await ask(fake, "deepspeed", lang="en")
    text = _all_text(plain)
    assert text.startswith("I searched for “deepspeed”, as /search deepspeed does")
    slash = _all_text(await ask(fake, "/search deepspeed", lang="en"))
    lines = [line for line in text.splitlines()[1:] if line]
    assert lines == [line for line in slash.splitlines() if line]  # the same answer as /search, after saying so
    french = _all_text(await ask(fake, "bert", lang="fr"))
    assert french.startswith("J’ai cherché « bert »")
    assert "Aucun résultat" in _all_text(await ask(fake, "qwxzyv", lang="fr"))
    assert not fake.rejected()


async def test_group_talk_and_unknown_commands_are_not_answered(fake: FakeTelegram, bot: TelegramAdapter) -> None:
    group = -100888
    fake.add_chat(group, "supergroup", admins=(7,))
    fake.user_says(group, "bert is great", user_id=7)
    fake.user_says(group, "/foo", user_id=7)
    follow_up = await ask(fake, "/latest", chat=group, user=7)  # answered after both
    assert len(fake.sent(group)) == len(follow_up) and "#7" in follow_up[0].text


async def test_public_answers_in_a_destination_group_use_its_language(store: Store) -> None:
    from bot.contract.destination import destination_from_json
    from tests.harness.serving import telegram_answering

    group = -100999
    engine = QueryEngine(store, destinations=[destination_from_json(
        {"name": "nlp-fr", "platform": "telegram", "chat": str(group), "languages": ["fr"]})])
    async with telegram_answering(engine) as fake:
        fake.add_chat(group, "supergroup", admins=(7,))
        english = _all_text(await ask(fake, "/sections", chat=group, user=8, lang="en"))
        french = _all_text(await ask(fake, "/sections", chat=group, user=9, lang="fr"))
        private = _all_text(await ask(fake, "/sections", lang="en"))  # the asker's own chat: their locale
        await ask(fake, "/language en", chat=group, user=7, lang="fr")
        chosen = _all_text(await ask(fake, "/sections", chat=group, user=9, lang="fr"))
    assert english == french and english.startswith("📚 Sections de NLP Newsletter #7 (FR)")
    assert private != english and "Sections of" in private
    assert "Sections of" in chosen  # the group's /language comes before the destination's
