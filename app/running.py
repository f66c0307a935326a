"""`digestbot run`: the long-running composition — the service, the platforms answering commands,
the web face — started together and stopped together (SIGINT/SIGTERM)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3

from app import build
from app.context import Context
from app.panel import panel_state, start_web
from bot import __version__
from bot.chat.commands import COMMANDS
from bot.core.i18n import plural_en
from bot.settings.destinations import destination_from_config
from bot.storage.fault import StorageHealth, probe_write, storage_error
from bot.storage.lock import InstanceLock
from scheduler.operations import Operations

__all__ = ["run_service"]

log = logging.getLogger("digestbot")


async def run_service(ctx: Context, once: bool, lock: InstanceLock | None) -> None:
    """Run until stopped (or, with `once`, poll, deliver what is due, and return)."""
    store = ctx.store()
    try:
        probe_write(store.db.conn, store.path)  # a full disk is one line at start, not a failure later
    except (sqlite3.Error, OSError) as exc:
        store.close()
        raise storage_error(store.path, exc) from exc
    platforms = build.platforms(ctx.config, store)
    health = StorageHealth(store.path, on_change=lock.publish if lock is not None else None)
    service = build.service(ctx, store, platforms, health)
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
            await build.start_all(service, platforms)
            await service.run_once()
            return
        panel = panel_state(ctx.config, Operations(service, "running-service"), engine)
        web_runner = await start_web(ctx.config, store, metrics, lambda: bool(service.scheduler.running), panel)
        serving = [asyncio.create_task(build.supervise_platform(service, adapter, engine),
                                       name=f"serve-{adapter.name}")
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
        await build.close_all(platforms)
        store.close()
        log.info("digestbot stopped")
