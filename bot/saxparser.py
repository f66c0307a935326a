"""A SAX reader for feedparser that hands over text in large chunks.

Feed HTML arrives entity-escaped (`&lt;p&gt;`), and plain expat reports every
entity as a separate text event: feedparser then spends most of its time in
tens of thousands of tiny `characters()` calls. With expat's `buffer_text` on,
an entry's content comes in a few chunks and parsing the same bytes to the same
result takes about half the time. feedparser chooses its SAX driver from
`feedparser.api.PREFERRED_XML_PARSERS` (module names with `create_parser()`),
which is how `bot.feed` plugs this one in.
"""

from __future__ import annotations

from typing import Any
from xml.sax import expatreader

__all__ = ["BufferedExpatParser", "create_parser"]

_BUFFER = 1 << 20


class BufferedExpatParser(expatreader.ExpatParser):
    """The standard expat SAX driver with text buffering enabled."""

    def reset(self) -> None:
        super().reset()
        expat: Any = getattr(self, "_parser")  # noqa: B009 - created by reset(), untyped in typeshed
        expat.buffer_text = True
        expat.buffer_size = _BUFFER


def create_parser(*args: Any, **kwargs: Any) -> BufferedExpatParser:
    """Entry point that `xml.sax.make_parser` looks for in a driver module."""
    return BufferedExpatParser(*args, **kwargs)
