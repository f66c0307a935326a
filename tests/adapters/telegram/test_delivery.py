"""Delivery end to end: TelegramAdapter (real PTB Bot + FloodLimiter) against the fake Bot API."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.telegram import TelegramAdapter, telegram_adapter
from bot.core.errors import DestinationForbidden, Rejected, RetryLater
from bot.core.messages import IndexEntry, IndexPost, SectionPost
from bot.core.models import Issue, SectionRef
from bot.feeds.ingest import Ingestor
from bot.ports import Destination, Rendered
from bot.settings.config import Config, DestinationConfig, FeedConfig
from bot.storage.store import Store
from scheduler.service import DeliveryService
from tests.fakes.telegram import FakeTelegram
from tests.harness.corpus import CORPUS, corpus_issues, deliver_sections
from tests.harness.destinations import destination

TOKEN = "424242:AAH-secret_token_value_0123456789"
SCALE = 0.002  # flood windows 500× shorter in both the fake and the limiter: same rules, less waiting


@pytest.fixture(scope="module")
def corpus() -> list[Issue]:
    return list(corpus_issues())


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN, time_scale=SCALE) as fake:
        fake.add_chat(-1001234, "channel", username="digest_fr")
        yield fake


@pytest.fixture
async def platform(fake: FakeTelegram) -> AsyncIterator[TelegramAdapter]:
    platform = telegram_adapter(TOKEN, base_url=fake.base_url, time_scale=SCALE)
    await platform.sender.start()
    yield platform
    await platform.close()


def _dest(chat: str, **options: object) -> Destination:
    return destination(f"tg:{chat}", "telegram", chat, **options)


_deliver = deliver_sections


async def test_pipeline_posts_latest_fr_issue_once_in_order_then_index(fake: FakeTelegram, tmp_path: Path) -> None:
    """The lead's DeliveryService (planner → outbox → worker) drives the real adapter."""
    config = Config(feeds=[FeedConfig(name="nlp", url=str(CORPUS))],
                    destinations=[DestinationConfig(name="fr-channel", platform="telegram", chat="@digest_fr",
                                                    languages=["fr"], backfill=1)])
    store = Store(tmp_path / "bot.db")
    platform = telegram_adapter(TOKEN, base_url=fake.base_url, time_scale=SCALE)
    service = DeliveryService(config, store, {"telegram": platform}, Ingestor(store, config))
    await platform.sender.start()
    try:
        await service.run_once()
        for _ in range(3):  # the index is queued once the last section is out
            await service.run_once()
    finally:
        await platform.close()
    latest = store.latest("fr")
    assert latest is not None and latest.number == 7
    messages = fake.sent(-1001234)
    headers = [m.text.split("\n")[0] for m in messages]
    titles = [s.title for s in latest.sections]
    order: list[int] = []
    for header in headers[:-1]:
        order.append(next(n for n, title in enumerate(titles) if title in header))
    assert order == sorted(order) and sorted(set(order)) == list(range(len(titles)))
    for n in set(order):  # each section exactly once: one message, or parts (1/k)…(k/k) once each
        count = order.count(n)
        parts = [h for h, o in zip(headers, order, strict=False) if o == n]
        assert count == 1 or [p.rsplit("(", 1)[1] for p in parts] == [f"{i}/{count})" for i in range(1, count + 1)]
    assert not messages[0].silent and all(m.silent for m in messages[1:])
    index = messages[-1]
    assert index.text.startswith("📚")
    links = [e["url"] for e in index.entities if e["type"] == "text_link" and "t.me" in e["url"]]
    assert links[0] == f"https://t.me/digest_fr/{messages[0].message_id}"
    assert len(links) == len(titles)
    assert fake.rejected() == [] and not any(r.status == 429 for r in fake.requests)
    store.close()


@pytest.mark.parametrize("images", ["none", "first", "all"])
async def test_whole_corpus_is_accepted(fake: FakeTelegram, platform: TelegramAdapter, corpus: list[Issue],
                                        images: str) -> None:
    """Every section of every issue, sent for real; preview and topic options rotate over the issues.

    (Every one of the 18 option combinations is checked against the same validator, without
    HTTP, in tests/adapters/telegram/test_render.py.)
    """
    combos = list(itertools.product((False, True), ("plain", "topic", "topics")))
    jobs = []
    for number, issue in enumerate(corpus):
        preview, threads = combos[number % len(combos)]
        chat_id = -100900 - number
        fake.add_chat(chat_id, "supergroup", is_forum=threads != "plain", topics=(3, 7))
        options: dict[str, object] = {"link_preview": preview, "images": images}
        if threads == "topic":
            options["topic"] = 3
        elif threads == "topics":
            options["topics"] = {"tools_datasets": 7, "publications": 3}
        jobs.append(_deliver(platform, issue, _dest(str(chat_id), **options)))
    results = await asyncio.gather(*jobs)
    sent = sum(len(batch) for batch in results)
    assert fake.rejected() == []
    assert not any(r.status == 429 for r in fake.requests)
    assert sent == sum(1 for r in fake.requests if r.method.startswith("send"))
    assert len(fake.sent()) >= sum(len(i.sections) for i in corpus)
    photos = [m for m in fake.sent() if m.photo]
    if images == "none":
        assert not photos
        return
    assert photos and all(len(m.text) <= 1024 for m in photos)
    groups: dict[str, int] = {}
    for message in photos:
        if message.media_group_id:
            groups[message.media_group_id] = groups.get(message.media_group_id, 0) + 1
    assert all(2 <= size <= 10 for size in groups.values())
    assert bool(groups) == (images == "all")
    if images == "first":  # a photo only for a section that fits its caption; longer ones preview the picture
        previews = [m for m in fake.sent() if m.preview_url]
        assert previews and all(m.preview_disabled is False and not m.photo for m in previews)
        assert not any(re.search(r"\(\d+/\d+\)", m.text.split("\n")[0]) for m in photos)
    topics = {m.thread for m in fake.sent() if m.chat_id == -100902}  # third issue: the topics map
    assert topics and topics <= {3, 7, None}


async def test_flood_storm_is_survived(fake: FakeTelegram, platform: TelegramAdapter, corpus: list[Issue]) -> None:
    issue = next(i for i in corpus if i.language == "fr" and i.number == 4)
    dest = _dest("@digest_fr")
    parts = [(s, p) for s in issue.sections
             for p in platform.renderer.render(SectionPost(issue=issue.ref, section=s), dest)]
    fake.flood_storm(4, retry_after=3)
    retries: list[float | None] = []
    for number, (_section, part) in enumerate(parts):
        while True:  # the outbox's loop: RetryLater → wait retry_after → same part again
            try:
                await platform.sender.send(dest, part, key=f"k{number}")
                break
            except RetryLater as exc:
                retries.append(exc.retry_after)
                await asyncio.sleep((exc.retry_after or 1) * SCALE)
    assert retries == [3.0] * 4
    texts = [m.text for m in fake.sent(-1001234)]
    assert texts == [p.text for _, p in parts]  # all delivered, once, in order
    assert sum(r.status == 429 for r in fake.requests) == 4  # only the injected ones: no self-inflicted flood


async def test_reply_retries_a_short_flood_wait_in_place(fake: FakeTelegram, platform: TelegramAdapter) -> None:
    fake.add_chat(55, "private")
    fake.flood_storm(2, retry_after=1, chat_id=55)
    message = await platform.sender.application.bot.send_message(55, "hello")  # default: 2 retries in place
    assert message.message_id == 1
    assert [r.status for r in fake.requests if r.method == "sendMessage"] == [429, 429, 200]


async def test_forbidden_pauses_only_that_destination(fake: FakeTelegram, platform: TelegramAdapter) -> None:
    fake.add_chat(-100222, "channel")
    fake.kick(-100222)
    part = Rendered(kind="text", text="hi", payload={"html": "<b>hi</b>"})
    with pytest.raises(DestinationForbidden) as info:
        await platform.sender.send(_dest("-100222"), part, key="a")
    assert "kicked" in str(info.value) and TOKEN not in str(info.value)
    sent = await platform.sender.send(_dest("@digest_fr"), part, key="b")
    assert sent.url == "https://t.me/digest_fr/1"


async def test_bad_request_is_rejected_and_errors_map(fake: FakeTelegram, platform: TelegramAdapter) -> None:
    bad = Rendered(kind="text", text="x", payload={"html": "<b>unclosed"})
    with pytest.raises(Rejected) as info:
        await platform.sender.send(_dest("@digest_fr"), bad, key="a")
    assert "can't parse entities" in str(info.value).lower()
    fake.fail(502, "Bad Gateway", methods=("sendMessage",))
    with pytest.raises(RetryLater) as retry:
        await platform.sender.send(_dest("@digest_fr"), Rendered(kind="text", text="x", payload={"html": "x"}), key="b")
    assert retry.value.retry_after is None
    with pytest.raises(Rejected):
        await platform.sender.send(_dest("-4242"), Rendered(kind="text", text="x", payload={"html": "x"}), key="c")


async def test_migrated_group_is_followed_and_remembered(fake: FakeTelegram, platform: TelegramAdapter) -> None:
    fake.add_chat(-555, "group")
    fake.migrate(-555, -1009999)
    dest = _dest("-555")
    part = Rendered(kind="text", text="x", payload={"html": "x"})
    first = await platform.sender.send(dest, part, key="a")
    assert first.chat_id == "-1009999" and first.url == "https://t.me/c/9999/1"
    assert platform.sender.migrations == {"-555": "-1009999"}
    await platform.sender.send(dest, part, key="b")
    assert [r.status for r in fake.calls("sendMessage")] == [400, 200, 200]  # the old id is tried once only
    assert len(fake.sent(-1009999)) == 2


async def test_index_is_posted_then_edited_in_place(fake: FakeTelegram, platform: TelegramAdapter,
                                                    corpus: list[Issue]) -> None:
    issue = next(i for i in corpus if i.language == "fr" and i.number == 4)
    dest = _dest("@digest_fr")
    refs = [SectionRef(s.key, s.heading, s.emoji, s.position) for s in issue.sections]
    entries = tuple(IndexEntry(ref, f"https://t.me/digest_fr/{n + 1}") for n, ref in enumerate(refs[:-1]))
    post = IndexPost(issue=issue.ref, entries=entries, notify=False)
    (part,) = platform.renderer.render(post, dest)
    sent = await platform.sender.send(dest, part, key="index")
    assert fake.sent(-1001234)[0].silent
    grown = IndexPost(issue=issue.ref, notify=False,
                      entries=(*entries, IndexEntry(refs[-1], "https://t.me/digest_fr/99")))
    (new_part,) = platform.renderer.render(grown, dest)
    assert await platform.sender.edit(dest, sent, new_part) == sent
    message = fake.sent(-1001234)[0]
    assert message.edits and refs[-1].heading in message.text
    assert await platform.sender.edit(dest, sent, new_part) == sent  # "not modified" is success
    assert fake.rejected()[-1].description.startswith("Bad Request: message is not modified")


async def test_photos_then_text_and_notification_flags(fake: FakeTelegram, platform: TelegramAdapter,
                                                       corpus: list[Issue]) -> None:
    issue = next(i for i in corpus if i.language == "fr" and i.number == 4)
    section = next(s for s in issue.sections if s.key == "tools_datasets")
    dest = _dest("@digest_fr", images="all", link_preview=True)
    post = SectionPost(issue=issue.ref, section=section, notify=True)
    for number, part in enumerate(platform.renderer.render(post, dest)):
        await platform.sender.send(dest, part, key=str(number))
    messages = fake.sent(-1001234)
    assert messages[0].photo and messages[0].media_group_id and "Outils" in messages[0].text
    texts = [m for m in messages if not m.photo]
    assert texts and all(m.preview_disabled is False for m in texts)
    assert not messages[0].silent and all(m.silent for m in messages[1:] if m.media_group_id is None)
