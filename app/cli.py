"""`digestbot`: the click commands, a thin layer over the composition root.

Each command parses its arguments, asks `app.build` for the parts it needs (the operations
service for `send/status/plan/retry/reset`, the ingestor for `ingest`, the engine for `ask`),
calls them, and prints the answer. The wiring lives in `app.build`, `app.panel` and `app.running`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar, assert_never

import click

from adapters.console import ConsoleRenderer
from app import build
from app.configcheck import check_config_file
from app.context import Context, errors
from app.feeds import PreviewRequest, feed_for, issue_json, preview_issues
from app.logs import QUIET_COMMANDS, LogFormat
from app.running import run_service
from app.storage import status_store, storage_status, storage_text
from bot import __version__
from bot.chat.commands import Query, parse_command
from bot.core.errors import FeedError
from bot.core.i18n import plural_en
from bot.core.messages import ErrorAnswer, NotFound
from bot.core.redact import SECRET_FILTER, redact
from bot.feeds.ingest import Ingestor, poll_summary
from bot.settings.config import default_config
from bot.storage.lock import InstanceLocked
from scheduler.forecast import plan_json
from scheduler.operations import DryRun, SendMode, SendReport, SendRequest
from scheduler.status import to_json
from scheduler.terminal import plan_text, status_text

pass_context = click.make_pass_decorator(Context)
Command = TypeVar("Command", bound=Callable[..., object])


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
    ctx.obj = Context(config_path, verbose, log_format=log_format, quiet=ctx.invoked_subcommand in QUIET_COMMANDS)


def _config_option(func: Command) -> Command:
    """Every subcommand also takes --config, after the subcommand name."""
    def callback(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value:
            ctx.find_object(Context).config_path = Path(value)  # type: ignore[union-attr]
    return click.option("--config", "config_path_sub", metavar="PATH", expose_value=False, callback=callback,
                        is_eager=True, help="config.toml to use.")(func)


# ---------------------------------------------------------------------- feeds
@main.command()
@click.option("--feed", metavar="URL|PATH", help="Ingest this feed instead of the configured ones.")
@_config_option
@pass_context
def ingest(ctx: Context, feed: str | None) -> None:
    """Fetch feeds, split their issues into sections and items, and store them."""
    with errors():
        feeds = [feed_for(ctx, feed)] if feed else (ctx.config.feeds or [feed_for(ctx, None)])
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
    with errors():
        issues = asyncio.run(preview_issues(ctx, PreviewRequest(feed, number, lang, section_key)))
        if as_json:
            click.echo(json.dumps([issue_json(i) for i in issues], ensure_ascii=False, indent=2))
            return
        for issue in issues:
            click.echo(f"{issue.ref.label}  {issue.title}\n  {issue.link}")
            for section in issue.sections:
                click.echo(f"  [{section.key}] {section.heading} — {plural_en(len(section.items), 'item')}")
                for item in section.items:
                    click.echo(f"      • {item.title or (item.text[:70] + '…')}")


# ---------------------------------------------------------------------- queries
@main.command()
@click.argument("command_line")
@click.option("--lang", default=None, help="The asker's language (default: config default_language).")
@_config_option
@pass_context
def ask(ctx: Context, command_line: str, lang: str | None) -> None:
    """Answer a chat command as the bots would, e.g. digestbot ask "/section outils" --lang fr."""
    with errors():
        store = ctx.store()
        asyncio.run(build.ingest_if_empty(ctx, store, quiet=True))
        query = Query(parse_command(command_line), lang=lang or ctx.config.default_language, platform="console",
                      chat="cli")
        answer = build.query_engine(ctx, store).answer(query)
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
    with errors():
        report = check_config_file(ctx, online)
        source, config, problems = report.source, report.config, report.problems
        for warning in report.warnings:
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


# ---------------------------------------------------------------------- delivery
@main.command()
@click.option("--once", is_flag=True, help="Poll, deliver what is due, and exit.")
@_config_option
@pass_context
def run(ctx: Context, once: bool) -> None:
    """Poll feeds, schedule and deliver posts, and answer commands until stopped (SIGINT/SIGTERM)."""
    with errors():
        if (weak := ctx.config.web.token_problem()) is not None:
            raise weak  # before anything starts: a guessable panel token is never served
        with ctx.single_instance() as lock:
            asyncio.run(run_service(ctx, once, lock))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (ISO 8601 times, durations in seconds).")
@_config_option
@pass_context
def status(ctx: Context, as_json: bool) -> None:
    """Feeds (last poll, errors, issues) and destinations (schedule, next run, queue, counts, paused and why)."""
    with errors():
        store, problem = status_store(ctx)
        report = build.report_operations(ctx, store).status()
        storage = storage_status(store.path, problem)
        if as_json:
            click.echo(json.dumps({**to_json(report), "storage": storage}, ensure_ascii=False, indent=2))
        else:
            click.echo(status_text(report))
            click.echo(storage_text(storage))


@main.command()
@click.option("--days", type=click.IntRange(1, 366), default=7, show_default=True, help="How many days ahead to plan.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (ISO 8601 times in each destination's zone).")
@click.option("--at", "at", metavar="ISO-TIME", help="Plan from this time instead of now (e.g. 2026-12-07T09:00Z).")
@_config_option
@pass_context
def plan(ctx: Context, days: int, as_json: bool, at: str | None) -> None:
    """Every delivery planned for the next days, per destination: when, what, and to where."""
    with errors():
        operations = build.report_operations(ctx)
        # A plan is a function of the deployment's state, not of the second it was asked: from the current
        # minute, so two plans asked moments apart (before and after `send --section`) are byte-identical.
        now = _instant(at) if at else operations.service.clock().replace(second=0, microsecond=0)
        plans = operations.plan(days, now)
        if as_json:
            click.echo(json.dumps(plan_json(plans, now, days), ensure_ascii=False, indent=2))
        else:
            click.echo(plan_text(plans, days))


def _instant(text: str) -> datetime:
    """An ISO 8601 time (UTC when it names no zone), or one clear line."""
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
    request = SendRequest(destination, number, section_key, dry_run)
    with errors():
        with contextlib.ExitStack() as stack:
            mode: SendMode = "own-worker" if dry_run else _who_delivers(ctx, stack, destination)
            outcome = asyncio.run(_send(ctx, request, mode))
        match outcome:
            case DryRun():
                _print_dry_run(outcome)
            case SendReport():
                _print_report(outcome)
            case _:
                assert_never(outcome)


def _who_delivers(ctx: Context, stack: contextlib.ExitStack[bool | None], destination: str) -> SendMode:
    """This process (holding the one-instance lock until the send is over), or the `run` that holds it."""
    try:
        stack.enter_context(ctx.single_instance())
        return "own-worker"
    except InstanceLocked as exc:
        click.echo(f"{destination}: digestbot is running (process {exc.pid or -1}); handing the posts to it",
                   err=True)
        return "other-process"


async def _send(ctx: Context, request: SendRequest, mode: SendMode) -> SendReport | DryRun:
    async with build.send_operations(ctx, request, mode) as operations:
        return await operations.send(request)


def _print_dry_run(outcome: DryRun) -> None:
    for planned in outcome.posts:
        click.echo(f"── {outcome.destination} ← {planned.label} ({plural_en(len(planned.parts), 'message')})")
        for i, part in enumerate(planned.parts, 1):
            click.echo(f"[{i}/{len(planned.parts)}] {part.kind}")
            click.echo(json.dumps(dict(part.payload), ensure_ascii=False, indent=2) if part.payload else part.text)
    click.echo(f"{outcome.destination}: dry run, nothing sent")


def _print_report(report: SendReport) -> None:
    """Each post and its outcome, then the count; exit 1 if any post was not delivered."""
    destination = report.destination
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


@main.command()
@click.argument("destination")
@_config_option
@pass_context
def reset(ctx: Context, destination: str) -> None:
    """Drop a `/subscribe` override: DESTINATION receives config.toml's selection again (works beside `run`)."""
    with errors():
        with contextlib.closing(ctx.store()) as store:
            dest = build.report_operations(ctx, store).reset(destination)
        click.echo(f"{destination}: /subscribe override dropped; now {dest.schedule.words()}, sections "
                   f"{', '.join(dest.sections)} (from config.toml)")


@main.command()
@click.argument("destination")
@_config_option
@pass_context
def retry(ctx: Context, destination: str) -> None:
    """Un-pause a destination and make its dead, failed and parked posts due now (works beside `run`)."""
    with errors():
        count = build.report_operations(ctx).retry(destination)
        click.echo(f"{destination}: {plural_en(count, 'post')} re-queued")


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
    with errors(), ctx.single_instance():
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(db_path + suffix)
        store = ctx.store()
        ingestor = Ingestor(store, ctx.config, aliases=ctx.aliases())
        results = asyncio.run(ingestor.poll(ctx.config.feeds[0]))
        click.echo(f"Ingested {len(results)} newsletter editions from the bundled feed into {db_path}.\n")
        store.close()
        report = asyncio.run(_send(ctx, SendRequest("console", number), "own-worker"))
        assert isinstance(report, SendReport)
        count = sum(post.messages for post in report.posts if post.state == "delivered")
    click.echo(f"\n{plural_en(count, 'message')} delivered to the console for issue #{number} ({lang.upper()}).")


if __name__ == "__main__":
    main()
