"""The forms text is compared in, built on one fold: casefolded, compatibility-decomposed, no accents.

Every comparison that must not care about case or accents ("Éducation" = "EDUCATION") starts
from `plain_fold`; each user then keeps what its job needs of the result:
- `bot.splitting.sections.normalize`: single-spaced (section names, headings, queries);
- `bot.splitting.sections` match form: also without punctuation and emoji (aliases);
- `compact_form`: letters and digits only ("Outils et jeux" = "outilsetjeux": typed section names);
- `bot.contract.filters.fold`: the words only (item filter terms).
"""

from __future__ import annotations

import functools
import unicodedata

__all__ = ["compact_form", "plain_fold"]


def plain_fold(text: str) -> str:
    """`text` casefolded and NFKD-decomposed, without combining marks ("Éthique" → "ethique")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@functools.lru_cache(maxsize=4096)
def compact_form(text: str) -> str:
    """Case-, accent-, space- and emoji-insensitive form ("Outils et jeux" → "outilsetjeux").

    Cached: planning an edition for 10,000 subscribers compares the same few headings each time."""
    return "".join(ch for ch in plain_fold(text) if ch.isalnum())
