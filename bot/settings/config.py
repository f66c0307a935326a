"""config.toml: the one file a maintainer edits, validated with errors that name the key.

Secrets never live here: the file names the environment variable (`token_env`)
or a file (`token_file`) that holds the token, and `Config.secret()` reads it.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import tomllib
import typing
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from bot.contract.destination import IMAGE_MODES
from bot.contract.filters import MAX_TERMS, term_problem
from bot.contract.presentation import MIN_ITEM_CHARS
from bot.contract.schedule import ScheduleError, check_timezone, parse_schedule
from bot.core.cleantext import clean_text
from bot.core.errors import ConfigError
from bot.core.i18n import plural_en, supported_languages
from bot.core.language import KNOWN as KNOWN_LANGUAGES
from bot.core.redact import looks_like_token, mask_tokens
from bot.core.regexcheck import unsafe_regex_reason

__all__ = [
    "Config",
    "DestinationConfig",
    "DiscordConfig",
    "FeedConfig",
    "NewsletterConfig",
    "TelegramConfig",
    "WebConfig",
    "bundled_feed_path",
    "config_problems",
    "did_you_mean",
    "partial_config",
    "read_raw",
    "load_config",
    "parse_duration",
    "resolve_config_path",
]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_MIN_RETRY_WAIT, _MAX_RETRY_WAIT = 1.0, 7 * 86400.0


_DAY = 86400.0
_MAX_DURATION = 365 * _DAY  # nothing digestbot waits for is longer than a year
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TELEGRAM_CHAT = re.compile(r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$")
_DISCORD_SNOWFLAKE = re.compile(r"^\d{15,21}$")


def parse_duration(value: str | int | float) -> float:
    """Seconds in "30m", "1h", "45s", "2d" or a bare number of seconds (at most a year)."""
    if isinstance(value, bool):
        raise ValueError("must be a duration such as '30m', not true/false")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a duration such as '30m', '1h', '45s'")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds < 0 or seconds != seconds:
        raise ValueError("must not be negative")
    if seconds > _MAX_DURATION:
        raise ValueError("is out of range: at most 365d")
    return seconds


def _http_url(value: str, *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    if scheme not in schemes:
        shown = f"scheme {scheme!r}" if scheme else "no scheme"
        raise ValueError(f"has {shown}; use {' or '.join(s + '://' for s in schemes)}")
    if looks_like_token(value):
        raise ValueError("contains what looks like a bot token; tokens come only from token_env/token_file")
    return value


def _env_name(value: str) -> str:
    if looks_like_token(value):
        raise ValueError("looks like a bot token, not a variable name: put the token in the environment "
                         "and name that variable here (e.g. TELEGRAM_BOT_TOKEN)")
    if not _ENV_NAME.match(value):
        raise ValueError("is not an environment variable name (letters, digits and _)")
    return value


def _has_hidden_characters(value: str) -> bool:
    """Line breaks, tabs, or anything `bot.core.cleantext` would strip (control, bidi, invisible marks)."""
    return "\t" in value or "\n" in value or clean_text(value, for_matching=True) != value


def _name(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    if _has_hidden_characters(value):
        raise ValueError("must not contain control or invisible characters")
    return value.strip()


def bundled_feed_path() -> Path:
    """The feed snapshot shipped with the package: the offline default and demo input."""
    return Path(str(resources.files("bot") / "data" / "dair-ai-feed-2020-03-17.xml"))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageConfig(_Strict):
    path: str = "digestbot.db"


#: Keys a table may write flat that its model reads into a sub-table (see `FeedConfig._flat_newsletter`).
_FLAT_KEYS = {"newsletter": ("title_pattern", "min_sections")}


class NewsletterConfig(_Strict):
    """A newsletter's name, and how to tell its issues from other posts of its feed.

    Each feed has its own (`[feeds.newsletter]`, see `FeedConfig`); the top-level
    `[newsletter]` table only supplies the defaults of what a feed leaves unset
    (`Config.newsletter_for`).
    `name` labels every issue ("This Week in Rust #635"); unset, the feed's `<title>` does.
    `title_pattern` is for mixed feeds only: set, an entry is an issue when its title matches
    it (or two of its sections are known ones); unset, issues are recognised by the sections
    most of the feed's entries share (see `bot.splitting.detect`).
    """

    name: str | None = None
    title_pattern: str | None = None
    min_sections: int = Field(default=3, ge=1, le=1000)

    @field_validator("title_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is None:
            return value
        reason = unsafe_regex_reason(value)
        if reason:
            raise ValueError(reason)
        return value


class FeedConfig(_Strict):
    name: str
    url: str
    poll_interval: float = 1800.0
    timeout: float = 20.0
    max_bytes: int = Field(default=20 * 1024 * 1024, ge=1, le=1024**3)
    # An issue with more sections or items than this is stored but not delivered (bot.feeds.ingest.SizeLimits).
    max_sections: int = Field(default=40, ge=1, le=100_000)
    max_items: int = Field(default=400, ge=1, le=1_000_000)
    # This feed's newsletter: `[feeds.newsletter]` (name, title_pattern, min_sections); what it leaves
    # unset comes from the top-level `[newsletter]` (Config.newsletter_for).
    newsletter: NewsletterConfig = Field(default_factory=NewsletterConfig)

    @model_validator(mode="before")
    @classmethod
    def _flat_newsletter(cls, data: Any) -> Any:
        """`newsletter = "This Week in Rust"`, `title_pattern = …` and `min_sections = …` written in the
        feed's table itself are its newsletter's, as if under `[feeds.newsletter]` (one meaning, two spellings)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        table = data.get("newsletter")
        if isinstance(table, str):
            table = {"name": table}
        flat = {key: data.pop(key) for key in _FLAT_KEYS["newsletter"] if key in data}
        if flat and table is None:
            table = {}
        if flat and isinstance(table, dict):  # any other value is pydantic's to report
            twice = sorted(set(flat) & set(table))
            if twice:
                raise ValueError(f"{', '.join(twice)} set both in the feed and in its [feeds.newsletter] table")
            table = {**table, **flat}
        if table is not None:
            data["newsletter"] = table
        return data

    @field_validator("name")
    @classmethod
    def _clean_name(cls, value: str) -> str:
        return _name(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        """An http(s) URL or a local path; `htps://` and `ftp://` are mistakes, not paths."""
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", value):
            return _http_url(value)
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("poll_interval", "timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value)

    @field_validator("poll_interval")
    @classmethod
    def _min_interval(cls, value: float) -> float:
        if value < 10:
            raise ValueError("must be at least 10s, to be polite to the feed's server")
        if value > 30 * _DAY:
            raise ValueError("is out of range: at most 30d")
        return value

    @field_validator("timeout")
    @classmethod
    def _timeout_range(cls, value: float) -> float:
        if not 0 < value <= 600:
            raise ValueError("is out of range: more than 0s, at most 10m")
        return value


class SectionsConfig(_Strict):
    """Extra heading aliases per canonical key, e.g. aliases.tools_datasets = ["Outillage"]."""

    aliases: dict[str, list[str]] = Field(default_factory=dict)


class _PlatformConfig(_Strict):
    token_env: str
    token_file: str | None = None
    api_base_url: str
    commands: bool = True
    # Multiplies every flood window: 1 for Telegram; lower for a Bot API server with tighter windows.
    time_scale: float = Field(default=1.0, gt=0, le=1)

    @field_validator("token_env")
    @classmethod
    def _token_env(cls, value: str) -> str:
        return _env_name(value)

    @field_validator("api_base_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return _http_url(value)


class TelegramConfig(_PlatformConfig):
    token_env: str = "TELEGRAM_BOT_TOKEN"
    api_base_url: str = "https://api.telegram.org/bot"
    file_base_url: str | None = None

    @field_validator("file_base_url")
    @classmethod
    def _file_url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)


class DiscordConfig(_PlatformConfig):
    token_env: str = "DISCORD_BOT_TOKEN"
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str = ""
    application_id: str | None = None
    #: Lookups (/section, /sections, /search, /latest, /issues): seen by the asker only, or by the channel.
    answers: Literal["ephemeral", "public"] = "ephemeral"

    @field_validator("gateway_url")
    @classmethod
    def _gateway(cls, value: str) -> str:
        return value and _http_url(value, schemes=("ws", "wss"))

    @field_validator("application_id", mode="before")
    @classmethod
    def _snowflake(cls, value: Any) -> Any:
        return _snowflake(value)


def _snowflake(value: Any) -> Any:
    """Discord ids are numbers: accept them written as TOML integers or strings of digits."""
    if isinstance(value, bool):
        raise ValueError("must be a Discord id (digits), not true/false")
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str) and value and not _DISCORD_SNOWFLAKE.match(value.strip()):
        raise ValueError("is not a Discord id: copy it with Developer Mode (right click → Copy ID), "
                         "17 to 20 digits")
    return value.strip() if isinstance(value, str) else value


MIN_WEB_TOKEN = 16  # characters of the panel's login token, at least


class WebConfig(_Strict):
    """The HTTP face of `digestbot run`: /healthz and /metrics (absent `listen`: no server), and the
    web panel when the environment variable named by `token_env` holds its login token."""

    listen: str | None = None
    token_env: str = "DIGESTBOT_WEB_TOKEN"

    @field_validator("token_env")
    @classmethod
    def _token_env(cls, value: str) -> str:
        return _env_name(value)

    def token(self) -> str | None:
        """The panel's login token from the environment; None (panel off) when unset or blank."""
        value = os.environ.get(self.token_env, "").strip()
        return value or None

    def token_problem(self) -> ConfigError | None:
        """A panel token too short to resist guessing (the panel is served: `listen` is set); None if fine."""
        value = self.token()
        if self.listen is None or value is None or len(value) >= MIN_WEB_TOKEN:
            return None
        return ConfigError("web.token_env", f"{self.token_env} holds a {len(value)}-character token; the panel needs "
                                            f"at least {MIN_WEB_TOKEN}: make one with `openssl rand -hex 32`")

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be HOST:PORT, e.g. \"127.0.0.1:8080\"")
        return value

    @property
    def address(self) -> tuple[str, int] | None:
        if self.listen is None:
            return None
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


class ConsoleConfig(_Strict):
    """The console platform (demos, tests, a terminal): where deliveries are also logged, how slow it is."""

    log: str | None = None  # also append each delivered part to this file as one JSON line (fsync'ed)
    log_max_bytes: int = Field(default=64 * 1024 * 1024, ge=4096, le=1024**4)  # then rotated: .1, .2, .3 kept
    delay: float = Field(default=0.0, ge=0, le=60)  # mean seconds per send (±50 %), to mimic a network


class DeliveryConfig(_Strict):
    """Outbox tuning: retries, backoff and spacing between posts."""

    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_base: float = 2.0
    backoff_max: float = 900.0
    spacing: float = 0.0
    misfire_grace_time: float = 3600.0
    max_retry_wait: float = 3600.0

    @field_validator("backoff_base", "backoff_max", "spacing", "misfire_grace_time", "max_retry_wait",
                     mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value)

    @field_validator("max_retry_wait")
    @classmethod
    def _retry_wait_range(cls, value: float) -> float:
        """A platform's `retry_after` or our backoff never parks a destination longer than this."""
        if not _MIN_RETRY_WAIT <= value <= _MAX_RETRY_WAIT:
            raise ValueError("must be between 1s and 7d")
        return value

    @field_validator("backoff_base", "backoff_max", "spacing")
    @classmethod
    def _at_most_a_day(cls, value: float) -> float:
        if value > _DAY:
            raise ValueError("is out of range: at most 1d")
        return value


class SubscriptionsConfig(_Strict):
    """Caps on runtime subscriptions (`/subscribe` in a chat that is not a destination of this file).

    Each one is a destination the bot delivers to and keeps in its database; without a cap,
    anyone can make the bot post to as many private chats as they can open. Updating an
    existing subscription, and `/subscribe` in a configured destination's chat, are never refused.
    """

    max_total: int = Field(default=10_000, ge=0, le=1_000_000)  # 0: no new subscriptions at all
    max_per_user: int = Field(default=5, ge=0, le=10_000)  # subscriptions one person may make (chats they admin)


#: Options that mean something on one platform only (`images` and `index` exist on several).
_OPTION_PLATFORM = {"link_preview": "telegram", "topic": "telegram", "topics": "telegram",
                    "format": "discord", "thread": "discord"}


class DestinationConfig(_Strict):
    """One place posts go to. Platform options are optional and platform-specific."""

    name: str
    platform: Literal["telegram", "discord", "console"]
    chat: str = Field(default="", validate_default=True)
    channel: str = Field(default="", validate_default=True)
    languages: list[str] = Field(default_factory=list)
    sections: list[str] = Field(default_factory=lambda: ["*"])
    schedule: str = "on_publish"
    timezone: str = "UTC"
    on_edit: Literal["ignore", "edit", "repost"] = "ignore"
    backfill: int = Field(default=1, ge=0, le=1000)
    feeds: list[str] = Field(default_factory=list)
    # Topic filters (bot/contract/filters.py): words or phrases, case- and accent-insensitive, never regexes
    include: list[str] = Field(default_factory=list, max_length=MAX_TERMS)
    exclude: list[str] = Field(default_factory=list, max_length=MAX_TERMS)
    # Telegram options
    link_preview: bool = False
    # images: Telegram "none" (default) | "first" | "all"; Discord "thumbnail" (default) | "full" | "none"
    images: str = Field(default="", validate_default=True)
    topic: int | None = Field(default=None, ge=1)
    topics: dict[str, int] = Field(default_factory=dict)
    index: bool = True
    # Discord options
    format: Literal["embeds", "text"] = "embeds"
    thread: bool = False
    mention_role: str = ""  # a role pinged by the first message of each issue (opt-in)
    mention_roles: dict[str, str] = Field(default_factory=dict)  # section key → role pinged by that section
    # Presentation (bot/contract/presentation.py) and drip pacing
    compact: bool | Literal["auto"] = "auto"  # "auto": link-only items as lines (bot.contract.presentation.Compact)
    max_item_chars: int | None = Field(default=None, ge=MIN_ITEM_CHARS, le=4000)
    per_tick: int = Field(default=1, ge=1, le=50)

    @field_validator("compact", mode="before")
    @classmethod
    def _compact(cls, value: Any) -> Any:
        """Exactly true, false or "auto": a string such as "yes" is a mistake, not a boolean."""
        if value is True or value is False or value == "auto":
            return value
        raise ValueError('must be true, false or "auto"')

    @field_validator("name")
    @classmethod
    def _clean_name(cls, value: str) -> str:
        return _name(value)

    @field_validator("chat", mode="before")
    @classmethod
    def _chat(cls, value: Any) -> Any:
        """A Telegram chat id (`-100…`, TOML integer or string) or `@username`."""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value and not _TELEGRAM_CHAT.match(value.strip()):
            raise ValueError("is not a Telegram chat: use @channelusername or the numeric id (-100…)")
        return value.strip() if isinstance(value, str) else value

    @field_validator("channel", mode="before")
    @classmethod
    def _channel(cls, value: Any) -> Any:
        return _snowflake(value)

    @field_validator("include", "exclude")
    @classmethod
    def _filter_terms(cls, value: list[str]) -> list[str]:
        for term in value:
            if (problem := term_problem(term)) is not None:
                raise ValueError(f"filter term {term[:40]!r} {problem}")
        return [" ".join(term.split()) for term in value]

    @field_validator("mention_role", mode="before")
    @classmethod
    def _role(cls, value: Any) -> Any:
        return _snowflake(value)

    @field_validator("mention_roles", mode="before")
    @classmethod
    def _roles(cls, value: Any) -> Any:
        return {key: _snowflake(role) for key, role in value.items()} if isinstance(value, dict) else value

    @field_validator("topics")
    @classmethod
    def _topic_ids(cls, value: dict[str, int]) -> dict[str, int]:
        bad = [key for key, topic in value.items() if topic < 1]
        if bad:
            raise ValueError(f"topic ids are positive message_thread_id numbers (see {', '.join(bad)})")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            check_timezone(value)
        except ScheduleError as exc:
            raise ValueError(str(exc)) from exc
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        """The one schedule parser (bot/contract/schedule.py): config accepts exactly what the scheduler runs."""
        try:
            return parse_schedule(value).text
        except ScheduleError as exc:
            raise ValueError(str(exc)) from exc

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        codes = [lang.strip().lower().replace("_", "-") for lang in value if lang.strip()]
        unknown = [code for code in codes if code not in KNOWN_LANGUAGES]
        if unknown:
            raise ValueError(f"unknown language {', '.join(map(repr, unknown))} "
                             f"(use codes: {', '.join(KNOWN_LANGUAGES)})")
        return codes

    @field_validator("images")
    @classmethod
    def _images(cls, value: str, info: ValidationInfo) -> str:
        """`images` means one thing per platform: its modes are named when the value is not one."""
        platform = str(info.data.get("platform") or "console")
        allowed = IMAGE_MODES.get(platform, ("none",))
        value = value.strip().lower() or allowed[0]
        if value not in allowed:
            raise ValueError(f"{value[:40]!r} is not a {platform} image mode: use "
                             + ", ".join(f'"{mode}"' for mode in allowed))
        return value

    @model_validator(mode="after")
    def _platform_options(self) -> DestinationConfig:
        """An option of another platform is a mistake (a copied block, a wrong `platform`), not silently ignored."""
        if (self.mention_role or self.mention_roles) and self.platform != "discord":
            raise ValueError("mention_role and mention_roles are Discord options (role ids)")
        foreign = sorted(key for key in self.model_fields_set
                         if _OPTION_PLATFORM.get(key, self.platform) != self.platform)
        if foreign:
            owner = _OPTION_PLATFORM[foreign[0]]
            raise ValueError(f"{', '.join(foreign)}: {owner} option{'s' if len(foreign) > 1 else ''}, "
                             f"but this destination's platform is {self.platform}")
        return self


    @field_validator("chat", "channel", mode="after")
    @classmethod
    def _target(cls, value: str, info: ValidationInfo) -> str:
        """A field check, not a whole-table one: it is reported in the same pass as every other field's."""
        platform = info.data.get("platform")
        if info.field_name == "chat" and platform == "telegram" and not value:
            raise ValueError("a telegram destination needs 'chat' (@channelusername or -100…)")
        if info.field_name == "channel" and platform == "discord" and not value:
            raise ValueError("a discord destination needs 'channel' (the channel id)")
        return value

    @property
    def target(self) -> str:
        return self.chat or self.channel or self.name


class Config(_Strict):
    storage: StorageConfig = Field(default_factory=StorageConfig)
    feeds: list[FeedConfig] = Field(default_factory=list)
    newsletter: NewsletterConfig = Field(default_factory=NewsletterConfig)
    sections: SectionsConfig = Field(default_factory=SectionsConfig)
    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    discord: DiscordConfig = Field(default_factory=DiscordConfig)
    console: ConsoleConfig = Field(default_factory=ConsoleConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    subscriptions: SubscriptionsConfig = Field(default_factory=SubscriptionsConfig)
    destinations: list[DestinationConfig] = Field(default_factory=list)
    web: WebConfig = Field(default_factory=WebConfig)
    default_language: str = "en"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("default_language")
    @classmethod
    def _reply_language(cls, value: str) -> str:
        code = value.strip().lower().replace("_", "-")
        if code not in supported_languages():
            raise ValueError(f"no replies in {value!r} (use one of: {', '.join(supported_languages())})")
        return code

    def secret_origin(self, platform: Literal["telegram", "discord"]) -> tuple[str, str]:
        """Where the platform's token comes from, for lines that must name it without showing it: the
        config key and its source ("telegram.token_env", "$TELEGRAM_BOT_TOKEN"), or the file's."""
        section: TelegramConfig | DiscordConfig = self.telegram if platform == "telegram" else self.discord
        if section.token_file:
            return f"{platform}.token_file", section.token_file
        return f"{platform}.token_env", f"${section.token_env}"

    def secret(self, platform: Literal["telegram", "discord"]) -> str:
        """The platform token from the environment (or the file it names); never logged."""
        section: TelegramConfig | DiscordConfig = self.telegram if platform == "telegram" else self.discord
        if section.token_file:
            path = Path(section.token_file)
            try:
                token = path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"{platform}.token_file", f"cannot read {path}: {exc.strerror}") from exc
            if not token:
                raise ConfigError(f"{platform}.token_file", f"{path} is empty")
            return token
        token = os.environ.get(section.token_env, "").strip()
        if not token:
            raise ConfigError(f"{platform}.token_env",
                              f"environment variable {section.token_env} is not set (it must hold the bot token)")
        return token

    def newsletter_for(self, feed: str) -> NewsletterConfig:
        """The newsletter of feed `feed`: its own `[feeds.newsletter]` keys over `[newsletter]`'s.

        A key the feed sets wins; one it leaves unset is the top-level table's (itself
        defaulted). An unknown feed name (`ingest --feed PATH`) gets the top-level table.
        """
        own = next((f.newsletter for f in self.feeds if f.name == feed), None)
        if own is None or not own.model_fields_set:
            return self.newsletter
        merged = {**self.newsletter.model_dump(), **own.model_dump(include=own.model_fields_set)}
        return NewsletterConfig.model_validate(merged)

    def platforms_in_use(self) -> set[str]:
        return {d.platform for d in self.destinations}


def default_config() -> Config:
    """Embedded defaults: the bundled snapshot, a local SQLite file, the console adapter."""
    return Config(
        storage=StorageConfig(path="digestbot.db"),
        feeds=[FeedConfig(name="nlp-newsletter", url=str(bundled_feed_path()),
                          newsletter=NewsletterConfig(name="NLP Newsletter"))],
        destinations=[DestinationConfig(name="console", platform="console", languages=["fr"])],
    )


def resolve_config_path(explicit: str | None) -> Path | None:
    """--config, else $DIGESTBOT_CONFIG, else ./config.toml, else None (built-in defaults)."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("DIGESTBOT_CONFIG")
    if env:
        return Path(env)
    local = Path("config.toml")
    return local if local.exists() else None


def read_raw(path: Path) -> dict[str, Any]:
    """The TOML document as a dict; a missing, unreadable or malformed file is one ConfigError."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(str(path), "file not found") from exc
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), f"not valid TOML: {exc}") from exc


def load_config(path: Path | None) -> Config:
    """Read and validate a config file; `None` gives the embedded defaults.

    Raises:
        ConfigError: naming the first bad key (`destinations.fr.timezone`) and why, with how
            many more problems `digestbot check-config` will list.
    """
    if path is None:
        return default_config()
    config, problems = config_problems(read_raw(path), path.parent)
    if problems:
        first = problems[0]
        more = (f" (and {plural_en(len(problems) - 1, 'more problem')}: run `digestbot check-config`)"
                if len(problems) > 1 else "")
        raise ConfigError(first.key, first.reason + more)
    assert config is not None
    return config


def config_problems(raw: dict[str, Any], base: Path | None = None) -> tuple[Config | None, list[ConfigError]]:
    """Every problem of a parsed config.toml at once, each naming its key; the Config if none.

    Field checks run in the models (pydantic reports all of them in one pass); checks that
    span several tables (duplicate names, feeds a destination names) run on the raw
    document so that they are reported even when some field elsewhere is wrong. A table's
    own checks that pydantic runs only once its fields are valid (a Telegram destination
    without `chat` whose `languages` is also wrong) are found by validating the table again
    without its bad fields (`_salvage`): fixing the first list never reveals a second one.
    Relative feed paths are resolved against `base` (the config file's folder).
    """
    problems: list[ConfigError] = []
    for platform in ("telegram", "discord"):
        section = raw.get(platform)
        if isinstance(section, dict) and "token" in section:
            problems.append(ConfigError(f"{platform}.token", "tokens must not be written in config.toml: "
                                        "set token_env (or token_file) instead"))
    cleaned = {k: ({kk: vv for kk, vv in v.items() if kk != "token"} if k in ("telegram", "discord")
                   and isinstance(v, dict) else v) for k, v in raw.items()}
    config: Config | None = None
    try:
        config = Config.model_validate(cleaned)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(cleaned, exc))
        problems.extend(_hidden_problems(cleaned, problems))
    problems.extend(_cross_problems(cleaned))
    problems = [ConfigError(p.key, mask_tokens(p.reason)) for p in problems]
    if problems or config is None:
        return None, problems
    return _resolve_feeds(config, base), []


#: Top-level tables and their models; the arrays of tables ([[feeds]], [[destinations]]) and theirs.
_TABLES: dict[str, type[BaseModel]] = {
    "storage": StorageConfig, "newsletter": NewsletterConfig, "sections": SectionsConfig, "telegram": TelegramConfig,
    "discord": DiscordConfig, "console": ConsoleConfig, "delivery": DeliveryConfig, "web": WebConfig}
_LISTS: dict[str, type[BaseModel]] = {"feeds": FeedConfig, "destinations": DestinationConfig}


def _salvage(model: type[BaseModel], table: Any) -> tuple[BaseModel | None, list[tuple[tuple[int | str, ...], str,
                                                                                        str]]]:
    """`table` validated without the fields that fail, and the errors that only showed once they were gone.

    Pydantic runs a model's whole-table checks (`model_validator(mode="after")`) only when every
    field is valid; dropping the failing fields (defaults take their place) and validating
    again brings those checks out. Returns the model, or None when even that fails (a missing
    required field), with each later round's errors as (location, type, message).
    """
    if not isinstance(table, dict):
        return None, []
    data = dict(table)
    removed: set[int | str] = set()
    later: list[tuple[tuple[int | str, ...], str, str]] = []
    for round_ in range(6):
        try:
            return model.model_validate(data), later
        except ValidationError as exc:
            errors = exc.errors()
        if round_:  # not the fields this loop took out (their own error is already reported)
            later += [(tuple(e["loc"]), str(e["type"]), str(e["msg"])) for e in errors
                      if not (e["loc"] and e["loc"][0] in removed)]
        fields = _failing_fields(model, data, errors)
        if not fields:
            usable = _usable_as_is(model, data, errors, removed)
            return (model.model_construct(**data) if usable else None), later
        for field in fields:
            del data[field]
        removed |= fields
    return None, later


def _failing_fields(model: type[BaseModel], data: dict[str, Any], errors: list[Any]) -> set[int | str]:
    """The keys of `data` to take out for the next round: those errors name (with their flat
    spellings), else, for a table-wide check, the keys of another spelling (a feed's flat title_pattern)."""
    fields: set[int | str] = {key for e in errors if e["loc"]
                              for key in (e["loc"][0], *_FLAT_KEYS.get(str(e["loc"][0]), ())) if key in data}
    stray = [key for key in data if key not in model.model_fields]
    return fields if fields or not stray else set(stray)


def _usable_as_is(model: type[BaseModel], data: dict[str, Any], errors: list[Any], removed: set[int | str]) -> bool:
    """Every required field is there and what fails is a whole-table check, or a field taken out."""
    required = all(name in data for name, info in model.model_fields.items() if info.is_required())
    return required and all(not e["loc"] or e["loc"][0] in removed for e in errors)


def _hidden_problems(raw: dict[str, Any], found: list[ConfigError]) -> list[ConfigError]:
    """The problems of each table that its first validation could not reach (see `_salvage`)."""
    seen = {(p.key, p.reason) for p in found}
    extra: list[ConfigError] = []
    located: list[tuple[tuple[int | str, ...], Any, type[BaseModel]]] = [
        ((key,), raw.get(key), model) for key, model in _TABLES.items()]
    for key, model in _LISTS.items():
        tables = raw.get(key)
        located += [((key, index), table, model) for index, table in enumerate(tables if isinstance(tables, list)
                                                                                 else [])]
    for where, table, model in located:
        for loc, kind, message in _salvage(model, table)[1]:
            problem = _problem(raw, (*where, *loc), kind, message)
            if (problem.key, problem.reason) not in seen:
                seen.add((problem.key, problem.reason))
                extra.append(problem)
    return extra


def partial_config(raw: dict[str, Any], base: Path | None = None) -> Config:
    """The valid parts of a config that has problems, so later checks can still look at them.

    Each table is validated on its own without its failing fields (`_salvage`), so a
    destination with a wrong `chat` still has its section keys, feeds and platform (whose
    token is then checked) looked at; a table beyond salvage falls back to its defaults, and
    of tables sharing a name the first is kept. `check-config` uses it to report the problems
    of every part in the same run (a missing feed file next to a bad URL).
    """
    fields: dict[str, Any] = {}
    for key, model in _TABLES.items():
        if isinstance(raw.get(key), dict):
            item, _ = _salvage(model, {k: v for k, v in raw[key].items() if k != "token"})
            if item is not None:
                fields[key] = item
    for key, model in _LISTS.items():
        value = raw.get(key)
        items = [_salvage(model, table)[0] for table in (value if isinstance(value, list) else [])]
        kept: dict[str, Any] = {}
        for item in items:
            if item is not None:
                kept.setdefault(getattr(item, "name", ""), item)
        fields[key] = list(kept.values())
    if isinstance(raw.get("default_language"), str):
        with contextlib.suppress(ValidationError):
            fields["default_language"] = Config.model_validate({"default_language": raw["default_language"]}
                                                                ).default_language
    config = Config.model_construct(**fields)
    return _resolve_feeds(config, base)


def _resolve_feeds(config: Config, base: Path | None) -> Config:
    if base is None:
        return config
    feeds = [f if "://" in f.url or Path(f.url).is_absolute() else f.model_copy(update={"url": str(base / f.url)})
             for f in config.feeds]
    return config.model_copy(update={"feeds": feeds})




def _pydantic_problems(raw: dict[str, Any], exc: ValidationError) -> list[ConfigError]:
    return [_problem(raw, tuple(error["loc"]), str(error["type"]), str(error["msg"])) for error in exc.errors()]


def _problem(raw: dict[str, Any], loc: tuple[int | str, ...], kind: str, message: str) -> ConfigError:
    """One pydantic error as a ConfigError naming its key path."""
    reason = message.removeprefix("Value error, ")
    if kind == "extra_forbidden":
        reason = "unknown key" + did_you_mean(str(loc[-1]), _fields_at(loc[:-1]))
    elif kind == "missing":
        reason = "missing (required)"
    return ConfigError(_key_path(raw, loc), reason)


def _cross_problems(raw: dict[str, Any]) -> list[ConfigError]:
    """Duplicate names and destinations naming unknown feeds, on the raw document."""
    problems: list[ConfigError] = []
    feed_names: set[str] = set()
    for kind in ("feeds", "destinations"):
        tables = raw.get(kind)
        if not isinstance(tables, list):
            continue
        first_at: dict[str, int] = {}
        for index, table in enumerate(tables):
            name = table.get("name") if isinstance(table, dict) else None
            if not isinstance(name, str) or not name.strip():
                continue
            if name in first_at:
                problems.append(ConfigError(f"{_key_path(raw, (kind, index))}.name",
                                            f"name used twice ({kind}[{first_at[name]}] and {kind}[{index}])"))
            else:
                first_at[name] = index
        if kind == "feeds":
            feed_names = set(first_at)
    for index, table in enumerate(raw.get("destinations") or []):
        if not isinstance(table, dict) or not isinstance(table.get("feeds"), list):
            continue
        for feed in table["feeds"]:
            if feed not in feed_names:
                problems.append(ConfigError(f"{_key_path(raw, ('destinations', index))}.feeds",
                                            f"unknown feed {feed!r}" + did_you_mean(str(feed), feed_names)))
    return problems


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean "timezone"?)` for a close spelling among `choices`, else ""."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _fields_at(loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed at a location of the document (for "did you mean")."""
    model: Any = Config
    for step in loc:
        if isinstance(step, int):
            continue
        field = model.model_fields.get(step) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return []
        annotation = field.annotation
        for candidate in (annotation, *typing.get_args(annotation)):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                model = candidate
                break
        else:
            return []
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    flat = [key for field in model.model_fields for key in _FLAT_KEYS.get(field, ())] if model is FeedConfig else []
    return [*model.model_fields, *flat]


def _key_path(raw: Any, loc: tuple[int | str, ...]) -> str:
    """`destinations.fr-telegram.timezone` rather than `destinations.0.timezone` where we can.

    A table whose name is missing, empty, repeated or unprintable is named by its index
    (`destinations[2]`), so the path always points at one table and prints on one line.
    """
    parts: list[str] = []
    node = raw
    for step in loc:
        if isinstance(step, int) and isinstance(node, list) and step < len(node):
            siblings = node
            node = node[step]
            name = node.get("name") if isinstance(node, dict) else None
            usable = (isinstance(name, str) and name.strip() and not _has_hidden_characters(name)
                      and sum(1 for s in siblings if isinstance(s, dict) and s.get("name") == name) == 1)
            if usable:
                parts.append(str(name))
            else:
                parts[-1:] = [f"{parts[-1] if parts else ''}[{step}]"]
        elif isinstance(step, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{step}]"]
            node = None
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts)
