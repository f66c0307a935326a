"""The one truncator: each kind of cut, measured in code points or UTF-16 units."""

from __future__ import annotations

import pytest

from adapters.text import utf16_len
from bot.core.truncate import Cut, truncate


def test_a_text_that_fits_is_returned_as_it_is() -> None:
    cuts: tuple[Cut, ...] = ("char", "word", "sentence")
    for at in cuts:
        assert truncate("short text", 10, at=at) == "short text"


def test_char_cut_drops_trailing_spaces_before_the_ellipsis() -> None:
    assert truncate("abcdefghij", 5) == "abcd…"
    assert truncate("abc defghij", 5) == "abc…"


def test_word_cut_keeps_whole_words_and_falls_back_to_characters() -> None:
    assert truncate("one two three four", 12, at="word") == "one two…"
    assert truncate("abcdefghijklmnop", 6, at="word") == "abcde…"


def test_word_cut_measures_with_the_given_size() -> None:
    text = "😀😀 😀😀 😀😀"  # each emoji is two UTF-16 units
    cut = truncate(text, 10, at="word", size=utf16_len)
    assert cut == "😀😀 😀😀…" and utf16_len(cut) <= 10
    assert truncate(text, 10, at="word") == text  # eight code points fit in ten


@pytest.mark.parametrize(("text", "limit", "expected"), [
    ("First sentence here. Second one is much longer than the room.", 30, "First sentence here. …"),
    ("No sentence end in this rather long text at all", 20, "No sentence end in…"),
    ("Tiny. Then a very long continuation without any stop", 40, "Tiny. Then a very long continuation…"),
])
def test_sentence_cut_prefers_a_sentence_then_a_word(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit, at="sentence") == expected
    assert len(expected) <= limit
