"""The fake Bot API itself: it must refuse what Telegram refuses, or the other tests prove nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.telegram import EntityError, FakeTelegram, FloodControl, parse_html

TOKEN = "99:FAKE-token_0123456789abcdef"


@pytest.mark.parametrize("markup, error", [
    ("<foo>x</foo>", 'Unsupported start tag "foo"'),
    ("<b>x", "Can't find end tag"),
    ("<b><i>x</b></i>", "Unmatched end tag"),
    ("x</b>", "Unexpected end tag"),
    ("a < b", "Unsupported start tag"),
    ("a > b", 'Unexpected ">"'),
    ("Tom & Jerry", "Unsupported HTML entity"),
    ("&nbsp;", "Unsupported HTML entity"),
    ('<a href="javascript:x">x</a>', "Wrong URL"),
    ('<a href="https://a"><a href="https://b">x</a></a>', "Nested links"),
    ("<code><b>x</b></code>", "not allowed inside a code block"),
    ('<span class="x">s</span>', 'must have class "tg-spoiler"'),
    ('<b onclick="x">y</b>', 'Unsupported attribute "onclick"'),
])
def test_html_parser_rejects_like_telegram(markup: str, error: str) -> None:
    with pytest.raises(EntityError, match=error):
        parse_html(markup)


def test_html_parser_entities_in_utf16() -> None:
    text, entities = parse_html('📙 <b>gras</b> &lt;&amp;&gt;&quot;&#233;&#x1F600; <a href="https://x.y/?a=1&amp;b">l</a>'
                                "<pre><code class=\"language-py\">c</code></pre>")
    assert text == '📙 gras <&>"é😀 lc'
    assert entities[0] == {"type": "bold", "offset": 3, "length": 4}  # 📙 counts 2, plus the space
    link = next(e for e in entities if e["type"] == "text_link")
    assert link["url"] == "https://x.y/?a=1&b" and link["offset"] == 16  # 😀 counts 2 as well


def test_flood_control_windows() -> None:
    now = [0.0]
    flood = FloodControl(clock=lambda: now[0])
    assert flood.admit(1, False) is None
    assert flood.admit(1, False) == 1  # 1/s per chat
    now[0] = 1.0
    assert flood.admit(1, False) is None
    for n in range(19):
        now[0] = 10.0 + n
        assert flood.admit(-5, True) is None
    now[0] = 29.0
    assert flood.admit(-5, True) is None  # the 20th in a minute
    now[0] = 30.0
    assert flood.admit(-5, True) == 40  # the 21st waits for the first to leave the window (t=70)
    burst = FloodControl(clock=lambda: 100.0)
    assert all(burst.admit(chat, False) is None for chat in range(30))
    assert burst.admit(31, False) == 1  # 30/s overall
    assert FloodControl(clock=lambda: 0.0, time_scale=0.01).admit(2, False, weight=31) == 1


@pytest.fixture
async def api() -> AsyncIterator[tuple[FakeTelegram, Any]]:
    async with FakeTelegram(TOKEN, time_scale=0.01) as fake, aiohttp.ClientSession() as session:
        fake.add_chat(-100, "channel", username="chan")
        fake.add_chat(-200, "supergroup", is_forum=True, topics=(5,))

        async def call(method: str, token: str = TOKEN, **params: Any) -> tuple[int, dict[str, Any]]:
            form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
            async with session.post(f"{fake.base_url}{token}/{method}", data=form) as response:
                return response.status, await response.json()

        yield fake, call


async def test_send_message_validation(api: tuple[FakeTelegram, Any]) -> None:
    fake, call = api
    status, body = await call("sendMessage", chat_id="-100", text="<b>ok</b>", parse_mode="HTML")
    assert status == 200 and body["result"]["chat"]["username"] == "chan" and body["result"]["text"] == "ok"
    status, body = await call("sendMessage", chat_id="@chan", text="x" * 4097)
    assert status == 400 and body["description"] == "Bad Request: message is too long"
    assert (await call("sendMessage", chat_id="@chan", text="📙" * 2049))[0] == 400  # 4098 UTF-16 units
    status, body = await call("sendMessage", chat_id="@chan", text="<b> </b>", parse_mode="HTML")
    assert body["description"] == "Bad Request: message text is empty"
    status, body = await call("sendMessage", chat_id="@chan", text="<i>x", parse_mode="HTML")
    assert body["description"].startswith("Bad Request: can't parse entities:")
    status, body = await call("sendMessage", chat_id="@chan", text="abc", entities=[
        {"type": "bold", "offset": 2, "length": 2}])
    assert status == 400 and "beyond the text end" in body["description"]
    status, body = await call("sendMessage", chat_id="-200", text="t", message_thread_id=6)
    assert body["description"] == "Bad Request: message thread not found"
    status, body = await call("sendMessage", chat_id="-200", text="t", message_thread_id=5, reply_markup={
        "inline_keyboard": [[{"text": "▶", "callback_data": "x" * 65}]]})
    assert body["description"] == "Bad Request: BUTTON_DATA_INVALID"
    status, body = await call("sendMessage", chat_id="-300", text="t")
    assert body["description"] == "Bad Request: chat not found"
    assert (await call("getMe", token="99:wrong"))[0] == 401
    assert len(fake.sent()) == 1 and len(fake.rejected()) == 8


async def test_photos_media_groups_and_captions(api: tuple[FakeTelegram, Any]) -> None:
    fake, call = api
    status, body = await call("sendPhoto", chat_id="@chan", photo="https://i/1.png", caption="é" * 1025)
    assert body["description"] == "Bad Request: message caption is too long"
    one = [{"type": "photo", "media": "https://i/1.png"}]
    status, body = await call("sendMediaGroup", chat_id="@chan", media=one)
    assert status == 400 and "2-10" in body["description"]
    status, body = await call("sendMediaGroup", chat_id="@chan", media=one * 3)
    assert status == 200 and len(body["result"]) == 3
    assert len({m["media_group_id"] for m in body["result"]}) == 1


async def test_flood_forbidden_migration_and_faults(api: tuple[FakeTelegram, Any]) -> None:
    fake, call = api
    assert (await call("sendMessage", chat_id="@chan", text="1"))[0] == 200
    status, body = await call("sendMessage", chat_id="@chan", text="2")
    assert status == 429 and body["parameters"] == {"retry_after": 1}
    assert body["description"] == "Too Many Requests: retry after 1"
    fake.kick(-100)
    status, body = await call("sendMessage", chat_id="@chan", text="3")
    assert status == 403 and body["description"] == "Forbidden: bot was kicked from the channel chat"
    fake.add_chat(-7, "group")
    fake.migrate(-7, -1007)
    status, body = await call("sendMessage", chat_id="-7", text="x")
    assert status == 400 and body["parameters"] == {"migrate_to_chat_id": -1007}
    fake.fail(500, "Internal Server Error", methods=("sendMessage",), times=1)
    assert (await call("sendMessage", chat_id="-1007", text="x"))[0] == 500


async def test_updates_long_polling_and_commands(api: tuple[FakeTelegram, Any]) -> None:
    fake, call = api
    fake.add_chat(1, "private")
    fake.user_says(1, "/section@digest_test_bot outils 3")
    status, body = await call("getUpdates", offset=0, timeout=0)
    (update,) = body["result"]
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 24}]
    status, body = await call("getUpdates", offset=update["update_id"] + 1, timeout=0.05)
    assert body["result"] == []  # confirmed, and the long poll returned empty after its timeout
    status, body = await call("setMyCommands", commands=[{"command": "Bad-One", "description": "x"}])
    assert body["description"] == "Bad Request: BOT_COMMAND_INVALID"
