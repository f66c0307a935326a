"""Lifting bodies out before feedparser must never change what a feed parses to."""

from __future__ import annotations

import pytest

from bot.core.errors import FeedMalformed
from bot.feeds.fetch import parse_feed
from bot.feeds.lift import lift_payloads
from tests.harness.corpus import CORPUS

BODY = "<p>" + "Un paragraphe assez long pour être levé, avec des accents é è à. " * 8 + "</p>"
ESCAPED = BODY.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _atom(content: str, *, declaration: str = '<?xml version="1.0" encoding="utf-8"?>', extra: str = "") -> bytes:
    return (f'{declaration}\n<feed xmlns="http://www.w3.org/2005/Atom">{extra}<title>t</title>'
            f'<id>urn:t</id><updated>2020-03-17T00:00:00Z</updated>'
            f'<entry><title>NLP Newsletter #9</title><id>urn:e</id><link href="https://x.org/9/"/>'
            f'<updated>2020-03-16T00:00:00Z</updated>{content}</entry></feed>').encode()


def _rss(items: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>'
            f'<link>https://x.org/</link><description>d</description>{items}</channel></rss>').encode()


CASES = {
    "corpus": CORPUS.read_bytes(),
    "atom escaped html": _atom(f'<content type="html">{ESCAPED}</content>'),
    "atom cdata": _atom(f'<content type="html"><![CDATA[{BODY}]]></content>'),
    "atom summary and content": _atom(f'<summary type="html">{ESCAPED}</summary>'
                                      f'<content type="html">{ESCAPED}</content>'),
    "atom xhtml": _atom(f'<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">{BODY}</div></content>'),
    "atom quoted gt in attribute": _atom(f'<content type="html" xml:base="https://x.org/a>b">{ESCAPED}</content>'),
    "cp1252 character references": _atom(f'<content type="html">&#147;quoted&#148; {ESCAPED}</content>'),
    "latin-1 declared": _atom(f'<content type="html">{ESCAPED}</content>',
                              declaration='<?xml version="1.0" encoding="iso-8859-1"?>').decode("utf-8")
    .encode("latin-1", errors="replace"),
    "doctype": _atom(f'<content type="html">{ESCAPED}</content>',
                     declaration='<?xml version="1.0"?><!DOCTYPE feed>'),
    "rss content encoded and description": _rss(
        f"<item><title>NLP Newsletter #9</title><link>https://x.org/9</link><guid>https://x.org/9</guid>"
        f"<description>{ESCAPED}</description><content:encoded><![CDATA[{BODY}]]></content:encoded></item>"
        f"<item><title>short</title><guid>g2</guid><description>tiny</description></item>"),
}


@pytest.mark.parametrize("body", CASES.values(), ids=CASES.keys())
def test_lifting_gives_the_same_entries(body: bytes) -> None:
    assert parse_feed("f", body) == parse_feed("f", body, lift=False)


def test_only_entry_bodies_are_lifted() -> None:
    long_channel_description = _rss(f"<description>{ESCAPED}</description>"
                                     f"<item><title>t</title><guid>g</guid><description>{ESCAPED}</description></item>")
    lifted = lift_payloads(long_channel_description)
    assert lifted is not None and len(lifted.payloads) == 1
    parsed = parse_feed("f", long_channel_description)
    assert parsed == parse_feed("f", long_channel_description, lift=False)


def test_the_corpus_bodies_are_lifted_and_the_light_document_is_small() -> None:
    lifted = lift_payloads(CASES["corpus"])
    assert lifted is not None and len(lifted.payloads) == 20
    assert len(lifted.document) < len(CASES["corpus"]) // 10


@pytest.mark.parametrize("name", ["atom xhtml", "latin-1 declared", "doctype"])
def test_shortcut_declines_what_it_cannot_reproduce(name: str) -> None:
    assert lift_payloads(CASES[name]) is None


def test_malformed_documents_fail_the_same_way() -> None:
    truncated = CASES["corpus"][: len(CASES["corpus"]) // 2]
    with pytest.raises(FeedMalformed) as lifted:
        parse_feed("f", truncated)
    with pytest.raises(FeedMalformed) as plain:
        parse_feed("f", truncated, lift=False)
    assert str(lifted.value) == str(plain.value)
