"""The destination contract: what a place posts go to receives, as one typed, frozen value.

A destination is parsed once — from a `[[destinations]]` table when the config loads
(`bot.settings.destinations.destination_from_config`), or from a stored `/subscribe` row — into this
value, and every consumer (scheduler, renderers, `send`, `plan`, `status`, the panel) reads
its typed fields. Nobody re-parses a schedule text or reads a raw option mapping, so two
parts cannot disagree about what a destination is.

Per-platform options are one type per platform (`TelegramOptions`, `DiscordOptions`,
`ConsoleOptions`): a Discord role on a Telegram chat, or a Telegram topic on a Discord
channel, cannot be represented. A `/subscribe` in a configured destination's chat is an
`Override` laid over the configured value; the result remembers who changed it, where and
when (`Destination.change`), so `status` and the panel can say where the selection comes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, TypeGuard, get_args

from bot.contract.filters import MAX_TERMS, ItemFilter
from bot.contract.presentation import MIN_ITEM_CHARS, PLAIN, Compact, Presentation
from bot.contract.schedule import CronDrip, OnPublish, Schedule, parse_schedule

__all__ = [
    "IMAGE_MODES",
    "Change",
    "ConsoleOptions",
    "Destination",
    "DiscordOptions",
    "OnEdit",
    "Override",
    "PlatformOptions",
    "TelegramOptions",
    "Unrunnable",
    "destination_from_json",
    "destination_to_json",
]

OnEdit = Literal["ignore", "edit", "repost"]
TelegramImages = Literal["none", "first", "all"]
DiscordImages = Literal["thumbnail", "full", "none"]
DiscordFormat = Literal["embeds", "text"]

#: Image modes per platform, the default first: what config's `images` accepts, and what a stored
#: destination's odd value falls back from.
IMAGE_MODES: dict[str, tuple[str, ...]] = {"telegram": get_args(TelegramImages),
                                           "discord": get_args(DiscordImages), "console": ("none",)}


@dataclass(frozen=True, slots=True)
class TelegramOptions:
    """How a Telegram chat gets its posts: link previews, pictures, forum topic(s), the index post."""

    link_preview: bool = False
    images: TelegramImages = "none"
    topic: int | None = None
    topics: Mapping[str, int] = field(default_factory=dict)  # section key → message_thread_id
    index: bool = True

    def thread_for(self, section_key: str | None) -> int | None:
        """The forum topic for a section: `topics[key]`, else `topic`, else none."""
        if section_key and section_key in self.topics:
            return self.topics[section_key]
        return self.topic


@dataclass(frozen=True, slots=True)
class DiscordOptions:
    """How a Discord channel gets its posts: embeds or text, a thread per issue, pictures, role pings."""

    format: DiscordFormat = "embeds"
    thread: bool = False
    images: DiscordImages = "thumbnail"
    mention_role: str = ""
    mention_roles: Mapping[str, str] = field(default_factory=dict)  # section key → role id
    index: bool = True


@dataclass(frozen=True, slots=True)
class ConsoleOptions:
    """The console (and any platform without options of its own) only knows whether to post an index."""

    index: bool = True


PlatformOptions = TelegramOptions | DiscordOptions | ConsoleOptions


Via = Literal["/subscribe", "the web panel"]


@dataclass(frozen=True, slots=True)
class Change:
    """Who changed a destination at run time (with `/subscribe`, or in the web panel), in which chat, and when."""

    by: str
    chat: str
    at: datetime | None = None
    via: Via = "/subscribe"

    def words(self, created: bool = False) -> str:
        """"changed by /subscribe in chat -100 at 2026-12-07 06:00 UTC (by 42)"."""
        verb = "created" if created else "changed"
        when = f" at {self.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if self.at is not None else ""
        who = f" (by {self.by})" if self.by else ""
        where = f" in chat {self.chat}" if self.via == "/subscribe" else f" for {self.chat}"
        return f"{verb} by {self.via}{where}{when}{who}"


@dataclass(frozen=True, slots=True)
class Override:
    """What a `/subscribe` in a configured chat may change, laid over config.toml's destination."""

    sections: tuple[str, ...]
    schedule: Schedule
    filters: ItemFilter
    change: Change

    def over(self, configured: Destination) -> Destination:
        """The configured destination as this override changes it (name, chat, languages, look stay)."""
        schedule = self.schedule
        if isinstance(schedule, CronDrip) and isinstance(configured.schedule, CronDrip):
            schedule = replace(schedule, per_tick=configured.schedule.per_tick)
        return replace(configured, sections=self.sections, schedule=schedule, filters=self.filters,
                       change=self.change, overridden=True)


@dataclass(frozen=True, slots=True)
class Destination:
    """A place posts go to (a Telegram chat/topic, a Discord channel, the console), fully typed.

    `feeds` empty means every feed, `languages` empty every language. `change` is None for a
    destination exactly as config.toml says; otherwise the `/subscribe` that created it
    (`overridden` False) or changed a configured one (`overridden` True).
    """

    name: str
    platform: str
    chat: str
    languages: tuple[str, ...] = ()
    sections: tuple[str, ...] = ("*",)
    schedule: Schedule = OnPublish()
    on_edit: OnEdit = "ignore"
    backfill: int = 1
    feeds: tuple[str, ...] = ()
    filters: ItemFilter = ItemFilter()
    presentation: Presentation = PLAIN
    options: PlatformOptions = ConsoleOptions()
    change: Change | None = None
    overridden: bool = False

    def __post_init__(self) -> None:
        """Options belong to the destination's platform: the default becomes that platform's defaults,
        and another platform's options are refused (a Discord role on a Telegram chat is a bug)."""
        wanted = _OPTION_TYPES.get(self.platform, ConsoleOptions)
        if isinstance(self.options, wanted):
            return
        if type(self.options) is ConsoleOptions:
            object.__setattr__(self, "options", wanted(index=self.options.index))
            return
        raise TypeError(f"destination {self.name!r}: {type(self.options).__name__} on a {self.platform} destination")

    @property
    def timezone(self) -> str:
        return self.schedule.timezone

    @property
    def index(self) -> bool:
        """Whether an index post follows the sections of an issue (never for a digest)."""
        return self.options.index

    @property
    def telegram(self) -> TelegramOptions:
        """Telegram options (the defaults when the destination is not a Telegram one)."""
        return self.options if isinstance(self.options, TelegramOptions) else TelegramOptions()

    @property
    def discord(self) -> DiscordOptions:
        """Discord options (the defaults when the destination is not a Discord one)."""
        return self.options if isinstance(self.options, DiscordOptions) else DiscordOptions()

    def source(self) -> str:
        """Where the selection comes from, in a maintainer's words (`status`, the panel)."""
        if self.change is None:
            return "config.toml"
        return self.change.words(created=not self.overridden)


_OPTION_TYPES: dict[str, type[PlatformOptions]] = {"telegram": TelegramOptions, "discord": DiscordOptions}


@dataclass(frozen=True, slots=True)
class Unrunnable:
    """A stored subscription the scheduler cannot run (its schedule or zone no longer parses)."""

    name: str
    platform: str
    chat: str
    schedule: str
    timezone: str
    reason: str


# --------------------------------------------------------------------------- stored form
def destination_to_json(dest: Destination) -> dict[str, Any]:
    """The JSON a subscription row stores (the shape rows have always had: old rows still load)."""
    options: dict[str, Any] = {"index": dest.index}
    match dest.options:
        case TelegramOptions() as tg:
            options |= {"link_preview": tg.link_preview, "images": tg.images, "topic": tg.topic,
                        "topics": dict(tg.topics)}
        case DiscordOptions() as dc:
            options |= {"format": dc.format, "thread": dc.thread, "images": dc.images,
                        "mention_role": dc.mention_role, "mention_roles": dict(dc.mention_roles)}
        case ConsoleOptions():
            pass
    if dest.filters.include:
        options["include"] = list(dest.filters.include)
    if dest.filters.exclude:
        options["exclude"] = list(dest.filters.exclude)
    if dest.feeds:
        options["feeds"] = list(dest.feeds)
    if dest.presentation.compact is not Compact.AUTO:
        options["compact"] = dest.presentation.compact is Compact.ALWAYS
    if dest.presentation.max_item_chars is not None:
        options["max_item_chars"] = dest.presentation.max_item_chars
    if isinstance(dest.schedule, CronDrip) and dest.schedule.per_tick != 1:
        options["per_tick"] = dest.schedule.per_tick
    if dest.change is not None:
        options["subscribed_by"] = dest.change.by
        options["subscribed_in"] = dest.change.chat
        options["subscribed_via"] = dest.change.via
        if dest.change.at is not None:
            options["subscribed_at"] = dest.change.at.astimezone(UTC).isoformat(timespec="seconds")
    return {"name": dest.name, "platform": dest.platform, "chat": dest.chat, "languages": list(dest.languages),
            "sections": list(dest.sections), "schedule": dest.schedule.text, "timezone": dest.timezone,
            "on_edit": dest.on_edit, "backfill": dest.backfill, "options": options}


def destination_from_json(data: Mapping[str, Any], stored_at: str | None = None) -> Destination:
    """A stored subscription row as a Destination; odd values get safe defaults.

    Its `change` says who stored it, where and when (`stored_at`, the row's time, for rows stored
    before that was recorded).

    Raises:
        ScheduleError: the stored schedule (or zone) cannot run; the caller sets the row apart.
    """
    options: Mapping[str, Any] = data.get("options") or {}
    platform = str(data.get("platform") or "console")
    schedule = _stored_schedule(data, options)  # raises first: the row is set apart whatever else it holds
    on_edit = data.get("on_edit")
    return Destination(
        name=str(data["name"]), platform=platform, chat=str(data.get("chat") or ""),
        languages=tuple(str(lang) for lang in data.get("languages") or ()),
        sections=tuple(str(key) for key in data.get("sections") or ("*",)) or ("*",),
        schedule=schedule, on_edit=on_edit if on_edit in ("ignore", "edit", "repost") else "ignore",
        backfill=data["backfill"] if _int(data.get("backfill")) else 1,
        feeds=tuple(str(feed) for feed in options.get("feeds") or ()),
        filters=ItemFilter(_terms(options.get("include")), _terms(options.get("exclude"))),
        presentation=_presentation(options), options=platform_options(platform, options),
        change=_stored_change(data, options, stored_at),
    )


def _stored_schedule(data: Mapping[str, Any], options: Mapping[str, Any]) -> Schedule:
    """The row's schedule in its zone, with its `per_tick` when that is a sane count (1–50)."""
    schedule = parse_schedule(str(data.get("schedule") or "on_publish"), str(data.get("timezone") or "UTC"))
    per_tick = options.get("per_tick", 1)
    if isinstance(schedule, CronDrip) and _int(per_tick) and 1 <= per_tick <= 50:
        schedule = replace(schedule, per_tick=per_tick)
    return schedule


def _stored_change(data: Mapping[str, Any], options: Mapping[str, Any], stored_at: str | None) -> Change:
    """Who stored the row, in which chat, when and how: a stored row is always a run-time change."""
    by, chat = options.get("subscribed_by"), options.get("subscribed_in") or data.get("chat")
    at = _when(options.get("subscribed_at") or stored_at)
    via: Via = "the web panel" if options.get("subscribed_via") == "the web panel" else "/subscribe"
    return Change(str(by or ""), str(chat or ""), at, via)


def platform_options(platform: str, options: Mapping[str, Any]) -> PlatformOptions:
    """Typed options for `platform` from a mapping (a stored row); anything odd gets the default."""
    index = options.get("index", True) is not False
    if platform == "telegram":
        images = options.get("images")
        topic = options.get("topic")
        topics = options.get("topics") or {}
        return TelegramOptions(
            link_preview=options.get("link_preview") is True,
            images=images if images in IMAGE_MODES["telegram"] else "none",
            topic=topic if _int(topic) and topic >= 1 else None,
            topics={str(k): v for k, v in topics.items() if _int(v) and v >= 1} if isinstance(topics, dict) else {},
            index=index)
    if platform == "discord":
        fmt, images = options.get("format"), options.get("images")
        roles = options.get("mention_roles") or {}
        return DiscordOptions(
            format=fmt if fmt in ("embeds", "text") else "embeds", thread=options.get("thread") is True,
            images=images if images in IMAGE_MODES["discord"] else "thumbnail",
            mention_role=str(options.get("mention_role") or ""),
            mention_roles={str(k): str(v) for k, v in roles.items()} if isinstance(roles, dict) else {},
            index=index)
    return ConsoleOptions(index=index)


def _presentation(options: Mapping[str, Any]) -> Presentation:
    limit = options.get("max_item_chars")
    return Presentation(compact=Compact.of(options.get("compact")),
                        max_item_chars=limit if _int(limit) and limit >= MIN_ITEM_CHARS else None)


def _terms(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(str(term) for term in value if isinstance(term, str) and term.strip())[:MAX_TERMS]


def _int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _when(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
