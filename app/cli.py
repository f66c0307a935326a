"""`digestbot`: the one composition root that wires engine, scheduler and adapters.

Nothing imports this module; it is the only place that builds real platforms,
the scheduler and the store, so every other part can be tested with seams.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import click

from adapters.console import ConsoleRenderer, console_adapter
from adapters.supervisor import supervise
from adapters.text import utf16_len
from app.checks import (
    OnlineProbe,
    feed_sections,
    fetch_feeds,
    key_warnings,
    newsletter_warnings,
    offline_problems,
    platform_problems,
)
from bot import __version__
from bot.chat.commands import COMMANDS, Query, parse_command
from bot.chat.query import QueryEngine
from bot.core.errors import ConfigError, DigestbotError, FeedError, StorageError, TokenRefused
from bot.core.i18n import plural_en
from bot.core.messages import ErrorAnswer, NotFound
from bot.core.models import Issue
from bot.core.redact import SECRET_FILTER, protect, redact
from bot.feeds.fetch import fetch_feed, parse_feed
from bot.feeds.ingest import Ingestor, poll_summary, split_entries
from bot.ports import Adapter, Destination, Rendered
from bot.settings.config import (
    Config,
    FeedConfig,
    bundled_feed_path,
    config_problems,
    default_config,
    load_config,
    partial_config,
    read_raw,
    resolve_config_path,
)
from bot.settings.destinations import destination_from_config
from bot.splitting.sections import SectionAliases
from bot.storage.fault import StorageHealth, check_storage_path, probe_write, storage_error
from bot.storage.lock import InstanceLock, InstanceLocked, holder
from bot.storage.store import Store
from scheduler.outbox import Outbox
from scheduler.plan import build_plan, plan_json
from scheduler.report import plan_text, status_text
from scheduler.sendnow import hand_over, plan_send, send_to
from scheduler.service import DeliveryService
from scheduler.status import build_status, to_json
from scheduler.worker import TOKEN_REFUSED, DeliveryWorker

log = logging.getLogger("digestbot")

# ---------------------------------------------------------------------- logging
class _DropNotices(logging.Filter):
    """Drops third-party notices an operator cannot act on (discord.py's voice support at every start)."""

    NOTICES = ("PyNaCl is not installed", "davey is not installed")

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.NOTICES)


LogFormat = Literal["text", "json"]
#: Commands that answer on stdout: their log is warnings only (unless -v), so the answer is what shows.
_QUIET_COMMANDS = frozenset({"ask", "preview", "check-config", "status", "plan"})


class _OneLine(logging.Formatter):
    """A record's message only: the tracebacks a library attaches to a platform's error (PTB's "Can not
    load invalid JSON data" for a proxy's error page) are not for the user of a one-shot command."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


def _formatter(log_format: LogFormat, *, brief: bool = False) -> logging.Formatter:
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter("%(levelname)s %(name)s %(message)s", timestamp="time",
                             rename_fields={"levelname": "level", "name": "logger"})
    line = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    return _OneLine(line) if brief else logging.Formatter(line)


def _setup_logging(config: Config, verbose: bool, log_format: LogFormat = "text", quiet: bool = False) -> None:
    """One stderr handler behind the one redaction; quiet (answering) commands log one line per record."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else getattr(logging, config.log_level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_formatter(log_format, brief=quiet and not verbose))
    secrets: list[str] = []
    platforms: tuple[Literal["telegram", "discord"], ...] = ("telegram", "discord")
    for platform in platforms:
        with contextlib.suppress(ConfigError):
            secrets.append(config.secret(platform))
    secrets += [token for token in [config.web.token()] if token]
    handler.addFilter(_DropNotices())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    protect(*secrets)  # the one redaction filter, on this handler and the libraries' loggers
    for noisy in ("httpx", "httpcore", "apscheduler.scheduler", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


# ---------------------------------------------------------------------- context
class Context:
    """Lazily built parts shared by the subcommands."""

    def __init__(self, config_path: str | None, verbose: bool, config: Config | None = None, *,
                 log_format: LogFormat = "text", quiet: bool = False) -> None:
        self.config_path = resolve_config_path(config_path)
        self.verbose = verbose
        self.log_format: LogFormat = log_format
        self.quiet = quiet
        self._config = config
        if config is not None:
            _setup_logging(config, verbose, log_format, quiet)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
            _setup_logging(self._config, self.verbose, self.log_format, self.quiet)
        return self._config

    def store(self, path: str | None = None, *, read_only: bool = False) -> Store:
        return Store(path or self.config.storage.path, read_only=read_only)

    @contextlib.contextmanager
    def single_instance(self, path: str | None = None) -> Iterator[InstanceLock | None]:
        """Held by every command that delivers: one bot per database, or posts go out twice."""
        target = path or self.config.storage.path
        if target == ":memory:":
            yield None
            return
        check_storage_path(target)
        with InstanceLock(target) as lock:
            yield lock

    def aliases(self) -> SectionAliases:
        return SectionAliases(self.config.sections.aliases)


pass_context = click.make_pass_decorator(Context)


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """Known errors become one clear line and exit status 1 (2 for configuration); nothing shows a secret."""
    try:
        yield
    except ConfigError as exc:
        _fail(f"config: {redact(str(exc), SECRET_FILTER.secrets)}", 2)
    except StorageError as exc:
        _fail(redact(str(exc), SECRET_FILTER.secrets), 2)
    except DigestbotError as exc:
        _fail(redact(str(exc), SECRET_FILTER.secrets))
    except Exception as exc:  # a bug: the traceback goes to the (redacting) log at DEBUG, one line to the user
        log.debug("unexpected error", exc_info=exc)
        _fail(redact(f"unexpected {type(exc).__name__}: {exc} (run with -v for details)", SECRET_FILTER.secrets))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", metavar="PATH",
              help="config.toml to use (default: $DIGESTBOT_CONFIG, else ./config.toml, else built-in defaults).")
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              envvar="DIGESTBOT_LOG_FORMAT", help="json: one JSON object per line, for log collectors.")
@click.version_option(__version__, prog_name="digestbot")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: bool, log_format: LogFormat) -> None:
    """digestbot: newsletter issues split into sections, delivered to Telegram and Discord."""
    ctx.obj = Context(config_path, verbose, log_format=log_format, quiet=ctx.invoked_subcommand in _QUIET_COMMANDS)


def _config_option(func: Any) -> Any:
    """Every subcommand also takes --config, after the subcommand name."""
    def callback(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value:
            ctx.find_object(Context).config_path = Path(value)  # type: ignore[union-attr]
    return click.option("--config", "config_path_sub", metavar="PATH", expose_value=False, callback=callback,
                        is_eager=True, help="config.toml to use.")(func)


# ---------------------------------------------------------------------- feeds
def _feed_for(ctx: Context, feed: str | None) -> FeedConfig:
    """The feed `--feed URL|PATH` names: a configured feed at that address keeps its name (and so its
    newsletter settings and its issues' identity), any other is the feed "cli"."""
    if feed:
        url = feed if "://" in feed else str(Path(feed).resolve())
        configured = next((f for f in ctx.config.feeds
                           if (f.url if "://" in f.url else str(Path(f.url).resolve())) == url), None)
        return configured or FeedConfig(name="cli", url=url)
    if ctx.config.feeds:
        return ctx.config.feeds[0]
    return FeedConfig(name="bundled", url=str(bundled_feed_path()))


async def _read_issues(ctx: Context, feed: FeedConfig) -> list[Issue]:
    fetched = await fetch_feed(feed.name, feed.url, timeout=feed.timeout, max_bytes=feed.max_bytes)
    parsed = parse_feed(feed.name, fetched.body, fetched.url)
    return split_entries(parsed.entries, ctx.config, ctx.aliases())


@main.command()
@click.option("--feed", metavar="URL|PATH", help="Ingest this feed instead of the configured ones.")
@_config_option
@pass_context
def ingest(ctx: Context, feed: str | None) -> None:
    """Fetch feeds, split their issues into sections and items, and store them."""
    with _errors():
        feeds = [_feed_for(ctx, feed)] if feed else (ctx.config.feeds or [_feed_for(ctx, None)])
        store = ctx.store()
        ingestor = Ingestor(store, ctx.config, aliases=ctx.aliases())
        failed = False
        for item in feeds:
            try:
                results = asyncio.run(ingestor.poll(item))
            except FeedError as exc:
                click.echo(f"{item.name}: {exc.reason}", err=True)
                failed = True
                continue
            click.echo(f"{item.name}: {poll_summary(results, store.feed_state(item.name))}")
        if failed:
            raise SystemExit(1)


def _issue_json(issue: Issue) -> dict[str, Any]:
    return {
        "id": issue.entry_id, "link": issue.link, "title": issue.title, "language": issue.language,
        "number": issue.number,
        "sections": [
            {"key": s.key, "heading": s.heading,
             "items": [{"title": i.title, "text": i.text, "images": list(i.images), "links": list(i.links)}
                       for i in s.items]}
            for s in issue.sections
        ],
    }


@main.command()
@click.option("--feed", metavar="URL|PATH", help="Feed to read (default: the first configured feed).")
@click.option("--issue", "number", type=int, help="Only this issue number.")
@click.option("--lang", help="Only this language (en, fr, pt-br, zh, tr, es, ar).")
@click.option("--section", "section_key", metavar="KEY", help="Only this section key (e.g. tools_datasets).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per edition.")
@_config_option
@pass_context
def preview(ctx: Context, feed: str | None, number: int | None, lang: str | None, section_key: str | None,
            as_json: bool) -> None:
    """Show how a feed splits into issues, sections and items, without storing anything."""
    with _errors():
        issues = [i for i in asyncio.run(_read_issues(ctx, _feed_for(ctx, feed))) if i.is_newsletter]
        if number is not None:
            issues = [i for i in issues if i.number == number]
        if lang:
            issues = [i for i in issues if i.language == lang.lower()]
        if section_key:
            issues = [_only_section(i, section_key) for i in issues]
        if as_json:
            click.echo(json.dumps([_issue_json(i) for i in issues], ensure_ascii=False, indent=2))
            return
        for issue in issues:
            click.echo(f"{issue.ref.label}  {issue.title}\n  {issue.link}")
            for section in issue.sections:
                click.echo(f"  [{section.key}] {section.heading} — {plural_en(len(section.items), 'item')}")
                for item in section.items:
                    click.echo(f"      • {item.title or (item.text[:70] + '…')}")


def _only_section(issue: Issue, key: str) -> Issue:
    from dataclasses import replace

    return replace(issue, sections=tuple(s for s in issue.sections if s.key == key))


# ---------------------------------------------------------------------- queries
@main.command()
@click.argument("command_line")
@click.option("--lang", default=None, help="The asker's language (default: config default_language).")
@_config_option
@pass_context
def ask(ctx: Context, command_line: str, lang: str | None) -> None:
    """Answer a chat command as the bots would, e.g. digestbot ask "/section outils" --lang fr."""
    with _errors():
        store = ctx.store()
        if not store.list_issues(limit=1):
            ingestor = Ingestor(store, ctx.config, aliases=ctx.aliases())
            for feed in ctx.config.feeds or [_feed_for(ctx, None)]:
                with contextlib.suppress(FeedError):
                    asyncio.run(ingestor.poll(feed))
        engine = QueryEngine(store, ctx.aliases(), ctx.config.default_language,
                             destinations=[destination_from_config(d) for d in ctx.config.destinations],
                             subscriptions=ctx.config.subscriptions)
        query = Query(parse_command(command_line), lang=lang or ctx.config.default_language, platform="console",
                      chat="cli")
        answer = engine.answer(query)

        for part in ConsoleRenderer().render_answer(answer):
            click.echo(part.text)
        if isinstance(answer, ErrorAnswer | NotFound):
            raise SystemExit(1)


# ---------------------------------------------------------------------- config
@main.command("check-config")
@click.option("--online", is_flag=True,
              help="Also call each platform once (bot, chats, topics, channels) and fetch each feed once.")
@_config_option
@pass_context
def check_config(ctx: Context, online: bool) -> None:
    """Validate config.toml and list every problem, one line each starting with its key (exit 2 if any)."""
    with _errors():
        path = ctx.config_path
        if path is None:
            config: Config | None = default_config()
            problems: list[ConfigError] = []
        else:
            config, problems = config_problems(read_raw(path), path.parent)
        usable = config if config is not None else partial_config(read_raw(path), path.parent) if path else None
        warnings: list[str] = []
        if usable is not None:  # every later check runs on the valid parts too: all problems in one list
            # before any platform is called: its libraries' log lines pass the redaction, without traceback
            _setup_logging(usable, ctx.verbose, ctx.log_format, quiet=True)
            bodies: dict[str, bytes] = {}
            if online:
                fetch_errors, bodies = asyncio.run(fetch_feeds(usable))
                problems += fetch_errors
            produced = feed_sections(usable, bodies)
            said = {p.key for p in problems}  # a key already wrong in the file is not judged again against the world
            problems += [p for p in offline_problems(usable, produced) if p.key not in said]
            warnings = key_warnings(usable, produced, online=online) + newsletter_warnings(usable)
            if online:  # the valid parts, on each platform whose own section (and token) has no problem
                broken = {p.key.split(".")[0] for p in problems}
                probes = {k: v for k, v in _online_probes(usable).items() if k not in broken}
                problems += asyncio.run(platform_problems(usable, probes))
        source = path or "built-in defaults"
        for warning in warnings:
            click.echo(f"warning: {warning}", err=True)
        if problems:
            for problem in problems:  # a platform's answer may echo a token: every line passes the one redaction
                click.echo(redact(f"{problem.key}: {problem.reason}", SECRET_FILTER.secrets), err=True)
            click.echo(f"{source}: {plural_en(len(problems), 'problem')}", err=True)
            raise SystemExit(2)
        assert config is not None
        checked = " (online: platforms and feeds answered)" if online else ""
        click.echo(f"{source}: OK — {plural_en(len(config.feeds), 'feed')}, "
                   f"{plural_en(len(config.destinations), 'destination')}{checked}")


def _online_probes(config: Config) -> dict[str, OnlineProbe]:
    """The live check of each platform in use, from its adapter."""
    probes: dict[str, OnlineProbe] = {}
    used = config.platforms_in_use()
    if "telegram" in used:
        from adapters.telegram.probe import probe_telegram

        probes["telegram"] = probe_telegram
    if "discord" in used:
        from adapters.discord.probe import probe_discord

        probes["discord"] = probe_discord
    return probes


# ---------------------------------------------------------------------- delivery
def _console(config: Config) -> Adapter:

    return console_adapter(jsonl_path=config.console.log, delay=config.console.delay,
                           log_max_bytes=config.console.log_max_bytes)


def _platforms(config: Config, store: Store | None = None) -> dict[str, Adapter]:
    """Build the adapters in use (console always), reading tokens from the environment.

    A platform is in use when a configured destination uses it, when `/subscribe` stored
    a destination on it, or when its token is set and it answers commands: that is how
    a community subscribes in the first place.
    """
    platforms: dict[str, Adapter] = {"console": _console(config)}
    used = config.platforms_in_use()
    if store is not None:
        used |= {dest.platform for dest in store.subscriptions()}
    for name, section in (("telegram", config.telegram), ("discord", config.discord)):
        if name in used:
            continue
        try:
            config.secret(name)  # type: ignore[arg-type]
        except ConfigError:
            continue
        if section.commands:
            used.add(name)
    if "telegram" in used:
        from adapters.telegram import create_adapter as create_telegram

        platforms["telegram"] = create_telegram(config)
    if "discord" in used:
        from adapters.discord import create_adapter as create_discord

        platforms["discord"] = create_discord(config)
    return platforms


def _service(ctx: Context, store: Store, platforms: dict[str, Adapter], health: StorageHealth | None = None) -> Any:

    ingestor = Ingestor(store, ctx.config, aliases=ctx.aliases())
    return DeliveryService(ctx.config, store, platforms, ingestor, health=health)


async def _start_all(service: Any, platforms: dict[str, Adapter]) -> None:
    """Connect every sender (for `run --once` and `send`): a refused token is a config error (exit 2)."""
    for adapter in platforms.values():
        await adapter.sender.start()
        _lift_token_pauses(service, adapter.name)


def _lift_token_pauses(service: Any, platform: str) -> None:
    """The platform logged in: its destinations paused for a refused token may deliver again."""

    states = service.outbox.dest_states()
    for dest in service.destinations().values():
        state = states.get(dest.name)
        if dest.platform == platform and state is not None and \
                (state.paused_reason or "").startswith(TOKEN_REFUSED):
            log.info("destination %s: %s accepted the token again; resuming", dest.name, platform)
            service.outbox.unpause(dest.name)


async def _close_all(platforms: dict[str, Adapter]) -> None:
    for adapter in platforms.values():
        with contextlib.suppress(Exception):
            await adapter.close()


async def _run(ctx: Context, once: bool, lock: InstanceLock | None) -> None:
    store = ctx.store()
    try:
        probe_write(store.db.conn, store.path)  # a full disk is one line at start, not a failure later
    except (sqlite3.Error, OSError) as exc:
        store.close()
        raise storage_error(store.path, exc) from exc
    platforms = _platforms(ctx.config, store)
    health = StorageHealth(store.path, on_change=lock.publish if lock is not None else None)
    service = _service(ctx, store, platforms, health)
    from web import MeteredEngine, Metrics

    metrics = Metrics(store, service.outbox, service.destinations, (*COMMANDS, "page"),
                      configured=[d.name for d in ctx.config.destinations])
    engine = MeteredEngine(store, ctx.aliases(), ctx.config.default_language, metrics=metrics,
                           destinations=[destination_from_config(d) for d in ctx.config.destinations],
                           subscriptions=ctx.config.subscriptions)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    serving: list[asyncio.Task[None]] = []
    web_runner = None
    try:
        if once:
            await _start_all(service, platforms)
            await service.run_once()
            return
        web_runner = await _start_web(ctx.config, store, metrics, lambda: bool(service.scheduler.running),
                                      panel=_panel(ctx.config, service, engine))
        serving = [asyncio.create_task(_supervise(service, adapter, engine), name=f"serve-{adapter.name}")
                   for adapter in platforms.values() if adapter.commands is not None]
        log.info("digestbot %s running: %s, platforms %s", __version__, plural_en(len(ctx.config.feeds), "feed"),
                 ", ".join(sorted(platforms)))
        await service.run(stop)
    finally:
        if web_runner is not None:
            await web_runner.cleanup()
        for task in serving:
            task.cancel()
        for task in serving:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await _close_all(platforms)
        store.close()
        log.info("digestbot stopped")


async def _start_web(config: Config, store: Store, metrics: Any, scheduler_running: Any, panel: Any = None) -> Any:
    """`[web] listen`: /healthz and /metrics in this event loop (absent: no HTTP server), and the panel."""
    address = config.web.address
    if address is None:
        return None
    from web import WebState, create_app, start_server

    try:
        return await start_server(create_app(WebState(store, metrics, scheduler_running), panel), *address)
    except OSError as exc:
        raise ConfigError("web.listen", f"cannot listen on {config.web.listen}: {exc.strerror or exc}") from exc


def _panel(config: Config, service: Any, engine: QueryEngine) -> Any:
    """The web panel's parts (the running service, the engine, both platforms' renderers), or None without a token."""
    if config.web.address is None:
        return None
    token = config.web.token()
    if token is None:
        log.warning("web: panel off: set %s to a long random token to serve it (only /healthz and /metrics now)",
                    config.web.token_env)
        return None
    from adapters.discord.render import (
        CONTENT_LIMIT,
        EMBED_TOTAL_LIMIT,
        EMBEDS_PER_MESSAGE,
        DiscordRenderer,
        embed_length,
        section_color,
    )
    from adapters.telegram.render import CAPTION_LIMIT, TEXT_LIMIT, TelegramRenderer
    from web.panel import Measure, PanelState, PreviewFace

    def telegram_sizes(part: Rendered) -> list[Measure]:
        caption = part.kind in ("photo", "media_group")
        limit = CAPTION_LIMIT if caption else TEXT_LIMIT
        return [Measure("caption" if caption else "text", utf16_len(part.text), limit)]

    def discord_sizes(part: Rendered) -> list[Measure]:
        embeds = list(part.payload.get("embeds", ()))
        sizes = [Measure("content", utf16_len(str(part.payload.get("content", ""))), CONTENT_LIMIT)]
        if embeds:
            sizes += [Measure("embeds", len(embeds), EMBEDS_PER_MESSAGE),
                      Measure("embed text", sum(embed_length(e) for e in embeds), EMBED_TOTAL_LIMIT)]
        return sizes

    faces = {"telegram": PreviewFace("telegram", TelegramRenderer().render, telegram_sizes),
             "discord": PreviewFace("discord", DiscordRenderer().render, discord_sizes)}
    return PanelState(token=token, service=service, engine=engine, faces=faces, section_color=section_color)


async def _supervise(service: Any, adapter: Adapter, engine: QueryEngine) -> None:
    """Keep one platform connected and answering commands; an outage or a refused token stops only it.

    A refused token pauses that platform's destinations with the reason (shown by `digestbot
    status`; their queued posts keep their attempts); a later successful login lifts it.
    """

    def destinations() -> list[str]:
        return [d.name for d in service.destinations().values() if d.platform == adapter.name]

    def on_refused(exc: TokenRefused) -> None:
        now = time.time()
        for name in destinations():
            service.outbox.ensure_dest(name, now)
            service.outbox.pause(name, f"{TOKEN_REFUSED}: {exc}", now)

    await supervise(adapter, engine, on_refused=on_refused,
                    on_connected=lambda: _lift_token_pauses(service, adapter.name))


@main.command()
@click.option("--once", is_flag=True, help="Poll, deliver what is due, and exit.")
@_config_option
@pass_context
def run(ctx: Context, once: bool) -> None:
    """Poll feeds, schedule and deliver posts, and answer commands until stopped (SIGINT/SIGTERM)."""
    with _errors():
        if (weak := ctx.config.web.token_problem()) is not None:
            raise weak  # before anything starts: a guessable panel token is never served
        with ctx.single_instance() as lock:
            asyncio.run(_run(ctx, once, lock))


def _report_service(ctx: Context, store: Store | None = None) -> Any:
    """A DeliveryService that only reads (status, plan): no platform is started, nothing is sent."""
    return _service(ctx, store or ctx.store(), {"console": _console(ctx.config)})


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (ISO 8601 times, durations in seconds).")
@_config_option
@pass_context
def status(ctx: Context, as_json: bool) -> None:
    """Feeds (last poll, errors, issues) and destinations (schedule, next run, queue, counts, paused and why)."""
    with _errors():

        store, problem = _status_store(ctx)
        report = build_status(_report_service(ctx, store))
        storage = _storage_status(store.path, problem)
        if as_json:
            click.echo(json.dumps({**to_json(report), "storage": storage}, ensure_ascii=False, indent=2))
        else:
            click.echo(status_text(report))
            click.echo(_storage_text(storage))


def _status_store(ctx: Context) -> tuple[Store, str | None]:
    """The store as `status` reads it: written as usual, or read-only when the disk refuses writes."""
    try:
        return ctx.store(), None
    except StorageError as exc:
        if not Path(exc.path).is_file():
            raise
        return ctx.store(read_only=True), exc.cause


def _storage_status(path: str, own_problem: str | None) -> dict[str, Any]:
    """Who runs on this database and what it says of the disk (see `bot.storage.lock`)."""
    running = holder(path) if path != ":memory:" else None
    problem = running.storage_problem if running else None
    return {
        "path": path, "running_pid": running.pid if running else None,
        "error": problem.cause if problem else own_problem,
        "error_since": _epoch_iso(problem.since) if problem else None,
    }


def _storage_text(storage: dict[str, Any]) -> str:
    running = f"digestbot running as process {storage['running_pid']}" if storage["running_pid"] else "not running"
    line = f"\nStorage\n  {storage['path']} ({running})"
    if storage["error"]:
        since = f" since {storage['error_since']}" if storage["error_since"] else ""
        line += f"\n  CANNOT WRITE: {storage['error']}{since} (posts stay queued; resumes once fixed)"
    return line


def _epoch_iso(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


@main.command()
@click.option("--days", type=click.IntRange(1, 366), default=7, show_default=True, help="How many days ahead to plan.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (ISO 8601 times in each destination's zone).")
@click.option("--at", "at", metavar="ISO-TIME", help="Plan from this time instead of now (e.g. 2026-12-07T09:00Z).")
@_config_option
@pass_context
def plan(ctx: Context, days: int, as_json: bool, at: str | None) -> None:
    """Every delivery planned for the next days, per destination: when, what, and to where."""
    with _errors():

        service = _report_service(ctx)
        # A plan is a function of the deployment's state, not of the second it was asked: from the current
        # minute, so two plans asked moments apart (before and after `send --section`) are byte-identical.
        now = _instant(at) if at else service.clock().replace(second=0, microsecond=0)
        plans = build_plan(service, days, now)
        if as_json:
            click.echo(json.dumps(plan_json(plans, now, days), ensure_ascii=False, indent=2))
        else:
            click.echo(plan_text(plans, days))


def _instant(text: str) -> Any:
    """An ISO 8601 time (UTC when it names no zone), or one clear line."""
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.UsageError(f"--at: {text[:40]!r} is not an ISO 8601 time (e.g. 2026-12-07T09:00Z)") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@main.command()
@click.argument("destination")
@click.option("--issue", "number", type=int, help="Issue number (default: the newest).")
@click.option("--section", "section_key", metavar="KEY", help="Only this section.")
@click.option("--dry-run", is_flag=True, help="Print exactly what would be sent (as the platform gets it).")
@_config_option
@pass_context
def send(ctx: Context, destination: str, number: int | None, section_key: str | None, dry_run: bool) -> None:
    """Push an issue (or one section of it) to one destination now and report each post (exit 1 if any failed).

    The issue is picked among the destination's own feeds and languages (its newest by default).
    `--section` sends that section alone and leaves the schedule as it was. `--dry-run` prints
    exactly the posts a real send posts and only reads the database. While `digestbot run` runs,
    a real send hands its posts to it through the outbox and waits for their outcome.
    """
    with _errors():
        if dry_run:
            for planned in asyncio.run(_plan_send(ctx, destination, number, section_key)):
                click.echo(f"── {destination} ← {planned.label} ({plural_en(len(planned.parts), 'message')})")
                for i, part in enumerate(planned.parts, 1):
                    click.echo(f"[{i}/{len(planned.parts)}] {part.kind}")
                    click.echo(json.dumps(dict(part.payload), ensure_ascii=False, indent=2)
                               if part.payload else part.text)
            click.echo(f"{destination}: dry run, nothing sent")
            return
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(ctx.single_instance())
                running: int | None = None
            except InstanceLocked as exc:
                running = exc.pid or -1
            if running is None:
                report = asyncio.run(_send(ctx, destination, number, section_key))
            else:
                click.echo(f"{destination}: digestbot is running (process {running}); handing the posts to it",
                           err=True)
                report = asyncio.run(_hand_over(ctx, destination, number, section_key))
        if not report.posts:
            click.echo(f"{destination}: nothing new to send for {report.edition} (already queued or delivered; "
                       "--section KEY sends one section again)")
            return
        for post in report.posts:
            outcome = "delivered" if post.state == "delivered" else f"{post.state}: {post.reason}"
            click.echo(f"{destination} ← {post.label} ({plural_en(post.messages, 'message')}): {outcome}")
        delivered = sum(1 for post in report.posts if post.state == "delivered")
        click.echo(f"{destination}: {delivered} of {plural_en(len(report.posts), 'post')} delivered")
        if not report.ok:
            raise SystemExit(1)


async def _send_parts(ctx: Context, destination: str, *, read_only: bool = False,
                      ingest: bool = True) -> tuple[Store, dict[str, Adapter], Any]:
    """The store (ingested first if empty, unless read-only), the destination's platform only, and the service."""
    store = ctx.store(read_only=read_only)
    if ingest and not read_only and not store.list_issues(limit=1):
        ingestor = Ingestor(store, ctx.config, aliases=ctx.aliases())
        for feed in ctx.config.feeds or [_feed_for(ctx, None)]:
            try:
                await ingestor.poll(feed)
            except FeedError as exc:
                log.error("feed %s: %s", feed.name, exc.reason)
    # Build only the destination's platform: another platform's missing token is not this send's problem.
    platform_of = {sub.name: sub.platform for sub in store.subscriptions()}
    platform_of.update({d.name: d.platform for d in ctx.config.destinations})
    only = [d for d in ctx.config.destinations if d.name == destination]
    every = _platforms(ctx.config.model_copy(update={"destinations": only}), None if only else store)
    wanted = {"console", platform_of.get(destination, "console")}
    platforms = {name: platform for name, platform in every.items() if name in wanted}
    return store, platforms, _service(ctx, store, platforms)


def _dry_run_store(ctx: Context) -> bool:
    """Whether the dry run can read the database read-only: it exists, holds issues and every table
    (always so beside a running `run`); a fresh one is first given its schema and the feeds' issues."""

    path = ctx.config.storage.path
    if path == ":memory:" or not Path(path).is_file():
        return False
    if holder(path) is not None:
        return True
    try:
        with contextlib.closing(ctx.store(read_only=True)) as store:
            Outbox(store.db)  # writes nothing when every table is there; raises when it would have to
            return bool(store.list_issues(limit=1))
    except (sqlite3.Error, StorageError):
        return False


async def _plan_send(ctx: Context, destination: str, number: int | None, section_key: str | None) -> list[Any]:

    store, platforms, service = await _send_parts(ctx, destination, read_only=_dry_run_store(ctx))
    try:
        return plan_send(service.planner, service.matcher, service.destinations(), platforms, destination,
                         number, section_key)
    finally:
        store.close()


async def _hand_over(ctx: Context, destination: str, number: int | None, section_key: str | None) -> Any:
    """`send` beside a running `run`: enqueue in the shared outbox; the running service delivers."""

    store, platforms, service = await _send_parts(ctx, destination, ingest=False)
    try:
        return await hand_over(service.planner, service.matcher, service.destinations(), platforms, destination,
                               number, section_key, clock=service._now)
    finally:
        store.close()


async def _send(ctx: Context, destination: str, number: int | None, section_key: str | None) -> Any:

    store, platforms, service = await _send_parts(ctx, destination)

    def worker_for(dest: Destination) -> DeliveryWorker:
        senders = {name: adapter.sender for name, adapter in platforms.items()}
        return DeliveryWorker(service.outbox, senders, lambda: {dest.name: dest}, ctx.config.delivery,
                              service._now, on_sent=lambda row: service.planner.react({dest.name: dest}),
                              describe=service.describe)

    try:
        target = service.destinations().get(destination)
        if target is not None and target.platform in platforms:
            await _start_all(service, {target.platform: platforms[target.platform]})
        return await send_to(service.planner, service.matcher, service.destinations(), platforms, worker_for,
                             destination, number, section_key, clock=service._now)
    finally:
        await _close_all(platforms)
        store.close()


@main.command()
@click.argument("destination")
@_config_option
@pass_context
def reset(ctx: Context, destination: str) -> None:
    """Drop a `/subscribe` override: DESTINATION receives config.toml's selection again (works beside `run`)."""
    with _errors():
        with contextlib.closing(ctx.store()) as store:
            dest = _service(ctx, store, {"console": _console(ctx.config)}).reset(destination)
        click.echo(f"{destination}: /subscribe override dropped; now {dest.schedule.words()}, sections "
                   f"{', '.join(dest.sections)} (from config.toml)")


@main.command()
@click.argument("destination")
@_config_option
@pass_context
def retry(ctx: Context, destination: str) -> None:
    """Un-pause a destination and make its dead, failed and parked posts due now (works beside `run`)."""
    with _errors():
        store = ctx.store()
        service = _service(ctx, store, {"console": _console(ctx.config)})
        click.echo(f"{destination}: {plural_en(service.retry(destination), 'post')} re-queued")


@main.command()
@click.option("--db", "db_path", default="digestbot-demo.db", show_default=True, help="SQLite file to (re)create.")
@click.option("--issue", "number", type=int, default=4, show_default=True)
@click.option("--lang", default="fr", show_default=True)
def demo(db_path: str, number: int, lang: str) -> None:
    """Offline demo: the bundled feed → SQLite → the outbox → the console, one post per section."""
    defaults = default_config()
    console = defaults.destinations[0].model_copy(update={"languages": [lang.lower()]})
    ctx = Context(None, False, defaults.model_copy(update={
        "storage": defaults.storage.model_copy(update={"path": db_path}), "destinations": [console]}))
    with _errors(), ctx.single_instance():
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(db_path + suffix)
        store = ctx.store()
        ingestor = Ingestor(store, ctx.config, aliases=ctx.aliases())
        results = asyncio.run(ingestor.poll(ctx.config.feeds[0]))
        click.echo(f"Ingested {len(results)} newsletter editions from the bundled feed into {db_path}.\n")
        store.close()
        report = asyncio.run(_send(ctx, "console", number, None))
        count = sum(post.messages for post in report.posts if post.state == "delivered")
    click.echo(f"\n{plural_en(count, 'message')} delivered to the console for issue #{number} ({lang.upper()}).")


if __name__ == "__main__":
    main()
