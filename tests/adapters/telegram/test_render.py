"""Telegram rendering: limits, split points, escaping, options — checked with the fake's own validator."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from typing import Any

import pytest

from adapters.telegram.layout import Flow, compose
from adapters.telegram.markup import Fragment
from adapters.telegram.payloads import MediaGroupPayload, PhotoPayload, TelegramPayload, TextPayload
from adapters.telegram.render import TelegramRenderer
from adapters.text import utf16_len
from bot.core.messages import (
    DigestPost,
    ErrorAnswer,
    IndexEntry,
    IndexPost,
    NotFound,
    Notice,
    SectionAnswer,
    SectionPost,
)
from bot.core.models import Block, Issue, IssueRef, Item, Section, SectionRef, Span
from bot.ports import Destination, Rendered
from tests.fakes.telegram import parse_html
from tests.harness.corpus import corpus_issues
from tests.harness.destinations import destination

RENDERER = TelegramRenderer()
ISSUE = IssueRef(entry_id="e", link="https://dair.ai/x/", title="NLP Newsletter [FR] #4: Tests", language="fr",
                 number=4)


@pytest.fixture(scope="module")
def corpus() -> list[Issue]:
    return list(corpus_issues())


def _text(part: Rendered[TelegramPayload]) -> TextPayload:
    payload = part.payload
    assert "html" in payload, part.kind
    return payload


def _photo(part: Rendered[TelegramPayload]) -> PhotoPayload:
    payload = part.payload
    assert "photo" in payload, part.kind
    return payload


def _media(part: Rendered[TelegramPayload]) -> MediaGroupPayload:
    payload = part.payload
    assert "media" in payload, part.kind
    return payload


def _check(part: Rendered) -> list[str]:
    """What the fake would check, without HTTP: parse, lengths (UTF-16), media group size, buttons."""
    texts: list[tuple[str, int]] = []
    if part.kind == "text":
        texts.append((part.payload["html"], 4096))
    elif part.kind == "photo":
        texts.append((part.payload["caption"], 1024))
    else:
        assert 2 <= len(part.payload["media"]) <= 10
        texts.extend((m.get("caption", ""), 1024) for m in part.payload["media"])
    plain: list[str] = []
    for markup, limit in texts:
        text, entities = parse_html(markup)
        text = text.strip()
        assert utf16_len(text) <= limit
        assert part.kind != "text" or text
        for entity in entities:
            assert entity["offset"] + entity["length"] <= utf16_len(text) + 1
        plain.append(text)
    for row in part.payload.get("buttons") or []:
        for button in row:
            assert 1 <= len(button["data"].encode()) <= 64
    return plain


def _section(*items: Item, emoji: str = "⚙️", key: str = "tools_datasets") -> Section:
    return Section(key=key, heading=f"Outils {emoji}", title="Outils", emoji=emoji, position=2, items=items)


def _numbering(text: str) -> tuple[str, ...]:
    """("2", "3") for a message whose first line carries "(2/3)"."""
    match = re.search(r"\((\d+)/(\d+)\)", text.split("\n")[0])
    assert match is not None, text[:80]
    return match.groups()


def _dest(**options: object) -> Destination:
    return destination("t", "telegram", "@c", **options)


def test_every_section_of_every_issue_in_all_18_option_combinations(corpus: list[Issue]) -> None:
    combos: list[tuple[bool, str, dict[str, Any]]] = list(itertools.product((False, True), ("none", "first", "all"),
                                    ({}, {"topic": 3}, {"topics": {"tools_datasets": 7}})))
    checked = 0
    for issue in corpus:
        for number, section in enumerate(issue.sections):
            post = SectionPost(issue=issue.ref, section=section, notify=number == 0)
            rendered_by_images: dict[str, list[Rendered[TelegramPayload]]] = {}
            for preview, images, threads in combos:
                parts = RENDERER.render(post, _dest(link_preview=preview, images=images, **threads))
                texts = [p for p in parts if p.kind == "text" or (p.kind == "photo" and images == "first")]
                assert texts, "every section has its text (with images = first, maybe as the photo's caption)"
                for part in parts:
                    _check(part)
                    checked += 1
                    assert part.payload.get("preview", preview) == preview
                expected = threads.get("topic") or (threads.get("topics", {}).get(section.key))
                assert all(p.payload["thread"] == expected for p in parts)
                assert [p.notify for p in parts] == [number == 0] + [False] * (len(parts) - 1)
                rendered_by_images.setdefault(images, parts)
            assert [p.text for p in rendered_by_images["none"]] == \
                [p.text for p in rendered_by_images["all"] if p.kind == "text"]
    assert checked > 18 * 140


def test_header_items_and_sources(corpus: list[Issue]) -> None:
    issue = next(i for i in corpus if i.language == "fr" and i.number == 4)
    section = next(s for s in issue.sections if s.key == "tools_datasets")
    (first, *_) = RENDERER.render(SectionPost(issue=issue.ref, section=section), _dest())
    lines = first.text.split("\n")
    assert lines[0].startswith("⚙️ Outils et jeux de données")
    assert lines[1] == "NLP Newsletter #4 (FR)"
    html = _text(first)["html"]
    assert html.startswith("⚙️ <b>Outils et jeux de données</b>")
    assert f'<a href="{issue.link}">NLP Newsletter #4 (FR)</a>' in html
    assert f"<b>{section.items[0].title}</b>" in html
    assert '<a href="https://' in html


def _long_item(paragraphs: int, sentences: int, title: str = "Long") -> Item:
    body = tuple(Block("paragraph", (Span(" ".join(f"Phrase {p}.{s} avec des mots." for s in range(sentences)) + " "),
                                     Span("lien", href=f"https://example.com/{p}"), Span(" fin.")))
                 for p in range(paragraphs))
    return Item(title=title, body=body)


def test_split_prefers_item_then_paragraph_then_sentence() -> None:
    small = Item(title="Petit", body=(Block("paragraph", (Span("Court."),)),))
    big = _long_item(paragraphs=20, sentences=20)
    parts = RENDERER.render(SectionPost(issue=ISSUE, section=_section(small, big)), _dest())
    assert len(parts) >= 3
    assert [_numbering(p.text) for p in parts] == \
        [(str(n), str(len(parts))) for n in range(1, len(parts) + 1)]
    assert parts[0].text.rstrip().endswith("Court.")  # item boundary: the big item starts a new message
    for part in parts[1:-1]:
        assert part.text.rstrip().endswith("fin.")  # paragraph boundary inside the big item
    huge = Item(title="Énorme", body=(Block("paragraph", (Span(" ".join(f"Phrase numéro {n}." for n in
                                                                       range(900))),)),))
    parts = RENDERER.render(SectionPost(issue=ISSUE, section=_section(huge)), _dest())
    assert len(parts) > 1
    for part in parts[:-1]:
        assert re.search(r"Phrase numéro \d+\.$", part.text)  # sentence boundary, never mid-word
    for part in parts:
        _check(part)


def test_never_cut_inside_a_link_or_a_word_and_utf16_counted() -> None:
    emoji_words = " ".join("📙mot" for _ in range(3000))  # 3 UTF-16 units + space each, no sentence end
    link_text = "un lien qui ne doit jamais être coupé " * 5
    item = Item(title="Emoji", body=(Block("paragraph", (Span(emoji_words), Span(link_text, href="https://l.example/"),
                                                         Span(" " + emoji_words))),))
    parts = RENDERER.render(SectionPost(issue=ISSUE, section=_section(item)), _dest())
    assert len(parts) >= 3
    links = 0
    for part in parts:
        (text,) = _check(part)
        assert utf16_len(text) <= 4096 < len(text.encode("utf-16-le"))
        assert not text.endswith("📙") and not text.endswith("📙m")
        links += _text(part)["html"].count('<a href="https://l.example/">')
    assert links == 1  # the link landed whole in exactly one message


def test_unspaced_text_is_cut_at_sentence_marks_then_characters() -> None:
    chinese = "自然语言处理很有趣。" * 700 + "无" * 5000
    parts = RENDERER.render(SectionPost(issue=ISSUE, section=_section(
        Item(title="中文", body=(Block("paragraph", (Span(chinese),)),)))), _dest())
    assert len(parts) >= 3
    assert parts[0].text.endswith("。")
    assert "".join(p.text.split("\n\n", 1)[1].removeprefix("中文\n") for p in parts).replace("\n", "") == chinese


def test_hostile_feed_text_is_escaped() -> None:
    nasty = Item(title="<script>alert(1)</script> & co", body=(Block("paragraph", (
        Span("a < b && c > d &amp; "), Span("x", href="https://e.com/?a=1&b=2"), Span("q", href='https://e.com/"onclick="x'),
        Span("bad", href="javascript:alert(1)"), Span(" rel", href="/relative"), Span(" code<>", code=True),
        Span("gras", bold=True, italic=True, href="https://e.com/b"))),), sources=("https://e.com/src",))
    (part,) = RENDERER.render(SectionPost(issue=ISSUE, section=_section(nasty)), _dest())
    (text,) = _check(part)
    assert "<script>alert(1)</script> & co" in text and "a < b && c > d &amp;" in text
    html = _text(part)["html"]
    assert "javascript:" not in html and 'href="/relative"' not in html
    assert 'href="https://e.com/?a=1&amp;b=2"' in html and "onclick" not in html  # a quote: left unlinked
    assert '<a href="https://e.com/b"><b><i>gras</i></b></a>' in html
    assert "<code> code&lt;&gt;</code>" in html or "<code>code&lt;&gt;</code>" in html
    assert text.rstrip().endswith("🔗 source")  # the source link, not already in the body


def test_images_photo_or_media_groups_then_text() -> None:
    images = tuple(f"https://img.example/{n}.png" for n in range(11))
    item = Item(title="Images", body=(Block("paragraph", (Span("Texte."),)),),
                images=(*images, "https://img.example/anim.gif", "/relative.png"))
    section = _section(item)
    first = RENDERER.render(SectionPost(issue=ISSUE, section=section), _dest(images="first"))
    assert [p.kind for p in first] == ["photo"]  # the short section is the photo's caption: one message
    assert _photo(first[0])["photo"] == images[0] and first[0].notify and "Texte." in first[0].text
    for size, count in (((6, 8), 1), ((12, 20), 2)):  # over a caption's 1,024 in one message, then in two
        long = _section(replace(_long_item(*size), images=images[:1]))
        plain = RENDERER.render(SectionPost(issue=ISSUE, section=long), _dest())
        assert len(plain) == count and len(plain[0].text) > 1024
        pictured = RENDERER.render(SectionPost(issue=ISSUE, section=long), _dest(images="first"))
        assert [p.kind for p in pictured] == ["text"] * len(plain), "no photo message more, no section cut at 1,024"
        assert [p.text for p in pictured] == [p.text for p in plain]
        assert _text(pictured[0]).get("image") == images[0] and all("image" not in p.payload for p in pictured[1:])
    every = RENDERER.render(SectionPost(issue=ISSUE, section=section), _dest(images="all"))
    assert [p.kind for p in every] == ["media_group", "media_group", "text"]
    assert [len(_media(p)["media"]) for p in every[:2]] == [6, 5]  # 11 → 6 + 5, never a group of one
    assert "caption" in _media(every[0])["media"][0] and "caption" not in _media(every[1])["media"][0]
    for part in every:
        _check(part)


def test_index_and_digest_posts() -> None:
    refs = [SectionRef(key=f"k{n}", heading=f"Rubrique {n} 📙", emoji="📙", position=n) for n in range(3)]
    index = IndexPost(issue=ISSUE, notify=False, entries=(
        IndexEntry(refs[0], "https://t.me/chan/1"), IndexEntry(refs[1], "https://t.me/c/123/2"),
        IndexEntry(refs[2], None)))
    (part,) = RENDERER.render(index, _dest(topic=9))
    text, entities = parse_html(_text(part)["html"])
    assert "Rubrique 2 📙" in text and part.payload["thread"] == 9 and not part.notify
    assert [e["url"] for e in entities if e["type"] == "text_link"][-2:] == \
        ["https://t.me/chan/1", "https://t.me/c/123/2"]
    digest = DigestPost(issue=ISSUE, sections=(_section(_long_item(2, 2, "A")), _section(
        _long_item(1, 1, "B"), emoji="📙", key="publications")))
    parts = RENDERER.render(digest, _dest())
    assert "• A" in parts[0].text and "• B" in parts[0].text
    for part in parts:
        _check(part)


def test_answers_and_paging_buttons() -> None:
    section = _section(_long_item(1, 2))
    answer = SectionAnswer(lang="fr", issue=ISSUE, section=section, sections=(), prev_page="s:1:1",
                           next_page="s:1:3", page=2, page_count=7)
    (part,) = RENDERER.render_answer(answer)
    assert part.payload["buttons"] == [[{"text": "◀", "data": "s:1:1"}, {"text": "▶", "data": "s:1:3"}]]
    long_answer = SectionAnswer(lang="fr", issue=ISSUE, section=_section(_long_item(20, 20)), sections=(),
                                next_page="s:1:3", page=1, page_count=7)
    parts = RENDERER.render_answer(long_answer)
    assert len(parts) > 1 and "buttons" in parts[-1].payload and "buttons" not in parts[0].payload
    error = NotFound(lang="en", message="No section “<b>zz</b>”. Available sections:", issue=ISSUE,
                     choices=tuple(SectionRef(key="k", heading="Outils ⚙️", emoji="⚙️", position=0, item_count=3)
                                  for _ in range(2)))
    (part,) = RENDERER.render_answer(error)
    text = _check(part)[0]
    assert text.startswith("⚠️ No section “<b>zz</b>”") and "1. Outils ⚙️ — 3 items" in text
    assert part.payload["html"].startswith("⚠️ No section “&lt;b&gt;zz&lt;/b&gt;”. Available sections:\n")
    (unknown,) = RENDERER.render_answer(ErrorAnswer(lang="fr", message="Je ne connais pas cette commande."))
    assert unknown.payload["html"] == "⚠️ Je ne connais pas cette commande."  # a sentence, not a bold heading
    huge = Notice(lang="en", message="x" * 5000 + " " + "\u202eRTL שלום " * 300)
    for part in RENDERER.render_answer(huge):
        _check(part)


def test_compose_budget_keeps_room_for_numbering() -> None:
    flow = Flow()
    for n in range(2000):
        flow.add(Fragment.plain(f"mot{n:04d}"), 2)
    messages = compose(Fragment.plain("Titre"), flow, subtitle=Fragment.plain("Sous-titre"), limit=4096)
    assert len(messages) > 1
    assert all(m.size <= 4096 for m in messages)
    assert messages[0].text.startswith(f"Titre (1/{len(messages)})\nSous-titre\n\nmot0000")
