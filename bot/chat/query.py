"""The platform-neutral query engine: what `/section outils`, `/search bert` … mean.

Every adapter turns a chat event into a `Query` holding a typed command
(`bot.chat.commands`) and renders the `Answer` (`bot.core.messages`); the meaning of a command
lives here only, so Telegram, Discord and the console answer alike. No input raises:
bad or hostile arguments get a helpful answer.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import assert_never

from bot.chat import commands as cmd
from bot.chat.commands import Audience, Query, clean
from bot.chat.schedule_words import schedule_in_words
from bot.contract.destination import Change, Destination, platform_options
from bot.contract.filters import MAX_TERMS, ItemFilter, term_problem
from bot.contract.schedule import ScheduleError, parse_schedule
from bot.core.i18n import format_date, language_name, normalize_language, supported_languages, t
from bot.core.messages import (
    Answer,
    ErrorAnswer,
    Help,
    IssueList,
    LanguageSet,
    NotFound,
    Notice,
    SearchHit,
    SearchResults,
    SectionAnswer,
    SectionList,
    Subscribed,
)
from bot.core.models import Issue, IssueRef, Section, SectionRef
from bot.core.truncate import truncate
from bot.settings.config import SubscriptionsConfig
from bot.splitting.section_names import SectionMatcher
from bot.splitting.sections import FRAME_KEYS, SectionAliases
from bot.storage.store import Store, StoredHit

__all__ = ["QueryEngine", "build_fts_query"]

log = logging.getLogger(__name__)

MAX_SEARCH_WORDS = 8
MAX_WORD = 40
MIN_PREFIX = 3  # shortest search word matched as a prefix
AMBIGUITY_MARGIN = 4.0
_WORD = re.compile(r"\w+", re.UNICODE)
_PUNCTUATION = string.punctuation + "“”«»‘’…–—¿¡"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _check_schedule(text: str) -> tuple[str, str | None]:
    """(schedule, None) when the scheduler can run it, else (text, the reason naming the field)."""
    text = " ".join(text.split()) or "on_publish"
    try:
        return parse_schedule(text).text, None
    except ScheduleError as exc:
        return text, str(exc)


@dataclass(frozen=True, slots=True)
class _Wish:
    """A checked `/subscribe`: its schedule text, words to keep and drop, canonical section keys."""

    schedule: str
    include: list[str]
    exclude: list[str]
    keys: list[str]


def _echo(text: str, limit: int = 60) -> str:
    """A short, safe echo of user input inside a reply."""
    return truncate(text, limit)


def build_fts_query(words: str) -> tuple[str, list[str], bool]:
    """A safe FTS5 expression from user words: every token quoted, ANDed, prefix-matched from 3 characters.

    Returns the expression (empty if nothing searchable), the CJK needles for a
    substring search, and whether the input was truncated.
    """
    tokens = _WORD.findall(clean(words))
    truncated = len(tokens) > MAX_SEARCH_WORDS
    tokens = [tok[:MAX_WORD] for tok in tokens[:MAX_SEARCH_WORDS]]
    cjk = [tok for tok in tokens if _CJK.search(tok)]
    plain = [tok for tok in tokens if not _CJK.search(tok)]
    # Words of 3+ characters match as prefixes ("transformer" finds "transformers"); a shorter one only
    # as itself: "no"* would merge the lists of every word starting with "no" in the archive.
    expression = " ".join(f'"{tok.replace(chr(34), "")}"{"*" if len(tok) >= MIN_PREFIX else ""}' for tok in plain)
    return expression, cjk, truncated


def _utc_now() -> datetime:
    return datetime.now(UTC)


class QueryEngine:
    """Answers chat queries from the store, in the asker's language."""

    def __init__(self, store: Store, aliases: SectionAliases | None = None, default_lang: str = "en",
                 destinations: Sequence[Destination] = (),
                 subscriptions: SubscriptionsConfig | None = None,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        self.store = store
        self.clock = clock  # dates the next run a /subscribe confirmation names
        self.matcher = SectionMatcher(aliases or SectionAliases())
        self.default_lang = normalize_language(default_lang) or "en"
        self.destinations = tuple(destinations)
        self.limits = subscriptions or SubscriptionsConfig()
        self._told_full = False  # the operator hears once that the cap is reached, not at every refusal

    # ------------------------------------------------------------------ entry point
    def answer(self, query: Query) -> Answer:
        """Answer a typed command; never raises for bad input."""
        lang = normalize_language(query.lang) or self.default_lang
        try:
            return self._dispatch(query, lang)
        except Exception:  # a bug in one answer must not take the bot down
            log.exception("query %s failed", query.command.name)
            return ErrorAnswer(lang=lang, message=t("query.unknown_command", lang))

    def _dispatch(self, query: Query, lang: str) -> Answer:
        command = query.command
        if cmd.changes_chat(command) and not query.is_private and not query.is_admin:
            return ErrorAnswer(lang=lang, message=t("query.admin_only", lang))  # the one gate, every platform
        match command:
            case cmd.Start():
                return self._help(lang, greet=True, feeds=self.feeds_for(query.platform, query.chat,
                                                                         query.chat_aliases) or ())
            case cmd.Help():
                return self._help(lang, greet=False, feeds=self.feeds_for(query.platform, query.chat,
                                                                          query.chat_aliases) or ())
            case cmd.SectionCommand(words=words, issue=number, newsletter=named):
                return self._scoped(query, named, lang, lambda feeds: self._section(clean(words), number, lang, feeds))
            case cmd.SectionsCommand(issue=number, newsletter=named):
                return self._scoped(query, named, lang, lambda feeds: self._sections(number, lang, feeds))
            case cmd.Latest(newsletter=named):
                return self._scoped(query, named, lang, lambda feeds: self._latest(lang, feeds))
            case cmd.Issues(newsletter=named):
                return self._scoped(query, named, lang, lambda feeds: self._issues(lang, feeds))
            case cmd.SearchCommand(words=words, newsletter=named):
                return self._scoped(query, named, lang, lambda feeds: self._search(clean(words), lang, feeds))
            case cmd.PlainSearch(words=words):
                return self._scoped(query, "", lang, lambda feeds: self._plain_search(clean(words), lang, feeds))
            case cmd.Language(code=code):
                return self._language(query, clean(code), lang)
            case cmd.Subscribe():
                return self._subscribe(query, command, lang)
            case cmd.Unsubscribe():
                return self._unsubscribe(query, lang)
            case cmd.Page(token=token):
                return self._page(token, lang)
            case cmd.Unknown():
                return ErrorAnswer(lang=lang, message=t("query.unknown_command", lang))
            case _:
                assert_never(command)

    # ------------------------------------------------------------------ which newsletters
    def feeds_for(self, platform: str, chat: str, chat_aliases: Sequence[str] = (),
                  named: str = "") -> tuple[str, ...] | None:
        """The feeds a chat's answers come from; () for every feed, None for a newsletter name nobody has.

        A newsletter named in the command ("rust", "This Week in Rust", a feed's name; case aside)
        wins; else a chat that is a destination (configured, or by `/subscribe`) answers from that
        destination's feeds; any other chat from every feed, each answer naming its newsletter.
        """
        named = clean(named)
        if named:
            return self._feeds_named(named)
        if not chat:
            return ()
        dest = self._configured(platform, chat, chat_aliases) or self.store.chat_subscription(platform, chat)
        return tuple(dest.feeds) if dest is not None else ()

    def newsletter_choices(self, prefix: str = "") -> list[str]:
        """Names of the stored newsletters (autocomplete), those containing `prefix` first-letter-wise first."""
        wanted = clean(prefix).casefold()
        names = list(dict.fromkeys(name or feed for feed, name in self.store.newsletters()))
        return sorted((n for n in names if wanted in n.casefold()), key=lambda n: not n.casefold().startswith(wanted))

    def _feeds_named(self, named: str) -> tuple[str, ...] | None:
        """Feeds whose name or newsletter name is `named`, or has it as a whole word ("rust"); None if none."""
        wanted = named.casefold()
        known = self.store.newsletters()
        exact = [feed for feed, name in known if wanted in (feed.casefold(), name.casefold())]
        words = [feed for feed, name in known
                 if wanted in _WORD.findall(name.casefold()) or wanted in _WORD.findall(feed.casefold())]
        found = tuple(dict.fromkeys(exact or words))
        return found or None

    def _scoped(self, query: Query, named: str, lang: str, answer: Callable[[tuple[str, ...]], Answer]) -> Answer:
        feeds = self.feeds_for(query.platform, query.chat, query.chat_aliases, named)
        if feeds is None:
            names = ", ".join(dict.fromkeys(name or feed for feed, name in self.store.newsletters())) or "—"
            return ErrorAnswer(lang=lang, message=t("query.newsletter_unknown", lang, name=_echo(clean(named), 40),
                                                    known=names))
        return answer(feeds)

    def lang_for(self, platform: str, chat: str, user_locale: str | None, server_locale: str | None = None,
                 chat_aliases: Sequence[str] = (), audience: Audience = Audience.PRIVATE) -> str:
        """The language to answer in when the asker named none: the one order every platform follows.

        A public answer in a shared chat is read by everyone, so the chat decides: the chat's
        `/language` setting, then the first language of the destination this chat is, then the
        asker's locale when an edition exists in it, then the server's locale. A private
        answer follows the asker: the chat's setting (in a private chat, the asker's own
        choice), then the asker's locale, then the destination's, then the server's. An
        ephemeral answer (only the asker sees it) puts the asker's locale before the chat's
        setting. Last come the asker's locale if we have replies in it (Telegram has no
        server), then the default. (An explicit `language` argument, checked by the adapter,
        comes first.)
        """
        user = normalize_language(user_locale)
        own = user if user and self.store.list_issues(lang=user, limit=1) else None
        stored = self.store.chat_language(platform, chat) if chat else None
        match audience:
            case Audience.PUBLIC:
                chosen = stored or self._destination_language(platform, chat, chat_aliases) or own
            case Audience.PRIVATE:
                chosen = stored or own or self._destination_language(platform, chat, chat_aliases)
            case Audience.EPHEMERAL:
                chosen = own or stored or self._destination_language(platform, chat, chat_aliases)
            case _:
                assert_never(audience)
        if chosen:
            return chosen
        if server := normalize_language(server_locale):
            return server
        # No edition in the user's language, nothing else said: still reply in it when we can (help, notes).
        return user if user in supported_languages() else self.default_lang

    def _destination_language(self, platform: str, chat: str, aliases: Sequence[str]) -> str | None:
        """The first language of the destination (configured or subscribed) this chat is, if any."""
        dest = self._configured(platform, chat, aliases) or (
            self.store.chat_subscription(platform, chat) if chat else None)
        if dest is not None and dest.languages:
            return normalize_language(dest.languages[0]) or self.default_lang
        return None

    # ------------------------------------------------------------------ autocomplete
    def section_choices(self, prefix: str, lang: str = "en", issue: int | None = None,
                        feeds: Sequence[str] = ()) -> list[tuple[str, str]]:
        """Autocomplete: (display name, value) of sections, best matches first, ≤ 25.

        With an issue number, that edition's sections; without, the sections of recent
        editions (one per key, the newest name), since `/section` answers from the archive.
        `feeds` is the asking chat's scope (`feeds_for`); empty, every feed.
        """
        lang = normalize_language(lang) or self.default_lang
        feeds = tuple(feeds)
        edition, _ = self._edition(issue, lang, feeds)
        if edition is None:
            return []
        prefix = clean(prefix)
        recent = [(edition.ref, edition.sections)]
        if issue is None:
            recent += self.store.recent_sections(edition.language, limit=20, feeds=feeds)
        seen: set[str] = set()
        scored: list[tuple[float, int, Section]] = []
        for _, sections in recent:
            scores = {r.position: r.score for r in self.matcher.rank(prefix, sections)} if prefix else {}
            contained = {s.position for s in self.matcher.choices(prefix, sections)}
            for s in sections:
                if s.key in seen or (s.position not in contained and s.position not in scores):
                    continue
                seen.add(s.key)
                scored.append((scores.get(s.position, 0.0), len(scored), s))
        scored.sort(key=lambda entry: (-entry[0], entry[1]))
        return [(s.heading[:100], s.key[:100]) for _, _, s in scored[:25]]

    # ------------------------------------------------------------------ editions
    def _edition(self, number: int | None, lang: str, feeds: tuple[str, ...] = ()) -> tuple[Issue | None, bool]:
        """The edition to answer from (of `feeds`, or any feed): asker's language first, else another one.

        Returns the issue and whether it is a fallback to another language.
        """
        if number is None:
            own = self.store.latest(lang, feeds=feeds)
            if own is not None:
                return own, False
            newest = self.store.list_issues(limit=1, feeds=feeds)
            if not newest:
                return None, False
            if newest[0].number is None:
                return self.store.get_issue(newest[0].entry_id), True
            number, newsletter = newest[0].number, newest[0].newsletter
        else:
            newsletter = None
        editions = self.store.editions(number, feeds=feeds)
        if len({ref.newsletter for ref in editions}) > 1:  # #5 of two newsletters: one newsletter's editions
            keep = newsletter if newsletter is not None else editions[0].newsletter
            editions = [ref for ref in editions if ref.newsletter == keep]
        if not editions:
            return None, False
        preferred = [ref for ref in editions if ref.language == lang]
        if preferred:
            return self.store.get_issue(preferred[0].entry_id), False
        # No edition in the asker's language: the default language's, else any, always the same one.
        ordered = sorted(editions, key=lambda ref: (ref.language != self.default_lang, ref.language))
        return self.store.get_issue(ordered[0].entry_id), True

    def _no_edition(self, number: int | None, lang: str, feeds: tuple[str, ...] = ()) -> ErrorAnswer:
        if number is None:
            return ErrorAnswer(lang=lang, message=t("query.no_issues", lang))
        known = sorted({ref.number for ref in self.store.list_issues(limit=200, feeds=feeds) if ref.number is not None})
        return ErrorAnswer(lang=lang, message=t(
            "query.no_issue_number", lang, number=number, known=", ".join(f"#{n}" for n in known) or "—"))

    def _fallback_note(self, issue: Issue, lang: str, fallback: bool) -> str:
        if not fallback:
            return ""
        return t("query.fallback_language", lang, lang=language_name(lang, lang, edition=True),
                 other=language_name(issue.language, lang, edition=True))

    # ------------------------------------------------------------------ commands
    def _help(self, lang: str, *, greet: bool, feeds: tuple[str, ...] = ()) -> Help:
        name = self._newsletter_name(lang, feeds)
        text = t("query.help", lang, name=name)
        return Help(lang=lang, message=f"{t('query.start', lang, name=name)}\n\n{text}" if greet else text)

    def _newsletter_name(self, lang: str, feeds: tuple[str, ...] = ()) -> str:
        """The chat's newsletters' names ("This Week in Rust"), newest first; a generic word before any."""
        names = dict.fromkeys(name for feed, name in self.store.newsletters() if name and (not feeds or feed in feeds))
        return ", ".join(names) or t("query.newsletter", lang)

    def _section(self, words: str, number: int | None, lang: str, feeds: tuple[str, ...] = ()) -> Answer:
        edition, fallback = self._edition(number, lang, feeds)
        if edition is None:
            return self._no_edition(number, lang, feeds)
        refs = tuple(self._refs(edition))
        label = edition.ref.label
        if not words:
            example = self._example(edition.sections)
            return NotFound(lang=lang, issue=edition.ref, choices=refs,
                            message=t("query.section_missing_arg", lang, example=example, issue=label),
                            next_page=self._token(edition, 0) if edition.sections else None)
        note = self._fallback_note(edition, lang, fallback)
        matches = self.matcher.rank(words, edition.sections)
        if not matches and number is None and (older := self._older_with(words, edition, feeds)) is not None:
            matches = self.matcher.rank(words, older.sections)
            section = older.sections[matches[0].position]
            note = "\n".join(filter(None, (note, t("query.from_older", lang, issue=older.ref.label, newest=label,
                                                     section=section.title or section.heading))))
            edition, refs, label = older, tuple(self._refs(older)), older.ref.label
        if not matches:
            return NotFound(lang=lang, issue=edition.ref, choices=refs,
                            message=t("query.section_unknown", lang, query=_echo(words), issue=label))
        if len(matches) > 1 and matches[0].score - matches[1].score < AMBIGUITY_MARGIN:
            close = tuple(refs[m.position] for m in matches if matches[0].score - m.score < AMBIGUITY_MARGIN)
            return NotFound(lang=lang, issue=edition.ref, choices=close,
                            message=t("query.section_ambiguous", lang, query=_echo(words), issue=label))
        return self._section_answer(edition, matches[0].position, lang, note)

    def _example(self, sections: Sequence[Section]) -> str:
        """A name worth trying with /section: the first section that carries news (not the foreword or the
        references) and has items, as the first word of its title that finds it alone ("outils"), else its title."""
        useful = [s for s in sections if s.key not in FRAME_KEYS and s.items] or \
            [s for s in sections if s.key not in FRAME_KEYS] or list(sections)
        if not useful:
            return "tools"
        section = useful[0]
        title = section.title or section.heading
        for word in (w.strip(_PUNCTUATION).lower() for w in title.split()):
            if len(word) < 4:  # not "the", "des", "los": a word that names the section
                continue
            ranked = self.matcher.rank(word, sections)
            if ranked and ranked[0].position == section.position and \
                    (len(ranked) == 1 or ranked[0].score - ranked[1].score >= AMBIGUITY_MARGIN):
                return word
        return title.lower()

    def _older_with(self, words: str, newest: Issue, feeds: tuple[str, ...] = ()) -> Issue | None:
        """The newest other edition in `newest`'s language (of `feeds`) that has a section named `words`.

        The words are matched against the archive's distinct section names (a few dozen, with
        their aliases), not against every stored issue; only a name that matches is looked up.
        """
        names = self.store.section_names(newest.language, feeds)
        matched = [names[m.position] for m in self.matcher.rank(words, names)]
        entry = self.store.newest_with_section(matched, newest.language, excluding=newest.entry_id, feeds=feeds)
        older = self.store.get_issue(entry) if entry else None
        return older if older is not None and self.matcher.rank(words, older.sections) else None

    def _sections(self, number: int | None, lang: str, feeds: tuple[str, ...] = ()) -> Answer:
        edition, fallback = self._edition(number, lang, feeds)
        if edition is None:
            return self._no_edition(number, lang, feeds)
        return self._section_list(edition, fallback, t("query.sections_title", lang, issue=edition.ref.label), lang)

    def _latest(self, lang: str, feeds: tuple[str, ...] = ()) -> Answer:
        edition, fallback = self._edition(None, lang, feeds)
        if edition is None:
            return self._no_edition(None, lang)
        label = edition.ref.label  # says which issue, whatever the feed's title; then when it came out
        if edition.ref.published is not None:  # (before the title, which a platform may clip)
            label = f"{label} · {format_date(edition.ref.published, lang)}"
        title = f"{label} — {edition.title}"
        return self._section_list(edition, fallback, t("query.latest_title", lang, title=title), lang)

    def _section_list(self, edition: Issue, fallback: bool, title: str, lang: str) -> SectionList:
        note = self._fallback_note(edition, lang, fallback)
        return SectionList(lang=lang, issue=edition.ref, sections=tuple(self._refs(edition)),
                           message=f"{note}\n{title}".strip(),
                           next_page=self._token(edition, 0) if edition.sections else None)

    def _issues(self, lang: str, feeds: tuple[str, ...] = ()) -> Answer:
        refs = self.store.list_issues(lang=lang, limit=25, feeds=feeds) or self.store.list_issues(limit=25, feeds=feeds)
        if not refs:
            return self._no_edition(None, lang)
        return IssueList(lang=lang, issues=tuple(refs), message=t("query.issues_title", lang, count=len(refs)))

    def search_everywhere(self, words: str, lang: str) -> Answer:
        """`/search` over the editions of every language (the panel's "all languages"); messages in `lang`."""
        return self._search(words, lang, everywhere=True)

    def _search(self, words: str, lang: str, feeds: tuple[str, ...] = (), *, everywhere: bool = False) -> Answer:
        expression, cjk, truncated = build_fts_query(words)
        if not expression and not cjk:
            return ErrorAnswer(lang=lang, message=t("query.search_missing_arg", lang))
        hits = (None if everywhere else self._run_search(expression, cjk, lang, feeds)) or \
            self._run_search(expression, cjk, None, feeds)
        shown = _echo(words)
        if not hits:
            return SearchResults(lang=lang, message=t("query.search_no_hits", lang, query=shown))
        message = t("query.search_title", lang, query=shown)
        if truncated:
            message = t("query.search_too_long", lang) + "\n" + message
        return SearchResults(lang=lang, hits=tuple(hits), message=message)

    def _plain_search(self, words: str, lang: str, feeds: tuple[str, ...] = ()) -> Answer:
        """Plain text in a private chat: a search whose answer first says it was one (and how to do more)."""
        answer = self._search(words, lang, feeds)
        said = t("query.plain_search", lang, query=_echo(words, 40))
        match answer:
            case SearchResults():
                return SearchResults(lang=lang, hits=answer.hits, message=f"{said}\n{answer.message}")
            case _:  # nothing searchable in it (punctuation only): point to /help
                return ErrorAnswer(lang=lang, message=t("query.unknown_command", lang))

    def _run_search(self, expression: str, cjk: list[str], lang: str | None,
                    feeds: tuple[str, ...] = ()) -> list[SearchHit]:
        stored: list[StoredHit] = []
        if expression:
            stored = self.store.search(expression, lang=lang, limit=30, feeds=feeds)
            if cjk:
                keep = {(h.entry_id, h.section_position, h.item_position)
                        for h in self.store.search_substring(cjk, lang=lang, limit=200, feeds=feeds)}
                stored = [h for h in stored if (h.entry_id, h.section_position, h.item_position) in keep]
        elif cjk:
            stored = self.store.search_substring(cjk, lang=lang, limit=30, feeds=feeds)
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

    def _language(self, query: Query, code_text: str, lang: str) -> Answer:
        code = normalize_language(code_text[:10])
        available = ", ".join(supported_languages())
        if not code_text:
            return Notice(lang=lang, message=t("query.language_current", lang, lang=language_name(lang, lang),
                                               available=available))
        if code not in supported_languages():
            return ErrorAnswer(lang=lang, message=t("query.language_unknown", lang, code=_echo(code_text, 10),
                                                    available=available))
        if query.chat:
            self.store.set_chat_language(query.platform, query.chat, code)
        return LanguageSet(lang=code, message=t("query.language_set", code))

    def _subscribe(self, query: Query, command: cmd.Subscribe, lang: str) -> Answer:
        """Create this chat's subscription, or update it (also when the chat is a configured destination).

        Updating keeps the destination's name, so what it already received is not posted again.
        """
        wish = self._subscription_wish(query, command, lang)
        if isinstance(wish, ErrorAnswer):
            return wish
        configured = self._configured(query.platform, query.chat, query.chat_aliases)
        name = configured.name if configured else f"{query.platform}:{query.chat}"
        existing = self.store.has_subscription(name)
        if not configured and not existing and (refusal := self._over_limit(query.user, lang)) is not None:
            return refusal
        destination = Destination(
            name=name, platform=query.platform, chat=query.chat,
            languages=configured.languages if configured and configured.languages else (lang,),
            sections=tuple(wish.keys) or ("*",), schedule=parse_schedule(wish.schedule), backfill=1,
            filters=ItemFilter(tuple(wish.include[:MAX_TERMS]), tuple(wish.exclude[:MAX_TERMS])),
            options=platform_options(query.platform, {}),
            change=Change(by=query.user, chat=query.chat, at=datetime.now(UTC)),
        )
        self.store.save_subscription(destination)
        return self._subscribed(destination, wish, lang, updated=bool(configured or existing))

    def _subscription_wish(self, query: Query, command: cmd.Subscribe, lang: str) -> _Wish | ErrorAnswer:
        """What `/subscribe` asks for, checked: its schedule, words and section keys, or the reason it cannot be."""
        if command.malformed:
            return ErrorAnswer(lang=lang, message=t("query.subscribe_empty_term", lang,
                                                    term=_echo(command.malformed[0], 40)))
        schedule, problem = _check_schedule(clean(command.schedule))
        if problem is not None:
            return ErrorAnswer(lang=lang, message=t(
                "query.subscribe_bad_schedule", lang, schedule=_echo(schedule), reason=_echo(problem, 160)))
        include, exclude = [clean(term) for term in command.include], [clean(term) for term in command.exclude]
        bad = next((term for term in (*include, *exclude) if term_problem(term) is not None), None)
        if bad is not None:
            return ErrorAnswer(lang=lang, message=t("query.subscribe_bad_term", lang, term=_echo(bad, 40)))
        feeds = self.feeds_for(query.platform, query.chat, query.chat_aliases) or ()  # the chat's newsletters
        keys, unknown = self._resolve_section_names([n for n in map(clean, command.sections) if n], lang, feeds)
        if unknown:
            edition, _ = self._edition(None, lang, feeds)
            available = ", ".join(s.title or s.key for s in edition.sections) if edition else ""
            return ErrorAnswer(lang=lang, message=t(
                "query.subscribe_unknown_sections", lang, count=len(unknown), names=_echo(", ".join(unknown)),
                available=available))
        return _Wish(schedule, include, exclude, keys)

    def _subscribed(self, destination: Destination, wish: _Wish, lang: str, *, updated: bool) -> Subscribed:
        """The confirmation: sections, language and schedule in words, then the words it keeps or drops."""
        label = ", ".join(self._section_names(wish.keys, lang)) if wish.keys else t("query.all_sections", lang)
        done = "query.subscribe_updated" if updated else "query.subscribe_done"
        words = schedule_in_words(destination.schedule, lang, self.clock())
        lines = [t(done, lang, sections=label, lang=language_name(destination.languages[0], lang), schedule=words)]
        for key, terms in (("include", wish.include), ("exclude", wish.exclude)):
            if terms:
                lines.append(t(f"query.subscribe_{key}", lang, terms=", ".join(f"“{term}”" for term in terms)))
        return Subscribed(lang=lang, destination=destination.name, message="\n".join(lines))

    def _over_limit(self, user: str, lang: str) -> ErrorAnswer | None:
        """The polite refusal of a new subscription beyond `[subscriptions]` (two indexed counts)."""
        total, mine = self.store.subscription_counts(user)
        if total >= self.limits.max_total:
            if not self._told_full:
                self._told_full = True
                log.warning("/subscribe refused: %d runtime subscriptions reach [subscriptions] max_total", total)
            return ErrorAnswer(lang=lang, message=t("query.subscribe_full", lang, limit=self.limits.max_total))
        if mine >= self.limits.max_per_user:
            return ErrorAnswer(lang=lang, message=t("query.subscribe_user_limit", lang,
                                                    limit=self.limits.max_per_user))
        return None

    def _configured(self, platform: str, chat: str, aliases: Sequence[str] = ()) -> Destination | None:
        """The config.toml destination this chat is (by id, or by a name such as "@channel"), if any."""
        names = {chat, *(alias.lower() for alias in aliases)}
        return next((d for d in self.destinations
                     if d.platform == platform and (d.chat in names or d.chat.lower() in names)), None)

    def _section_names(self, keys: Sequence[str], lang: str) -> list[str]:
        """Section keys as a reader knows them: the newest title in `lang` ("Outils et jeux de données")."""
        titles: dict[str, str] = {}
        for _, sections in self.store.recent_sections(lang, limit=20) or self.store.recent_sections(None, limit=20):
            for section in sections:
                titles.setdefault(section.key, section.title or section.heading)
        return [titles.get(key, key) for key in keys]

    def _unsubscribe(self, query: Query, lang: str) -> Answer:
        configured = self._configured(query.platform, query.chat, query.chat_aliases)
        removed = self.store.delete_subscription(configured.name if configured else f"{query.platform}:{query.chat}")
        if configured is not None:  # only config.toml can stop a configured destination
            return Notice(lang=lang, message=t("query.unsubscribe_configured", lang))
        return Notice(lang=lang, message=t("query.unsubscribe_done" if removed else "query.unsubscribe_none", lang))

    def _page(self, token: str, lang: str) -> Answer:
        match = re.fullmatch(r"s:(\d{1,9}):(\d{1,4})", token.strip())
        entry_id = self.store.entry_for_rowid(int(match.group(1))) if match else None
        issue = self.store.get_issue(entry_id) if entry_id else None
        if issue is None or match is None or int(match.group(2)) >= len(issue.sections):
            return ErrorAnswer(lang=lang, message=t("query.page_expired", lang))
        return self._section_answer(issue, int(match.group(2)), lang, "")

    # ------------------------------------------------------------------ internals
    def _section_answer(self, issue: Issue, position: int, lang: str, note: str) -> SectionAnswer:
        count = len(issue.sections)
        return SectionAnswer(
            lang=lang, issue=issue.ref, section=issue.sections[position],
            sections=tuple(self._refs(issue)), note=note, page=position + 1, page_count=count,
            prev_page=self._token(issue, position - 1) if position > 0 else None,
            next_page=self._token(issue, position + 1) if position + 1 < count else None,
        )

    def _token(self, issue: Issue, position: int) -> str:
        return f"s:{self.store.rowid_for_entry(issue.entry_id)}:{position}"

    @staticmethod
    def _refs(issue: Issue) -> Sequence[SectionRef]:
        return [s.ref for s in issue.sections]

    def _resolve_section_names(self, names: Sequence[str], lang: str,
                               feeds: tuple[str, ...] = ()) -> tuple[list[str], list[str]]:
        """Section words of /subscribe → canonical keys, with the words we could not place."""
        edition, _ = self._edition(None, lang, feeds)
        keys: list[str] = []
        unknown: list[str] = []
        for name in names[:20]:
            if name == "*":
                return [], []
            key = self.matcher.key_for(name, edition.sections if edition else (), lang)
            if key is None:
                unknown.append(name)
            elif key not in keys:
                keys.append(key)
        return keys, unknown


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

