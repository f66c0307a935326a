"""Escape sequences, control and bidi-override characters leave; text, layout and marks stay."""

from __future__ import annotations

import pytest

from bot.core.cleantext import clean_issue, clean_text
from bot.core.models import Block, Issue, Item, Section, Span


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain text\twith tab\nand newline", "plain text\twith tab\nand newline"),
        ("\x1b]0;owned title\x07after", "after"),  # OSC ended by BEL, payload gone
        ("\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\", "link"),  # OSC 8 hyperlink, ST-terminated
        ("\x1b[31mred\x1b[0m", "red"),  # CSI
        ("\x9b31mred", "red"),  # 8-bit CSI
        ("a\x1bcb", "ab"),  # two-character ESC sequence (RIS)
        ("tail \x1b", "tail "),
        ("\u202eevil\u202c \u2066iso\u2069 \u202atoo\u202d", "evil iso too"),
        ("null\x00 bell\x07 cr\r del\x7f nel\x85", "null bell cr del nel"),
        ("كلمة\u200f 👩\u200d💻 zw\u200bj", "كلمة\u200f 👩\u200d💻 zw\u200bj"),  # marks and joiners kept
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_queries_also_lose_invisible_marks() -> None:
    assert clean_text("be\u200brt\u200f\ufeff", for_matching=True) == "bert"


def test_clean_issue_reaches_every_text_and_keeps_clean_objects() -> None:
    item = Item(title="t\x1b[1m", body=(Block("paragraph", (Span("x\u202ey", href="https://e.org/\x07"),)),),
                links=("https://e.org/\x07",))
    section = Section("k", "Head\x1b]0;x\x07", "Head\x85", "⚙️", 0, (item,))
    fine = Section("f", "Fine", "Fine", "", 1, (Item(title="ok", body=()),))
    issue = Issue(entry_id="e", link="https://e.org/\x00", title="T\u2066", published=None, language="en", number=1,
                  sections=(section, fine), preamble=(Block("paragraph", (Span("p\x1b[0m"),)),),
                  newsletter="Weekly\u202e")
    cleaned = clean_issue(issue)
    assert cleaned.title == "T" and cleaned.link == "https://e.org/" and cleaned.newsletter == "Weekly"
    assert cleaned.preamble[0].text == "p"
    head = cleaned.sections[0]
    assert (head.heading, head.title) == ("Head", "Head")
    assert head.items[0].title == "t" and head.items[0].body[0].spans[0] == Span("xy", href="https://e.org/")
    assert head.items[0].links == ("https://e.org/",)
    assert cleaned.sections[1] is fine
    assert clean_issue(cleaned) is cleaned
