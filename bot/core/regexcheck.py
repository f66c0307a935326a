"""Refuses regular expressions that can backtrack for ever (`(a+)+$`) before they meet a feed.

A maintainer's `title_pattern` runs on every entry title a feed sends; Python's `re`
backtracks, so a nested unbounded quantifier turns one crafted title into minutes of CPU
(ReDoS). We walk the parsed pattern (the same parser `re.compile` uses) and refuse a
repeat that contains another unbounded repeat — the classic catastrophic shape.
"""

from __future__ import annotations

import re
from re import _parser as sre_parse  # type: ignore[attr-defined]  # the parser behind re.compile (3.11+)
from typing import Any

__all__ = ["unsafe_regex_reason"]

_SMALL = 16  # a repeat of at most this many is bounded enough to nest ({1,3} inside + is fine)

_REPEATS = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, getattr(sre_parse, "POSSESSIVE_REPEAT", None)} - {None}


def unsafe_regex_reason(pattern: str) -> str | None:
    """Why `pattern` is unsafe or invalid, or None when it is fine to run on untrusted text."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as exc:
        return f"not a valid regular expression: {exc}"
    if _nested(list(parsed), inside_repeat=False):
        return "nested quantifiers such as (a+)+ can take exponential time on a hostile title; simplify it"
    return None


def _children(op: Any, av: Any) -> list[list[Any]]:
    """Sub-patterns of one parsed node (groups, branches, repeats, lookarounds)."""
    if op in _REPEATS:
        return [list(av[2])]
    if op == sre_parse.SUBPATTERN:
        return [list(av[-1])]
    if op == sre_parse.BRANCH:
        return [list(branch) for branch in av[1]]
    if op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
        return [list(av[1])]
    if op == sre_parse.GROUPREF_EXISTS:
        return [list(part) for part in av[1:] if part is not None]
    return []


def _nested(nodes: list[Any], inside_repeat: bool) -> bool:
    for op, av in nodes:
        unbounded = op in _REPEATS and op != getattr(sre_parse, "POSSESSIVE_REPEAT", None) and av[1] > _SMALL
        if unbounded and inside_repeat:
            return True
        if any(_nested(child, inside_repeat or unbounded) for child in _children(op, av)):
            return True
    return False
