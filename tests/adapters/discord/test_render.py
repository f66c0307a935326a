"""Discord rendering: limits, cuts, escaping and notification flags, over the whole real corpus."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from adapters.discord.render import SUPPRESS_NOTIFICATIONS, DiscordRenderer, embed_length, escape_text
from adapters.text import utf16_len
from bot.core.messages import IndexEntry, IndexPost, NotFound, Notice, SectionPost
from bot.core.models import Block, Issue, IssueRef, Item, Section, SectionRef, Span
from bot.ports import Destination
from tests.fakes.discord import FakeDiscord
from tests.harness.corpus import corpus_issues
from tests.harness.destinations import destination

RENDERER = DiscordRenderer()

def _dest(**options: object) -> Destination:
    return destination("d", "discord", "1", **options)

@pytest.fixture(scope="module")
def corpus() -> list[Issue]:
    return list(corpus_issues())

def _posts(issue: Issue) -> list[SectionPost]:
    return [SectionPost(issue=issue.ref, section=s, notify=n == 0) for n, s in enumerate(issue.sections)]

@pytest.mark.parametrize("fmt", ["embeds", "text"])
def test_every_section_of_every_issue_is_valid(corpus: list[Issue], fmt: str) -> None:
    fake = FakeDiscord()  # only its validator: the same checks the server applies
    count = 0
    for issue in corpus:
        for post in _posts(issue):
            for part in RENDERER.render(post, _dest(format=fmt)):
                count += 1
                assert fake.validate_message(dict(part.payload)) == {}, (issue.title, post.section)
                assert utf16_len(part.payload["content"]) <= 2000
                if fmt == "text":
                    assert "embeds" not in part.payload
                else:
                    assert len(part.payload["embeds"]) <= 10
                    assert sum(map(embed_length, part.payload["embeds"])) <= 6000
    assert count >= 100

def test_header_and_one_embed_per_item(corpus: list[Issue]) -> None:
    issue = next(i for i in corpus if i.language == "fr" and i.number == 4)
    section = issue.section("publications")
    assert section is not None
    parts = RENDERER.render(SectionPost(issue=issue.ref, section=section), _dest())
    assert parts[0].payload["content"].startswith("📙 Publications — NLP Newsletter #4 (FR)")
    embeds = [e for p in parts for e in p.payload["embeds"]]
    titled = [i for i in section.items if i.title]
    assert [e.get("title") for e in embeds if e.get("title")][: len(titled)] == [
        escape_text(i.title.strip()) for i in titled]
    first = embeds[0]
    assert first["url"].startswith("http")
    for part in parts:  # the footer once per message, on its last embed
        footers = [e["footer"]["text"] for e in part.payload["embeds"] if "footer" in e]
        assert footers == ["NLP Newsletter #4 (FR) · Publications"] and "footer" in part.payload["embeds"][-1]
    assert isinstance(first["color"], int)
    colours = {e["color"] for e in embeds}
    assert len(colours) == 1  # one colour per section key

def _long_item(sentences: int = 400) -> Item:
    text = " ".join(f"Sentence number {n} talks about transformers and attention." for n in range(sentences))
    return Item(title="A very long story " * 30, body=(Block("paragraph", (Span(text),)),),
                images=("https://img.example/a.png", "https://img.example/b.png"),
                links=("https://example.org/source",), sources=("https://example.org/source",))

def _issue(*items: Item, key: str = "publications") -> IssueRef:
    return IssueRef(entry_id="e", link="https://example.org/issue", title="NLP Newsletter [FR] #4", language="fr",
                    number=4, published=datetime(2020, 3, 1, tzinfo=UTC))

def _section(*items: Item) -> Section:
    return Section("publications", "Publications 📙", "Publications", "📙", 0, tuple(items))

def test_long_item_is_cut_at_a_sentence_with_ellipsis_and_link() -> None:
    parts = RENDERER.render(SectionPost(issue=_issue(), section=_section(_long_item())), _dest())
    embed = parts[0].payload["embeds"][0]
    assert utf16_len(embed["description"]) <= 4096
    assert embed["description"].endswith("… [Lire la suite](https://example.org/source)")
    before = embed["description"].split("…")[0]
    assert before.endswith("attention.")  # a whole sentence
    assert utf16_len(embed["title"]) <= 256 and embed["title"].endswith("…")
    assert embed["thumbnail"] == {"url": "https://img.example/a.png"} and "image" not in embed  # thumbnail by default

def test_text_format_cuts_long_items_and_never_mid_word() -> None:
    items = [_long_item(60) for _ in range(4)]
    parts = RENDERER.render(SectionPost(issue=_issue(), section=_section(*items)), _dest(format="text"))
    assert len(parts) >= 2
    for part in parts:
        content = part.payload["content"]
        assert utf16_len(content) <= 2000
        assert content.startswith("**📙 Publications — NLP Newsletter #4 (FR)")
        for cut in re.findall(r"(\S+)… \[Lire la suite\]", content):
            assert cut.endswith(".")

def test_many_items_continue_in_further_messages_with_counters() -> None:
    items = [Item(title=f"Item {n}", body=(Block("paragraph", (Span("word " * 150),)),)) for n in range(25)]
    parts = RENDERER.render(SectionPost(issue=_issue(), section=_section(*items)), _dest())
    assert len(parts) >= 3
    assert sum(len(p.payload["embeds"]) for p in parts) == 25
    assert parts[0].payload["content"].endswith(f"(1/{len(parts)})")
    assert all(len(p.payload["embeds"]) <= 10 for p in parts)

def test_only_the_first_message_of_an_issue_notifies() -> None:
    items = [Item(title=f"Item {n}", body=(Block("paragraph", (Span("text " * 300),)),)) for n in range(12)]
    first = RENDERER.render(SectionPost(issue=_issue(), section=_section(*items), notify=True), _dest())
    assert first[0].notify and "flags" not in first[0].payload
    assert all(p.payload["flags"] == SUPPRESS_NOTIFICATIONS and not p.notify for p in first[1:])
    later = RENDERER.render(SectionPost(issue=_issue(), section=_section(*items), notify=False), _dest())
    assert all(p.payload["flags"] == SUPPRESS_NOTIFICATIONS for p in later)

def test_feed_markdown_and_mentions_are_neutralised() -> None:
    item = Item(title="**Bold** [x](y)", body=(Block("paragraph", (
        Span("Ping @everyone and *stars* _under_ `tick` "), Span("link", href="https://e.org/a b(c)"))),
        Block("paragraph", (Span("# not a heading"),))))
    payload = RENDERER.render(SectionPost(issue=_issue(), section=_section(item)), _dest(format="text"))[0]
    content = payload.payload["content"]
    assert "\\*stars\\*" in content and "\\_under\\_" in content and "\\`tick\\`" in content
    assert "[link](<https://e.org/a%20b%28c%29>)" in content
    assert "\\# not a heading" in content
    assert "\\*\\*Bold\\*\\* \\[x\\](y)" in content

def test_thread_option_and_index() -> None:
    item = Item(title="T", body=(Block("paragraph", (Span("x"),)),))
    parts = RENDERER.render(SectionPost(issue=_issue(), section=_section(item)), _dest(thread=True))
    assert parts[0].payload["thread"]["name"] == "NLP Newsletter #4 (FR)"
    assert "NLP Newsletter #4 (FR)" in parts[0].payload["thread"]["header"]
    ref = SectionRef("publications", "Publications 📙", "📙", 0, 1)
    index = RENDERER.render(IndexPost(issue=_issue(), entries=(
        IndexEntry(ref, "https://discord.com/channels/1/2/3"), IndexEntry(ref, None))), _dest())
    assert "[Publications 📙](<https://discord.com/channels/1/2/3>)" in index[0].payload["content"]

def test_answers_errors_are_ephemeral() -> None:
    error = RENDERER.render_answer(NotFound(lang="fr", message="Nope *bad*", issue=_issue(), choices=(
        SectionRef("tools", "Outils ⚙️", "⚙️", 1),)))
    assert error[0].payload["ephemeral"] is True
    assert "Nope \\*bad\\*" in error[0].payload["content"] and "Outils ⚙️" in error[0].payload["content"]
    text = RENDERER.render_answer(Notice(lang="en", message="ok"))
    assert "ephemeral" not in text[0].payload
