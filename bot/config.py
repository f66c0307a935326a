"""config.toml: the one file a maintainer edits, validated with errors that name the key.

Secrets never live here: the file names the environment variable (`token_env`)
or a file (`token_file`) that holds the token, and `Config.secret()` reads it.
"""

from __future__ import annotations

import os
import re
import tomllib
import zoneinfo
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.errors import ConfigError

__all__ = [
    "Config",
    "DestinationConfig",
    "DiscordConfig",
    "FeedConfig",
    "TelegramConfig",
    "bundled_feed_path",
    "load_config",
    "parse_duration",
    "resolve_config_path",
]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_CRON_FIELDS = 5


def parse_duration(value: str | int | float) -> float:
    """Seconds in "30m", "1h", "45s", "2d" or a bare number of seconds."""
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("must not be negative")
        return float(value)
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a duration such as '30m', '1h', '45s'")
    return float(match.group(1)) * _UNITS[match.group(2)]


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
    max_bytes: int = 20 * 1024 * 1024
    # An issue with more sections or items than this is stored but not delivered (bot.ingest.SizeLimits).
    max_sections: int = Field(default=40, ge=1)
    max_items: int = Field(default=400, ge=1)

    @field_validator("poll_interval", "timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value)

    @field_validator("poll_interval")
    @classmethod
    def _min_interval(cls, value: float) -> float:
        if value < 10:
            raise ValueError("must be at least 10s, to be polite to the feed's server")
        return value


class NewsletterConfig(_Strict):
    """How to tell a newsletter entry from any other post of the same feed."""

    title_pattern: str = r"(?i)newsletter|简报|boletín|bülten|نشرة|البريدية"
    min_sections: int = 3

    @field_validator("title_pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value


class SectionsConfig(_Strict):
    """Extra heading aliases per canonical key, e.g. aliases.tools_datasets = ["Outillage"]."""

    aliases: dict[str, list[str]] = Field(default_factory=dict)


class TelegramConfig(_Strict):
    token_env: str = "TELEGRAM_BOT_TOKEN"
    token_file: str | None = None
    api_base_url: str = "https://api.telegram.org/bot"
    file_base_url: str | None = None
    commands: bool = True


class DiscordConfig(_Strict):
    token_env: str = "DISCORD_BOT_TOKEN"
    token_file: str | None = None
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str = ""
    application_id: str | None = None
    commands: bool = True


class DeliveryConfig(_Strict):
    """Outbox tuning: retries, backoff and spacing between posts."""

    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_base: float = 2.0
    backoff_max: float = 900.0
    spacing: float = 0.0
    misfire_grace_time: float = 3600.0

    @field_validator("backoff_base", "backoff_max", "spacing", "misfire_grace_time", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value)


_SCHEDULE = re.compile(r"^(on_publish|(cron|digest)\s+.+)$")


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
    # Telegram options
    link_preview: bool = False
    images: Literal["none", "first", "all"] = "none"
    topic: int | None = None
    topics: dict[str, int] = Field(default_factory=dict)
    index: bool = True
    # Discord options
    format: Literal["embeds", "text"] = "embeds"
    thread: bool = False

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
        value = " ".join(value.split())
        match = _SCHEDULE.match(value)
        if not match:
            raise ValueError(
                f"{value!r} is not a schedule: use 'on_publish', 'cron <5 fields>' or 'digest <5 fields>'"
            )
        if match.group(2):
            expression = value.split(" ", 1)[1]
            _check_cron(expression)
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        return [lang.strip().lower() for lang in value if lang.strip()]

    @model_validator(mode="after")
    def _target(self) -> DestinationConfig:
        if self.platform != "console" and not (self.chat or self.channel):
            raise ValueError(f"destination {self.name!r} needs 'chat' (Telegram) or 'channel' (Discord)")
        return self

    @property
    def target(self) -> str:
        return self.chat or self.channel or self.name


def _check_cron(expression: str) -> None:
    """Shape only; the scheduler package checks each field's values with APScheduler
    (`scheduler.jobs.validate_schedules`), since the engine never imports it."""
    if len(expression.split()) != _CRON_FIELDS:
        raise ValueError(f"cron {expression!r} must have 5 fields: minute hour day month day_of_week")


class Config(_Strict):
    storage: StorageConfig = Field(default_factory=StorageConfig)
    feeds: list[FeedConfig] = Field(default_factory=list)
    newsletter: NewsletterConfig = Field(default_factory=NewsletterConfig)
    sections: SectionsConfig = Field(default_factory=SectionsConfig)
    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    discord: DiscordConfig = Field(default_factory=DiscordConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    destinations: list[DestinationConfig] = Field(default_factory=list)
    default_language: str = "en"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        for kind, names in (("feeds", [f.name for f in self.feeds]),
                            ("destinations", [d.name for d in self.destinations])):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise ValueError(f"{kind}: name {name!r} is used twice")
                seen.add(name)
        feed_names = {f.name for f in self.feeds}
        for dest in self.destinations:
            for feed in dest.feeds:
                if feed not in feed_names:
                    raise ValueError(f"destinations.{dest.name}.feeds: unknown feed {feed!r}")
        return self

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


def load_config(path: Path | None) -> Config:
    """Read and validate a config file; `None` gives the embedded defaults.

    Raises:
        ConfigError: naming the first bad key (`destinations[0].timezone`) and why.
    """
    if path is None:
        return default_config()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(str(path), "file not found") from exc
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"not valid TOML: {exc}") from exc
    if "token" in raw.get("telegram", {}) or "token" in raw.get("discord", {}):
        raise ConfigError("token", "tokens must not be written in config.toml: set token_env or token_file")
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = _key_path(raw, error["loc"])
        reason = error["msg"]
        if error["type"] == "extra_forbidden":
            reason = "unknown key"
        raise ConfigError(key, reason.removeprefix("Value error, ")) from exc
    base = path.parent
    feeds = [
        f if "://" in f.url or Path(f.url).is_absolute() else f.model_copy(update={"url": str(base / f.url)})
        for f in config.feeds
    ]
    return config.model_copy(update={"feeds": feeds})


def _key_path(raw: Any, loc: tuple[int | str, ...]) -> str:
    """`destinations.fr-telegram.timezone` rather than `destinations.0.timezone` where we can."""
    parts: list[str] = []
    node = raw
    for step in loc:
        if isinstance(step, int) and isinstance(node, list) and step < len(node):
            node = node[step]
            name = node.get("name") if isinstance(node, dict) else None
            parts.append(str(name) if name else f"[{step}]")
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts)
