"""The wiring: configuration → store → platforms → delivery service → operations, for each command.

Only this module (with `app/panel.py` for the web panel) builds real platforms: the rest of the
code receives them through constructor arguments, so every part can be tested with seams.
Platform libraries are imported only when a platform is in use, so `status`, `plan` and `ask`
never pay their import time.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from adapters.console import console_adapter
from adapters.supervisor import supervise
from app.checks import OnlineProbe
from app.context import Context
from app.feeds import feed_for
from bot.chat.query import QueryEngine
from bot.core.errors import ConfigError, FeedError, StorageError, TokenRefused
from bot.feeds.ingest import Ingestor
from bot.ports import Adapter
from bot.settings.config import Config
from bot.settings.destinations import destination_from_config
from bot.storage.fault import StorageHealth
from bot.storage.lock import holder
from bot.storage.store import Store
from scheduler.operations import Operations, SendMode, SendRequest
from scheduler.outbox import Outbox
from scheduler.service import DeliveryService
from scheduler.worker import TOKEN_REFUSED

__all__ = ["close_all", "console", "ingest_if_empty", "online_probes", "platforms", "query_engine", "report_operations",
           "send_operations", "service", "start_all", "supervise_platform"]

log = logging.getLogger("digestbot")


# ---------------------------------------------------------------------- platforms
def console(config: Config) -> Adapter:
    """The console platform: always there (stdout, and the JSONL log `console.log` names)."""
    return console_adapter(jsonl_path=config.console.log, delay=config.console.delay,
                           log_max_bytes=config.console.log_max_bytes)


def platforms(config: Config, store: Store | None = None) -> dict[str, Adapter]:
    """Build the adapters in use (console always), reading tokens from the environment.

    A platform is in use when a configured destination uses it, when `/subscribe` stored
    a destination on it, or when its token is set and it answers commands: that is how
    a community subscribes in the first place.
    """
    built: dict[str, Adapter] = {"console": console(config)}
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

        built["telegram"] = create_telegram(config)
    if "discord" in used:
        from adapters.discord import create_adapter as create_discord

        built["discord"] = create_discord(config)
    return built


def online_probes(config: Config) -> dict[str, OnlineProbe]:
    """The live check of each platform in use (`check-config --online`), from its adapter."""
    probes: dict[str, OnlineProbe] = {}
    used = config.platforms_in_use()
    if "telegram" in used:
        from adapters.telegram.probe import probe_telegram

        probes["telegram"] = probe_telegram
    if "discord" in used:
        from adapters.discord.probe import probe_discord

        probes["discord"] = probe_discord
    return probes


async def start_all(service: DeliveryService, outlets: Mapping[str, Adapter]) -> None:
    """Connect every sender (for `run --once` and `send`): a refused token is a config error (exit 2)."""
    for adapter in outlets.values():
        await adapter.sender.start()
        lift_token_pauses(service, adapter.name)


async def close_all(outlets: Mapping[str, Adapter]) -> None:
    for adapter in outlets.values():
        with contextlib.suppress(Exception):
            await adapter.close()


# ---------------------------------------------------------------------- token pauses
def lift_token_pauses(service: DeliveryService, platform: str) -> None:
    """The platform logged in: its destinations paused for a refused token may deliver again."""
    states = service.outbox.dest_states()
    for dest in service.destinations().values():
        state = states.get(dest.name)
        if dest.platform == platform and state is not None and \
                (state.paused_reason or "").startswith(TOKEN_REFUSED):
            log.info("destination %s: %s accepted the token again; resuming", dest.name, platform)
            service.outbox.unpause(dest.name)


async def supervise_platform(service: DeliveryService, adapter: Adapter, engine: QueryEngine) -> None:
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
                    on_connected=lambda: lift_token_pauses(service, adapter.name))


# ---------------------------------------------------------------------- the service and its operations
def service(ctx: Context, store: Store, outlets: Mapping[str, Adapter],
            health: StorageHealth | None = None) -> DeliveryService:
    ingestor = Ingestor(store, ctx.config, aliases=ctx.aliases())
    return DeliveryService(ctx.config, store, outlets, ingestor, health=health)


def report_operations(ctx: Context, store: Store | None = None) -> Operations:
    """Operations that read and change state only (status, plan, retry, reset): no platform is
    started, nothing is sent."""
    return Operations(service(ctx, store or ctx.store(), {"console": console(ctx.config)}))


@contextlib.asynccontextmanager
async def send_operations(ctx: Context, request: SendRequest, mode: SendMode) -> AsyncIterator[Operations]:
    """Operations for one `send` of `request`: the store (ingested first if empty, unless only read),
    the destination's platform only (started when this process delivers), closed afterwards."""
    delivers = mode == "own-worker" and not request.dry_run
    read_only = request.dry_run and _dry_run_store(ctx)
    store = ctx.store(read_only=read_only)
    outlets: dict[str, Adapter] = {}
    try:
        if mode != "other-process" and not read_only:
            await ingest_if_empty(ctx, store)
        outlets = _outlets_for(ctx, store, request.destination)
        built = service(ctx, store, outlets)
        target = built.destinations().get(request.destination)
        if delivers and target is not None and target.platform in outlets:
            await start_all(built, {target.platform: outlets[target.platform]})
        yield Operations(built, mode)
    finally:
        if delivers:
            await close_all(outlets)
        store.close()


async def ingest_if_empty(ctx: Context, store: Store, *, quiet: bool = False) -> None:
    """A fresh database first reads the feeds (`send`, `ask`); a feed that fails is logged, or, `quiet`,
    skipped without a word (`ask` then answers from what is stored)."""
    if store.list_issues(limit=1):
        return
    ingestor = Ingestor(store, ctx.config, aliases=ctx.aliases())
    for feed in ctx.config.feeds or [feed_for(ctx, None)]:
        try:
            await ingestor.poll(feed)
        except FeedError as exc:
            if not quiet:
                log.error("feed %s: %s", feed.name, exc.reason)


def query_engine(ctx: Context, store: Store) -> QueryEngine:
    """The engine that answers chat commands (`ask`), with the configured destinations' selections."""
    return QueryEngine(store, ctx.aliases(), ctx.config.default_language,
                       destinations=[destination_from_config(d) for d in ctx.config.destinations],
                       subscriptions=ctx.config.subscriptions)


def _outlets_for(ctx: Context, store: Store, destination: str) -> dict[str, Adapter]:
    """The console and the destination's platform only: another platform's missing token is not this
    send's problem."""
    platform_of = {sub.name: sub.platform for sub in store.subscriptions()}
    platform_of.update({d.name: d.platform for d in ctx.config.destinations})
    only = [d for d in ctx.config.destinations if d.name == destination]
    every = platforms(ctx.config.model_copy(update={"destinations": only}), None if only else store)
    wanted = {"console", platform_of.get(destination, "console")}
    return {name: platform for name, platform in every.items() if name in wanted}


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
