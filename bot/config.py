"""config.toml: the one file a maintainer edits, validated with errors that name the key.

Secrets never live here: the file names the environment variable (`token_env`)
or a file (`token_file`) that holds the token, and `Config.secret()` reads it.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import typing
import zoneinfo
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from bot.cleantext import clean_text
from bot.errors import ConfigError
from bot.filters import MAX_TERMS, term_problem
from bot.i18n import supported_languages
from bot.language import KNOWN as KNOWN_LANGUAGES
from bot.presentation import MIN_ITEM_CHARS
from bot.regexcheck import unsafe_regex_reason
from bot.schedule import ScheduleError, parse_schedule

__all__ = [
    "Config",
    "DestinationConfig",
    "DiscordConfig",
    "FeedConfig",
    "TelegramConfig",
    "WebConfig",
    "bundled_feed_path",
    "config_problems",
    "did_you_mean",
    "looks_like_token",
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
_TOKEN_LIKE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}|[A-Za-z0-9_-]{23,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{25,}")
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


def looks_like_token(value: str) -> bool:
    """A Telegram (`123456:AA…`) or Discord (`xxx.yyy.zzz`) bot token: never echo it back."""
    return bool(_TOKEN_LIKE.search(value))


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
    """Line breaks, tabs, or anything `bot.cleantext` would strip (control, bidi, invisible marks)."""
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


class FeedConfig(_Strict):
    name: str
    url: str
    poll_interval: float = 1800.0
    timeout: float = 20.0
    max_bytes: int = Field(default=20 * 1024 * 1024, ge=1, le=1024**3)
    # An issue with more sections or items than this is stored but not delivered (bot.ingest.SizeLimits).
    max_sections: int = Field(default=40, ge=1, le=100_000)
    max_items: int = Field(default=400, ge=1, le=1_000_000)

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


class NewsletterConfig(_Strict):
    """The newsletter's name, and how to tell its issues from other posts of the same feed.

    `name` labels every issue ("This Week in Rust #635"); unset, the feed's `<title>` does.
    `title_pattern` is for mixed feeds only: set, an entry is an issue when its title matches
    it (or two of its sections are known ones); unset, issues are recognised by the sections
    most of the feed's entries share (see `bot.detect`).
    """

    name: str | None = None
    title_pattern: str | None = None
    min_sections: int = 3

    @field_validator("title_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is None:
            return value
        reason = unsafe_regex_reason(value)
        if reason:
            raise ValueError(reason)
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


#: Image modes per platform, the default first.
IMAGE_MODES: dict[str, tuple[str, ...]] = {"telegram": ("none", "first", "all"),
                                           "discord": ("thumbnail", "full", "none"), "console": ("none",)}


class DestinationConfig(_Strict):
    """One place posts go to. Platform options are optional and platform-specific."""

    name: str
    platform: Literal["telegram", "discord", "console"]
    chat: str = ""
    channel: str = ""
    languages: list[str] = Field(default_factory=list)
    sections: list[str] = Field(default_factory=lambda: ["*"])
    schedule: str = "on_publish"
    timezone: str = "UTC"
    on_edit: Literal["ignore", "edit", "repost"] = "ignore"
    backfill: int = Field(default=1, ge=0, le=1000)
    feeds: list[str] = Field(default_factory=list)
    # Topic filters (bot/filters.py): words or phrases, case- and accent-insensitive, never regexes
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
    # Presentation (bot/presentation.py) and drip pacing
    compact: bool = False
    max_item_chars: int | None = Field(default=None, ge=MIN_ITEM_CHARS, le=4000)
    per_tick: int = Field(default=1, ge=1, le=50)

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
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r} (use an IANA name like 'Europe/Paris')") from exc
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        """The one schedule parser (bot/schedule.py): config accepts exactly what the scheduler runs."""
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
        """Mentions exist on Discord only."""
        if (self.mention_role or self.mention_roles) and self.platform != "discord":
            raise ValueError("mention_role and mention_roles are Discord options (role ids)")
        return self

    @model_validator(mode="after")
    def _target(self) -> DestinationConfig:
        if self.platform == "telegram" and not self.chat:
            raise ValueError("a telegram destination needs 'chat' (@channelusername or -100…)")
        if self.platform == "discord" and not self.channel:
            raise ValueError("a discord destination needs 'channel' (the channel id)")
        return self

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

    def platforms_in_use(self) -> set[str]:
        return {d.platform for d in self.destinations}


def default_config() -> Config:
    """Embedded defaults: the bundled snapshot, a local SQLite file, the console adapter."""
    return Config(
        storage=StorageConfig(path="digestbot.db"),
        feeds=[FeedConfig(name="nlp-newsletter", url=str(bundled_feed_path()))],
        newsletter=NewsletterConfig(name="NLP Newsletter"),
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
        more = f" (and {len(problems) - 1} more problem(s): run `digestbot check-config`)" if len(problems) > 1 else ""
        raise ConfigError(first.key, first.reason + more)
    assert config is not None
    return config


def config_problems(raw: dict[str, Any], base: Path | None = None) -> tuple[Config | None, list[ConfigError]]:
    """Every problem of a parsed config.toml at once, each naming its key; the Config if none.

    Field checks run in the models (pydantic reports all of them in one pass); checks that
    span several tables (duplicate names, feeds a destination names) run on the raw
    document so that they are reported even when some field elsewhere is wrong.
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
    problems.extend(_cross_problems(cleaned))
    problems = [ConfigError(p.key, _redact(p.reason)) for p in problems]
    if problems or config is None:
        return None, problems
    return _resolve_feeds(config, base), []


def partial_config(raw: dict[str, Any], base: Path | None = None) -> Config:
    """The valid parts of a config that has problems, so later checks can still look at them.

    Each feed and destination table is validated on its own and kept when it is valid; a
    top-level table with a problem falls back to its defaults. `check-config` uses it to
    report the problems of the valid parts too (a missing feed file next to a bad URL).
    """
    def valid(model: type[BaseModel], value: Any) -> Any:
        try:
            return model.model_validate(value)
        except ValidationError:
            return None

    fields: dict[str, Any] = {}
    for key in ("storage", "newsletter", "sections", "telegram", "discord", "delivery", "web"):
        if isinstance(raw.get(key), dict):
            model = Config.model_fields[key].annotation
            assert isinstance(model, type) and issubclass(model, BaseModel)
            item = valid(model, {k: v for k, v in raw[key].items() if k != "token"})
            if item is not None:
                fields[key] = item
    tables: list[Any]
    for key, model in (("feeds", FeedConfig), ("destinations", DestinationConfig)):
        value = raw.get(key)
        tables = value if isinstance(value, list) else []
        items = [valid(model, table) for table in tables]
        names = [getattr(item, "name", None) for item in items]
        fields[key] = [item for item in items if item is not None and names.count(item.name) == 1]
    config = Config.model_construct(**fields)
    return _resolve_feeds(config, base)


def _resolve_feeds(config: Config, base: Path | None) -> Config:
    if base is None:
        return config
    feeds = [f if "://" in f.url or Path(f.url).is_absolute() else f.model_copy(update={"url": str(base / f.url)})
             for f in config.feeds]
    return config.model_copy(update={"feeds": feeds})


def _redact(text: str) -> str:
    return _TOKEN_LIKE.sub("[REDACTED]", text)


def _pydantic_problems(raw: dict[str, Any], exc: ValidationError) -> list[ConfigError]:
    problems: list[ConfigError] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        key = _key_path(raw, loc)
        reason = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            reason = "unknown key" + did_you_mean(str(loc[-1]), _fields_at(loc[:-1]))
        elif error["type"] == "missing":
            reason = "missing (required)"
        problems.append(ConfigError(key, reason))
    return problems


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
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


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
