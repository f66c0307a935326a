"""Slash commands end to end: gateway INTERACTION_CREATE → Cog → QueryEngine → callback, on the fake."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import pytest_asyncio

from adapters.supervisor import supervise
from bot.chat.query import QueryEngine
from bot.contract.destination import destination_from_json
from tests.fakes.discord import EPHEMERAL, FakeDiscord, connected_platform, fake_adapter
from tests.harness.corpus import corpus_store


@pytest_asyncio.fixture
async def engine() -> QueryEngine:
    return QueryEngine(corpus_store())

def _opt(name: str, value: Any, type_: int = 3, focused: bool = False) -> dict[str, Any]:
    option = {"name": name, "type": type_, "value": value}
    if focused:
        option["focused"] = True
    return option

async def test_commands_registered_with_french_localisations(discord_serving: FakeDiscord) -> None:
    names = {c["name"]: c for c in discord_serving.commands}
    assert set(names) == {"section", "sections", "latest", "issues", "search", "subscribe", "unsubscribe", "help"}
    assert names["latest"]["name_localizations"]["fr"] == "dernier"
    assert names["search"]["description_localizations"]["fr"].startswith("Chercher")
    section_options = {o["name"]: o for o in names["section"]["options"]}
    assert section_options["name"]["autocomplete"] is True
    assert section_options["name"]["name_localizations"]["fr"] == "nom"
    assert names["subscribe"]["default_member_permissions"] == str(1 << 5)

async def test_section_outils(discord_serving: FakeDiscord) -> None:
    callback = await discord_serving.interact("section", [_opt("name", "outils")])
    assert callback["type"] == 4
    data = callback["data"]
    assert data["content"].startswith("⚙️ Outils et jeux de données — NLP Newsletter #7 (FR)")
    assert 1 <= len(data["embeds"]) <= 10
    assert data["allowed_mentions"] == {"parse": []}
    assert data["flags"] & EPHEMERAL  # a lookup is the asker's own unless shared

async def test_section_pages_with_buttons(discord_serving: FakeDiscord) -> None:
    callback = await discord_serving.interact("section", [_opt("name", "outils")])
    message = callback["message"]
    buttons = [c for row in callback["data"]["components"] for c in row["components"]]
    assert [b["label"] for b in buttons] == ["◀", "▶"]
    clicked = await discord_serving.click(message, buttons[1]["custom_id"])
    assert clicked["type"] == 7
    assert clicked["data"]["content"].startswith("✍️ Articles et Blog — NLP Newsletter #7 (FR)")
    assert message["content"] == clicked["data"]["content"]  # replaced in place


async def test_autocomplete_out(discord_serving: FakeDiscord) -> None:
    callback = await discord_serving.interact("section", [_opt("name", "out", focused=True)], kind=4)
    assert callback["type"] == 8
    choices = callback["data"]["choices"]
    assert {"name": "Outils et jeux de données ⚙️", "value": "tools_datasets"} in choices
    assert len(choices) <= 25

async def test_autocomplete_follows_language_option(discord_serving: FakeDiscord) -> None:
    callback = await discord_serving.interact("section", [_opt("name", "tool", focused=True), _opt("language", "en")],
                                      kind=4)
    assert any(c["value"] == "tools_datasets" and "Tools" in c["name"] for c in callback["data"]["choices"])

async def test_search_defers_then_answers(discord_serving: FakeDiscord) -> None:
    callback = await discord_serving.interact("search", [_opt("words", "bert")])
    assert callback["type"] == 5  # acknowledged within 3 s, answered after
    assert callback["data"]["flags"] & EPHEMERAL  # … privately, as the answer will be
    token = callback["token"]
    await discord_serving.wait_for(lambda: discord_serving.originals[token].get("edited_timestamp") is not None)
    content = discord_serving.originals[token]["content"]
    assert "bert" in content.lower()

async def test_latest_and_help(discord_serving: FakeDiscord) -> None:
    latest = await discord_serving.interact("latest")
    assert latest["type"] == 4 and "NLP Newsletter #7 (FR)" in latest["data"]["content"]
    help_ = await discord_serving.interact("help", locale="en-US")
    assert help_["type"] == 4 and "/section" in help_["data"]["content"]

async def test_subscribe_by_admin_is_stored(discord_serving: FakeDiscord, engine: QueryEngine) -> None:
    channel = discord_serving.default_channel
    callback = await discord_serving.interact("subscribe", [_opt("sections", "outils")], admin=True)
    assert callback["type"] == 4 and not (callback["data"].get("flags") or 0) & EPHEMERAL
    subscriptions = engine.store.subscriptions("discord")
    assert [(d.chat, d.sections) for d in subscriptions] == [(channel, ("tools_datasets",))]
    removed = await discord_serving.interact("unsubscribe", admin=True)
    assert removed["type"] == 4 and engine.store.subscriptions("discord") == []

async def test_subscribe_refused_for_non_admin(discord_serving: FakeDiscord, engine: QueryEngine) -> None:
    callback = await discord_serving.interact("subscribe", [_opt("sections", "outils")], admin=False)
    assert callback["type"] == 4 and callback["data"]["flags"] & EPHEMERAL
    assert engine.store.subscriptions("discord") == []

@pytest.mark.parametrize("options", [
    [_opt("name", "zzzz-no-such-section")],
    [_opt("name", "outils"), _opt("issue", 999, 4)],
    [_opt("name", "outils"), _opt("issue", "not-a-number", 4)],
    [_opt("name", "@everyone **x** " * 20)],
])
async def test_bad_inputs_get_a_private_helpful_error(discord_serving: FakeDiscord,
                                                      options: list[dict[str, Any]]) -> None:
    callback = await discord_serving.interact("section", options)
    assert callback["type"] == 4
    data = callback["data"]
    assert data["flags"] & EPHEMERAL and data["content"].strip()
    assert data["allowed_mentions"] == {"parse": []}
    assert discord_serving.pings == [] and discord_serving.rejected == []

async def test_bad_search_and_schedule(discord_serving: FakeDiscord) -> None:
    bad = await discord_serving.interact("subscribe", [_opt("sections", "outils"), _opt("schedule", "every tuesday")],
                                 admin=True)
    assert bad["data"]["flags"] & EPHEMERAL
    nothing = await discord_serving.interact("search", [_opt("words", "qwxzyv")])
    assert nothing["type"] == 5
    await discord_serving.wait_for(lambda: bool(discord_serving.followups) or
                           discord_serving.originals[nothing["token"]].get("edited_timestamp") is not None)


async def test_help_is_answered_after_a_supervised_reconnect(fake_discord: FakeDiscord, engine: QueryEngine) -> None:
    """The gateway drops for good; the supervisor reconnects with a new client, which must have the commands."""
    adapter = fake_adapter(fake_discord)
    connected: list[int] = []
    supervisor = asyncio.create_task(supervise(adapter, engine, first_delay=0.05,
                                               on_connected=lambda: connected.append(adapter.sender.generation)))

    def syncs() -> int:
        return len(fake_discord.requests_to("PUT", "/commands"))

    try:
        await fake_discord.wait_for(lambda: syncs() == 1)
        assert (await fake_discord.interact("help"))["type"] == 4
        await fake_discord.drop_gateway()
        await fake_discord.wait_for(lambda: fake_discord.identifies == 2 and syncs() == 2)
        callback = await fake_discord.interact("help")
        assert callback["type"] == 4 and callback["data"]["content"]
        assert connected == [1, 2]  # one new connection, the commands registered on each
    finally:
        supervisor.cancel()
        await asyncio.gather(supervisor, return_exceptions=True)
        await adapter.close()


LOOKUPS = [("section", [_opt("name", "outils")]), ("sections", []), ("latest", []), ("issues", []),
           ("search", [_opt("words", "bert")])]


async def _answer(fake: FakeDiscord, callback: dict[str, Any]) -> tuple[bool, str]:
    """(ephemeral, content) of the answer to a command, deferred or not."""
    if callback["type"] == 5:
        token = callback["token"]
        await fake.wait_for(lambda: fake.originals[token].get("edited_timestamp") is not None)
        return bool((callback["data"].get("flags") or 0) & EPHEMERAL), fake.originals[token]["content"]
    return bool((callback["data"].get("flags") or 0) & EPHEMERAL), callback["data"]["content"]


@pytest.mark.parametrize("name, options", LOOKUPS)
async def test_lookups_are_ephemeral_unless_shared(discord_serving: FakeDiscord, name: str,
                                                   options: list[dict[str, Any]]) -> None:
    private, content = await _answer(discord_serving, await discord_serving.interact(name, options))
    assert private and content.strip()
    shared, again = await _answer(discord_serving, await discord_serving.interact(
        name, [*options, _opt("public", True, 5)]))
    assert not shared and again == content
    assert discord_serving.rejected == []


async def test_public_option_is_published_localised(discord_serving: FakeDiscord) -> None:
    for command in discord_serving.commands:
        options = {o["name"]: o for o in command.get("options", [])}
        if command["name"] in {name for name, _ in LOOKUPS}:
            assert options["public"]["type"] == 5 and not options["public"].get("required")
            assert options["public"]["name_localizations"]["es-ES"] == "publico"
        else:
            assert "public" not in options


async def test_pages_of_an_ephemeral_section_turn_in_place(discord_serving: FakeDiscord) -> None:
    callback = await discord_serving.interact("section", [_opt("name", "outils")])
    assert callback["data"]["flags"] & EPHEMERAL
    buttons = [c for row in callback["data"]["components"] for c in row["components"]]
    clicked = await discord_serving.click(callback["message"], buttons[1]["custom_id"])
    assert clicked["type"] == 7 and clicked["data"]["content"].startswith("✍️ Articles et Blog")


async def test_server_that_wants_public_answers(fake_discord: FakeDiscord, engine: QueryEngine) -> None:
    async with connected_platform(fake_discord, answers="public") as platform:
        task = asyncio.create_task(platform.commands.serve(engine))
        try:
            await fake_discord.wait_for(lambda: bool(fake_discord.commands))
            shared, _ = await _answer(fake_discord, await fake_discord.interact("latest"))
            private, _ = await _answer(fake_discord, await fake_discord.interact("latest", [_opt("public", False, 5)]))
            bad = await fake_discord.interact("section", [_opt("name", "zzzz-no-such-section")])
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert not shared and private
    assert bad["data"]["flags"] & EPHEMERAL  # errors stay private


async def test_public_answers_in_a_destination_channel_use_its_language(fake_discord: FakeDiscord) -> None:
    channel = fake_discord.default_channel
    engine = QueryEngine(corpus_store(), destinations=[
        destination_from_json({"name": "news-en", "platform": "discord", "chat": channel, "languages": ["en"]})])
    async with connected_platform(fake_discord) as platform:
        task = asyncio.create_task(platform.commands.serve(engine))
        try:
            await fake_discord.wait_for(lambda: bool(fake_discord.commands))
            own = await fake_discord.interact("latest", locale="fr")  # ephemeral: the reader's locale
            shared = await fake_discord.interact("latest", [_opt("public", True, 5)], locale="fr")
            engine.store.set_chat_language("discord", channel, "fr")  # the channel's /language comes first
            chosen = await fake_discord.interact("latest", [_opt("public", True, 5)], locale="en-US")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert "(FR)" in own["data"]["content"]
    assert "(FR)" not in shared["data"]["content"] and "Latest issue" in shared["data"]["content"]
    assert "(FR)" in chosen["data"]["content"]
