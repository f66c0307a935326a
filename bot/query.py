"""The platform-neutral query engine: what `/section outils`, `/search bert` … mean.

Every adapter turns a chat event into a `Query` and renders the `Answer`; the
meaning of a command lives here only, so Telegram, Discord and the console answer
alike. No input raises: bad or hostile arguments get a helpful `Answer`.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.cleantext import clean_text
from bot.i18n import normalize_language, supported_languages, t
from bot.models import Answer, Issue, IssueRef, Query, SearchHit, SectionRef
from bot.ports import Destination
from bot.schedule import ScheduleError, parse_schedule
from bot.sections import SectionAliases, normalize
from bot.store import Store, StoredHit

__all__ = ["QueryEngine", "build_fts_query", "parse_section_args"]

log = logging.getLogger(__name__)

MAX_ARGS = 500  # characters of an argument we look at; the rest is ignored
MAX_SEARCH_WORDS = 8
MAX_WORD = 40
FUZZY_THRESHOLD = 74.0
AMBIGUITY_MARGIN = 4.0
_WORD = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_NUMBER = re.compile(r"^#?(\d{1,4})$")
_LANG_NAMES = {"en": "English", "fr": "français", "pt-br": "português", "zh": "中文", "tr": "Türkçe",
               "es": "español", "ar": "العربية"}


def _clean(text: str) -> str:
    """Drop control and bidi-override characters, collapse spaces, cap the length."""
    text = clean_text(text[: MAX_ARGS * 4], for_matching=True)
    return " ".join(text.split())[:MAX_ARGS]


def _check_schedule(text: str) -> tuple[str, str | None]:
    """(schedule, None) when the scheduler can run it, else (text, the reason naming the field)."""
    text = " ".join(text.split()) or "on_publish"
    try:
        return parse_schedule(text).text, None
    except ScheduleError as exc:
        return text, str(exc)


def _echo(text: str, limit: int = 60) -> str:
    """A short, safe echo of user input inside a reply."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_section_args(args: str) -> tuple[str, int | None]:
    """Split "/section tools 3" arguments into the section words and an issue number."""
    words = _clean(args).split()
    number: int | None = None
    if words:
        match = _NUMBER.match(words[-1])
        if match:
            number = int(match.group(1))
            words = words[:-1]
    return " ".join(words), number


def build_fts_query(words: str) -> tuple[str, list[str], bool]:
    """A safe FTS5 expression from user words: every token quoted, prefix-matched, ANDed.

    Returns the expression (empty if nothing searchable), the CJK needles for a
    substring search, and whether the input was truncated.
    """
    tokens = _WORD.findall(_clean(words))
    truncated = len(tokens) > MAX_SEARCH_WORDS
    tokens = [tok[:MAX_WORD] for tok in tokens[:MAX_SEARCH_WORDS]]
    cjk = [tok for tok in tokens if _CJK.search(tok)]
    plain = [tok for tok in tokens if not _CJK.search(tok)]
    expression = " ".join(f'"{tok.replace(chr(34), "")}"*' for tok in plain)
    return expression, cjk, truncated


@dataclass(frozen=True, slots=True)
class _Match:
    position: int
    score: float


class QueryEngine:
    """Answers chat queries from the store, in the asker's language."""

    def __init__(self, store: Store, aliases: SectionAliases | None = None, default_lang: str = "en") -> None:
        self.store = store
        self.aliases = aliases or SectionAliases()
        self.default_lang = normalize_language(default_lang) or "en"
        self._handlers: dict[str, Callable[[Query, str], Answer]] = {
            "start": self._start, "help": self._help, "section": self._section, "sections": self._sections,
            "latest": self._latest, "issues": self._issues, "search": self._search,
            "language": self._language, "subscribe": self._subscribe, "unsubscribe": self._unsubscribe,
            "page": self._page,
        }

    # ------------------------------------------------------------------ entry point
    def answer(self, query: Query) -> Answer:
        """Dispatch a parsed command; never raises for bad input."""
        lang = normalize_language(query.lang) or self.default_lang
        handler = self._handlers.get(query.command.lower().lstrip("/"))
        if handler is None:
            return Answer(kind="error", lang=lang, message=t("query.unknown_command", lang))
        try:
            return handler(query, lang)
        except Exception:  # a bug in one answer must not take the bot down
            log.exception("query %s failed", query.command)
            return Answer(kind="error", lang=lang, message=t("query.unknown_command", lang))

    def lang_for(self, platform: str, chat: str, fallback: str | None) -> str:
        """The language a chat asked for with /language, else the user's client language."""
        stored = self.store.chat_language(platform, chat) if chat else None
        return stored or normalize_language(fallback) or self.default_lang

    # ------------------------------------------------------------------ public helpers
    def section(self, query: str, issue: int | None = None, lang: str = "en") -> Answer:
        args = f"{query} {issue}" if issue is not None else query
        return self.answer(Query("section", args, lang=lang))

    def sections(self, issue: int | None = None, lang: str = "en") -> Answer:
        return self.answer(Query("sections", "" if issue is None else str(issue), lang=lang))

    def latest(self, lang: str = "en") -> Answer:
        return self.answer(Query("latest", lang=lang))

    def issues(self, lang: str = "en") -> Answer:
        return self.answer(Query("issues", lang=lang))

    def search(self, words: str, lang: str = "en") -> Answer:
        return self.answer(Query("search", words, lang=lang))

    def section_choices(self, prefix: str, lang: str = "en", issue: int | None = None) -> list[tuple[str, str]]:
        """Autocomplete: (display name, value) of the relevant edition's sections, ≤ 25."""
        lang = normalize_language(lang) or self.default_lang
        edition, _ = self._edition(issue, lang)
        if edition is None:
            return []
        wanted = normalize(_clean(prefix))
        choices: list[tuple[str, str]] = []
        for section in edition.sections:
            names = [section.heading, section.title, section.key, *self.aliases.aliases(section.key)]
            if not wanted or any(wanted in normalize(name) for name in names):
                choices.append((section.heading[:100], section.key[:100]))
        return choices[:25]

    # ------------------------------------------------------------------ editions
    def _edition(self, number: int | None, lang: str) -> tuple[Issue | None, bool]:
        """The edition to answer from: asker's language first, else another one.

        Returns the issue and whether it is a fallback to another language.
        """
        if number is None:
            own = self.store.latest(lang)
            if own is not None:
                return own, False
            newest = self.store.list_issues(limit=1)
            if not newest:
                return None, False
            if newest[0].number is None:
                return self.store.get_issue(newest[0].entry_id), True
            number = newest[0].number
        editions = self.store.editions(number)
        if not editions:
            return None, False
        preferred = [ref for ref in editions if ref.language == lang]
        if preferred:
            return self.store.get_issue(preferred[0].entry_id), False
        # No edition in the asker's language: the default language's, else any, always the same one.
        ordered = sorted(editions, key=lambda ref: (ref.language != self.default_lang, ref.language))
        return self.store.get_issue(ordered[0].entry_id), True

    def _no_edition(self, number: int | None, lang: str) -> Answer:
        if number is None:
            return Answer(kind="error", lang=lang, message=t("query.no_issues", lang))
        known = sorted({ref.number for ref in self.store.list_issues(limit=200) if ref.number is not None})
        return Answer(kind="error", lang=lang, message=t(
            "query.no_issue_number", lang, number=number,
            known=", ".join(f"#{n}" for n in known) or "—"))

    def _fallback_note(self, issue: Issue, lang: str, fallback: bool) -> str:
        if not fallback:
            return ""
        return t("query.fallback_language", lang, lang=_LANG_NAMES.get(lang, lang),
                 other=_LANG_NAMES.get(issue.language, issue.language))

    # ------------------------------------------------------------------ commands
    def _start(self, query: Query, lang: str) -> Answer:
        name = self._newsletter_name(lang)
        return Answer(kind="text", lang=lang,
                      message=t("query.start", lang, name=name) + "\n\n" + t("query.help", lang, name=name))

    def _help(self, query: Query, lang: str) -> Answer:
        return Answer(kind="text", lang=lang, message=t("query.help", lang, name=self._newsletter_name(lang)))

    def _newsletter_name(self, lang: str) -> str:
        """The stored newsletters' names ("This Week in Rust"), newest first; a generic word before any."""
        names = dict.fromkeys(ref.newsletter for ref in self.store.list_issues(limit=50) if ref.newsletter)
        return ", ".join(names) or t("query.newsletter", lang)

    def _section(self, query: Query, lang: str) -> Answer:
        words, number = parse_section_args(query.args)
        edition, fallback = self._edition(number, lang)
        if edition is None:
            return self._no_edition(number, lang)
        refs = tuple(self._refs(edition))
        if not words:
            example = edition.sections[0].title.split()[0].lower() if edition.sections else "tools"
            return Answer(kind="error", lang=lang, issue=edition.ref, sections=refs,
                          message=t("query.section_missing_arg", lang, example=example, issue=edition.ref.label),
                          next_page=self._token(edition, 0) if edition.sections else None)
        matches = self._match_sections(words, edition)
        if not matches:
            return Answer(kind="error", lang=lang, issue=edition.ref, sections=refs,
                          message=t("query.section_unknown", lang, query=_echo(words), issue=edition.ref.label))
        if len(matches) > 1 and matches[0].score - matches[1].score < AMBIGUITY_MARGIN:
            close = tuple(refs[m.position] for m in matches if matches[0].score - m.score < AMBIGUITY_MARGIN)
            return Answer(kind="error", lang=lang, issue=edition.ref, sections=close,
                          message=t("query.section_ambiguous", lang, query=_echo(words), issue=edition.ref.label))
        return self._section_answer(edition, matches[0].position, lang, self._fallback_note(edition, lang, fallback))

    def _sections(self, query: Query, lang: str) -> Answer:
        _, number = parse_section_args(query.args)
        edition, fallback = self._edition(number, lang)
        if edition is None:
            return self._no_edition(number, lang)
        note = self._fallback_note(edition, lang, fallback)
        message = t("query.sections_title", lang, issue=edition.ref.label)
        return Answer(kind="sections", lang=lang, issue=edition.ref, sections=tuple(self._refs(edition)),
                      message=f"{note}\n{message}".strip(),
                      next_page=self._token(edition, 0) if edition.sections else None)

    def _latest(self, query: Query, lang: str) -> Answer:
        edition, fallback = self._edition(None, lang)
        if edition is None:
            return self._no_edition(None, lang)
        note = self._fallback_note(edition, lang, fallback)
        message = t("query.latest_title", lang, title=edition.title)
        return Answer(kind="sections", lang=lang, issue=edition.ref, sections=tuple(self._refs(edition)),
                      message=f"{note}\n{message}".strip(),
                      next_page=self._token(edition, 0) if edition.sections else None)

    def _issues(self, query: Query, lang: str) -> Answer:
        refs = self.store.list_issues(lang=lang, limit=25) or self.store.list_issues(limit=25)
        if not refs:
            return self._no_edition(None, lang)
        return Answer(kind="issues", lang=lang, issues=tuple(refs),
                      message=t("query.issues_title", lang, count=len(refs)))

    def _search(self, query: Query, lang: str) -> Answer:
        words = _clean(query.args)
        expression, cjk, truncated = build_fts_query(words)
        if not expression and not cjk:
            return Answer(kind="error", lang=lang, message=t("query.search_missing_arg", lang))
        hits = self._run_search(expression, cjk, lang) or self._run_search(expression, cjk, None)
        shown = _echo(words)
        if not hits:
            return Answer(kind="search", lang=lang, message=t("query.search_no_hits", lang, query=shown))
        message = t("query.search_title", lang, query=shown)
        if truncated:
            message = t("query.search_too_long", lang) + "\n" + message
        return Answer(kind="search", lang=lang, hits=tuple(hits), message=message)

    def _run_search(self, expression: str, cjk: list[str], lang: str | None) -> list[SearchHit]:
        stored: list[StoredHit] = []
        if expression:
            stored = self.store.search(expression, lang=lang, limit=30)
            if cjk:
                keep = {(h.entry_id, h.section_position, h.item_position)
                        for h in self.store.search_substring(cjk, lang=lang, limit=200)}
                stored = [h for h in stored if (h.entry_id, h.section_position, h.item_position) in keep]
        elif cjk:
            stored = self.store.search_substring(cjk, lang=lang, limit=30)
        hits: list[SearchHit] = []
        cache: dict[str, tuple[IssueRef, list[SectionRef]] | None] = {}
        needles = [w.lower() for w in _WORD.findall(expression)] + cjk
        for hit in stored:
            if hit.entry_id not in cache:
                cache[hit.entry_id] = self.store.outline(hit.entry_id)  # not get_issue: items are not needed
            found = cache[hit.entry_id]
            if found is None or hit.section_position >= len(found[1]):
                continue
            hits.append(SearchHit(issue=found[0], section=found[1][hit.section_position], item_title=hit.title,
                                  snippet=_snippet(hit.text, needles), url=hit.url))
            if len(hits) >= 10:
                break
        return hits

    def _language(self, query: Query, lang: str) -> Answer:
        code = normalize_language(_clean(query.args)[:10])
        available = ", ".join(supported_languages())
        if not code:
            return Answer(kind="text", lang=lang, message=t(
                "query.language_current", lang, lang=_LANG_NAMES.get(lang, lang), available=available))
        if code not in supported_languages() and code not in _LANG_NAMES:
            return Answer(kind="error", lang=lang, message=t(
                "query.language_unknown", lang, code=_echo(query.args.strip(), 10), available=available))
        if query.chat:
            self.store.set_chat_language(query.platform, query.chat, code)
        return Answer(kind="text", lang=code, message=t("query.language_set", code))

    def _subscribe(self, query: Query, lang: str) -> Answer:
        if not query.is_private and not query.is_admin:
            return Answer(kind="error", lang=lang, message=t("query.subscribe_admin_only", lang))
        section_part, _, schedule_part = _clean(query.args).partition("|")
        schedule, problem = _check_schedule(schedule_part)
        if problem is not None:
            return Answer(kind="error", lang=lang, message=t(
                "query.subscribe_bad_schedule", lang, schedule=_echo(schedule), reason=_echo(problem, 160)))
        keys, unknown = self._resolve_section_names(section_part.replace(",", " ").split(), lang)
        if unknown:
            edition, _ = self._edition(None, lang)
            available = ", ".join(s.title or s.key for s in edition.sections) if edition else ""
            return Answer(kind="error", lang=lang, message=t(
                "query.subscribe_unknown_sections", lang, names=_echo(", ".join(unknown)), available=available))
        destination = Destination(
            name=f"{query.platform}:{query.chat}", platform=query.platform, chat=query.chat, languages=(lang,),
            sections=tuple(keys) or ("*",), schedule=schedule, backfill=1,
            options={"index": True, "subscribed_by": query.user},
        )
        self.store.save_subscription(destination)
        label = ", ".join(keys) if keys else t("query.all_sections", lang)
        return Answer(kind="text", lang=lang, message=t(
            "query.subscribe_done", lang, sections=label, lang=_LANG_NAMES.get(lang, lang), schedule=schedule),
            extra={"destination": destination.name})

    def _unsubscribe(self, query: Query, lang: str) -> Answer:
        if not query.is_private and not query.is_admin:
            return Answer(kind="error", lang=lang, message=t("query.subscribe_admin_only", lang))
        removed = self.store.delete_subscription(f"{query.platform}:{query.chat}")
        return Answer(kind="text", lang=lang,
                      message=t("query.unsubscribe_done" if removed else "query.unsubscribe_none", lang))

    def _page(self, query: Query, lang: str) -> Answer:
        match = re.fullmatch(r"s:(\d{1,9}):(\d{1,4})", query.args.strip())
        entry_id = self.store.entry_for_rowid(int(match.group(1))) if match else None
        issue = self.store.get_issue(entry_id) if entry_id else None
        if issue is None or match is None or int(match.group(2)) >= len(issue.sections):
            return Answer(kind="error", lang=lang, message=t("query.page_expired", lang))
        return self._section_answer(issue, int(match.group(2)), lang, "")

    # ------------------------------------------------------------------ internals
    def _section_answer(self, issue: Issue, position: int, lang: str, note: str) -> Answer:
        count = len(issue.sections)
        return Answer(
            kind="section", lang=lang, issue=issue.ref, section=issue.sections[position],
            sections=tuple(self._refs(issue)), message=note, page=position + 1, page_count=count,
            prev_page=self._token(issue, position - 1) if position > 0 else None,
            next_page=self._token(issue, position + 1) if position + 1 < count else None,
        )

    def _token(self, issue: Issue, position: int) -> str:
        return f"s:{self.store.rowid_for_entry(issue.entry_id)}:{position}"

    @staticmethod
    def _refs(issue: Issue) -> Sequence[SectionRef]:
        return [SectionRef(key=s.key, heading=s.heading, emoji=s.emoji, position=s.position,
                           item_count=len(s.items)) for s in issue.sections]

    def _match_sections(self, words: str, issue: Issue) -> list[_Match]:
        """Score every section of the edition against the asker's words, best first.

        Exact names (any language), emoji and keys score 100; a word prefix ("outil")
        scores 95; otherwise fuzzy similarity of words catches typos ("outlis").
        """
        wanted = normalize(words)
        wanted_emoji = _strip_variation(words.strip())
        scored: list[_Match] = []
        for section in issue.sections:
            score = 0.0
            if section.emoji and wanted_emoji and wanted_emoji == _strip_variation(section.emoji):
                score = 100.0
            names = {normalize(n) for n in (section.heading, section.title, section.key,
                                             section.key.replace("_", " "), *self.aliases.aliases(section.key))}
            names.discard("")
            for name in names:
                if wanted == name:
                    score = max(score, 100.0)
                    continue
                name_words = name.split()
                wanted_words = wanted.split()
                if all(any(nw.startswith(ww) for nw in name_words) for ww in wanted_words) and len(wanted) >= 3:
                    score = max(score, 95.0)
                    continue
                fuzzy = max(
                    fuzz.ratio(wanted, name),
                    _word_score(wanted_words, name_words),
                )
                score = max(score, fuzzy)
            if score >= FUZZY_THRESHOLD:
                scored.append(_Match(section.position, score))
        scored.sort(key=lambda m: -m.score)
        return scored

    def _resolve_section_names(self, names: Sequence[str], lang: str) -> tuple[list[str], list[str]]:
        """Section words of /subscribe → canonical keys, with the words we could not place."""
        edition, _ = self._edition(None, lang)
        keys: list[str] = []
        unknown: list[str] = []
        for name in names[:20]:
            if name == "*":
                return [], []
            key: str | None = None
            if edition is not None:
                matches = self._match_sections(name, edition)
                if matches:
                    key = edition.sections[matches[0].position].key
            if key is None:
                candidate = self.aliases.key_for(name, lang)
                if candidate in self.aliases.known_keys():
                    key = candidate
            if key is None:
                unknown.append(name)
            elif key not in keys:
                keys.append(key)
        return keys, unknown


def _word_score(wanted: list[str], name: list[str]) -> float:
    """Average best fuzzy score of each wanted word against the name's words."""
    if not wanted or not name:
        return 0.0
    return sum(max(fuzz.ratio(w, n) for n in name) for w in wanted) / len(wanted)


def _strip_variation(text: str) -> str:
    return "".join(ch for ch in text if ch not in "\ufe0f\ufe0e" and unicodedata.category(ch) != "Zs")


def _snippet(text: str, needles: Sequence[str], width: int = 180) -> str:
    lowered = text.lower()
    start = 0
    for needle in needles:
        index = lowered.find(needle.lower())
        if index >= 0:
            start = max(0, index - width // 3)
            break
    snippet = text[start:start + width]
    if start > 0:
        cut = snippet.find(" ")
        snippet = "…" + (snippet[cut + 1:] if 0 <= cut < 20 else snippet)
    if start + width < len(text):
        cut = snippet.rfind(" ")
        snippet = (snippet[:cut] if cut > width // 2 else snippet) + "…"
    return snippet.replace("\n", " ")

