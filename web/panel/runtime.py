"""Destinations created at run time (the kind `/subscribe` stores): create, edit, remove them in the panel.

A form is validated by `DestinationConfig`, the model `check-config` validates
`[[destinations]]` with (its schedule by `bot.contract.schedule`, the parser the scheduler runs),
and the schedule's next five fire times are shown before saving. Destinations from
config.toml are read-only here: editing one shows the TOML of the edited copy to paste.
The running service sees a saved destination within a second (it watches the
subscriptions' version), as it does after a `/subscribe`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web
from pydantic import ValidationError

from bot.contract.destination import Change
from bot.contract.schedule import OnPublish, ScheduleError, parse_schedule
from bot.ports import Destination
from bot.settings.config import DestinationConfig
from bot.settings.destinations import destination_from_config
from web.panel.access import SESSION
from web.panel.filtertest import FilterTrial, newest_issue, try_filters
from web.panel.templating import PANEL, page

if TYPE_CHECKING:
    from scheduler.service import DeliveryService

__all__ = ["delete", "edit_form", "new_form", "save"]

_FIRES = 5
_PICKUP_CHECKS = 60
_PICKUP_WAIT = 0.05
_FIELDS = ("name", "platform", "target", "languages", "sections", "schedule", "timezone", "include", "exclude")


@dataclass(frozen=True, slots=True)
class DestinationForm:
    """The form's fields as typed (strings), so a refused form comes back as the user left it."""

    name: str = ""
    platform: str = "telegram"
    target: str = ""
    languages: str = ""
    sections: str = "*"
    schedule: str = "on_publish"
    timezone: str = "UTC"
    include: str = ""  # one term per line
    exclude: str = ""

    @classmethod
    def of(cls, dest: Destination) -> DestinationForm:
        return cls(dest.name, dest.platform, dest.chat, " ".join(dest.languages), " ".join(dest.sections),
                   dest.schedule.text, dest.timezone, "\n".join(dest.filters.include), "\n".join(dest.filters.exclude))

    @classmethod
    def posted(cls, form: Mapping[str, Any]) -> DestinationForm:
        return cls(**{key: str(form.get(key, "")).strip() for key in _FIELDS})

    def raw(self) -> dict[str, Any]:
        """The `[[destinations]]` table this form describes."""
        data: dict[str, Any] = {"name": self.name, "platform": self.platform,
                                "languages": self.languages.replace(",", " ").split(),
                                "sections": self.sections.replace(",", " ").split() or ["*"],
                                "schedule": self.schedule, "timezone": self.timezone or "UTC"}
        for key in ("include", "exclude"):
            terms = [t.strip() for t in getattr(self, key).splitlines() if t.strip()]
            if terms:
                data[key] = terms
        if self.platform == "discord":
            data["channel"] = self.target
        elif self.platform == "telegram":
            data["chat"] = self.target
        return data


def _problems(exc: ValidationError) -> list[str]:
    """One line per problem, each naming its field (as `check-config` does)."""
    lines = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "destination"
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{where}: {message}")
    return lines


def next_fires(schedule: str, timezone: str, now: datetime) -> list[datetime]:
    """The next five times the schedule fires, in its zone (none for on_publish)."""
    parsed = parse_schedule(schedule, timezone)
    return [] if isinstance(parsed, OnPublish) else list(itertools.islice(parsed.fires(now), _FIRES))


def toml_table(config: DestinationConfig) -> str:
    """The `[[destinations]]` table of `config` with its non-default keys, ready to paste into config.toml."""
    lines = ["[[destinations]]"]
    for key, value in config.model_dump(exclude_defaults=True).items():
        lines.append(f"{key} = {_toml_value(value)}")
    if "name" not in config.model_fields_set:
        lines.insert(1, f"name = {_toml_value(config.name)}")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string is a JSON string


def _configured(request: web.Request) -> dict[str, DestinationConfig]:
    return {d.name: d for d in request.app[PANEL].service.config.destinations}


def _runtime(request: web.Request) -> dict[str, Destination]:
    return {d.name: d for d in request.app[PANEL].service.store.subscriptions()}


def _form_page(request: web.Request, form: DestinationForm, *, original: str | None, status: int = 200,
               problems: Sequence[str] = (), fires: Sequence[datetime] | None = None, toml: str | None = None,
               words: str | None = None, trial: FilterTrial | None = None) -> web.Response:
    return page(request, "destination_form.html", status=status, form=form, original=original, trial=trial,
                problems=list(problems), fires=fires, toml=toml, words=words,
                read_only=original is not None and original in _configured(request))


async def new_form(request: web.Request) -> web.Response:
    return _form_page(request, DestinationForm(), original=None)


async def edit_form(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    dest = request.app[PANEL].service.destinations().get(name) or _runtime(request).get(name)
    if dest is None:
        raise web.HTTPNotFound(text="no such destination")
    return _form_page(request, DestinationForm.of(dest), original=name)


async def save(request: web.Request) -> web.StreamResponse:
    """Validate; then show the next fire times (and, for config.toml's, the TOML); save on confirm."""
    original = request.match_info.get("name")
    posted = await request.post()
    form = DestinationForm.posted(posted)
    configured, runtime = _configured(request), _runtime(request)
    if original is not None and original not in configured and original not in runtime:
        raise web.HTTPNotFound(text="no such destination")
    try:
        config = DestinationConfig.model_validate(form.raw())
    except ValidationError as exc:
        return _form_page(request, form, original=original, status=422, problems=_problems(exc))
    taken = (config.name in configured or config.name in runtime) and config.name != original
    if taken:
        return _form_page(request, form, original=original, status=422,
                          problems=[f"name: {config.name!r} is already a destination"])
    state = request.app[PANEL]
    try:
        fires = next_fires(config.schedule, config.timezone, state.service.clock())
        words = parse_schedule(config.schedule, config.timezone).words()
    except ScheduleError as exc:  # already refused by the model; kept for a schedule valid there only
        return _form_page(request, form, original=original, status=422, problems=[f"schedule: {exc}"])
    dest = replace(destination_from_config(config),  # the panel's change: when, and for which chat
                   change=Change(by="", chat=config.target, at=datetime.now(UTC), via="the web panel"))
    service = state.service
    trial = try_filters(newest_issue(service.store, service.planner, dest), dest, service.matcher, dest.filters)
    if original in configured:
        edited = configured[original].model_copy(update=config.model_dump(include={*form.raw(), "include", "exclude"}))
        return _form_page(request, form, original=original, fires=fires, words=words, toml=toml_table(edited),
                          trial=trial)
    if posted.get("confirm") != "yes":
        return _form_page(request, form, original=original, fires=fires, words=words, trial=trial)
    if original in runtime:
        old = runtime[original]  # keeps its look and platform options (filters: the form's)
        options = old.options if old.platform == dest.platform else dest.options  # a platform's own only
        dest = replace(dest, options=options, presentation=old.presentation, feeds=old.feeds)
    store = state.service.store
    with store.transaction():
        if original is not None and original != dest.name:
            store.delete_subscription(original)
        store.save_subscription(dest)
    if await _picked_up(state.service, dest.name):
        request[SESSION].flash.append(("ok", f"{dest.name}: saved ({words}); the running bot has picked it up"))
        raise web.HTTPSeeOther(f"/destinations/{quote(dest.name, safe='')}")
    request[SESSION].flash.append(("ok", f"{dest.name}: saved ({words}); the bot picks it up at its next check"))
    raise web.HTTPSeeOther("/")


async def _picked_up(service: DeliveryService, name: str) -> bool:
    """Wait (briefly) until the running loop has reloaded its destinations (it checks every second)."""
    for _ in range(_PICKUP_CHECKS):
        if name in service.destinations() or name in service.invalid():
            return True
        await asyncio.sleep(_PICKUP_WAIT)
    return False


async def delete(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name in _configured(request):
        request[SESSION].flash.append(("error", f"{name} comes from config.toml: remove it there and restart"))
        raise web.HTTPSeeOther(f"/destinations/{quote(name, safe='')}")
    removed = request.app[PANEL].service.store.delete_subscription(name)
    request[SESSION].flash.append(("ok" if removed else "error",
                                   f"{name}: removed; its queued posts stay in the outbox" if removed
                                   else f"{name}: no such runtime destination"))
    raise web.HTTPSeeOther("/")
