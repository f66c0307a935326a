"""Runtime destinations in the panel: validated like check-config, next runs shown before saving."""

from __future__ import annotations

import html
import itertools
import re
import tomllib
from pathlib import Path

import pytest

from bot.contract.schedule import CronDrip, parse_schedule
from bot.settings.config import DestinationConfig
from tests.harness.panel import TOKEN, running_panel, write_config


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGESTBOT_WEB_TOKEN", TOKEN)


FORM = {"name": "team-console", "platform": "console", "target": "", "languages": "en", "sections": "*",
        "schedule": "cron 30 7 * * MON-FRI", "timezone": "Europe/Paris"}


async def test_create_shows_the_next_five_runs_then_saves(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        token = await panel.login()
        check = await panel.client.post("/destinations/new", data={**FORM, "csrf_token": token})
        page = await check.text()
        assert check.status == 200 and 'name="confirm" value="yes"' in page
        schedule = parse_schedule(FORM["schedule"], FORM["timezone"])
        assert isinstance(schedule, CronDrip)
        expected = list(itertools.islice(schedule.fires(panel.service.clock()), 5))
        shown = re.findall(r"<li><time>([^<]+)</time></li>", page)
        assert shown == [f.strftime("%a %Y-%m-%d %H:%M %Z") for f in expected]
        assert panel.service.store.subscriptions() == []  # checked, not saved
        saved = await panel.client.post("/destinations/new", data={**FORM, "csrf_token": token, "confirm": "yes"})
        assert "team-console: saved" in await saved.text()
        [dest] = panel.service.store.subscriptions()
        assert (dest.name, dest.schedule.text, dest.timezone, dest.languages) == (
            "team-console", "cron 30 7 * * MON-FRI", "Europe/Paris", ("en",))
        removed = await panel.client.post("/destinations/team-console/delete", data={"csrf_token": token})
        assert "team-console: removed" in await removed.text()
        assert panel.service.store.subscriptions() == []


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("schedule", "cron 99 9 * * *", 'schedule: minute: "99" is not valid'),
    ("schedule", "weekly", "schedule: 'weekly' is not a schedule"),
    ("timezone", "Mars/Olympus", "timezone: unknown timezone"),
    ("languages", "klingon", "languages: unknown language"),
    ("name", "fr-drip", "name: 'fr-drip' is already a destination"),
])
async def test_refused_forms_name_the_field(tmp_path: Path, field: str, value: str, problem: str) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        token = await panel.login()
        response = await panel.client.post("/destinations/new",
                                           data={**FORM, field: value, "csrf_token": token, "confirm": "yes"})
        page = html.unescape(await response.text())
        assert response.status == 422 and problem in page, page[-1500:]
        assert panel.service.store.subscriptions() == []


async def test_a_telegram_destination_needs_a_real_chat(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        token = await panel.login()
        data = {**FORM, "platform": "telegram", "target": "not a chat", "csrf_token": token}
        page = html.unescape(await (await panel.client.post("/destinations/new", data=data)).text())
        assert "chat: is not a Telegram chat" in page


async def test_config_destinations_are_read_only_and_offer_their_toml(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        token = await panel.login()
        form = await (await panel.client.get("/destinations/fr-drip/edit")).text()
        assert "comes from config.toml" in form and 'value="cron 0 9 * * *"' in form
        data = {"name": "fr-drip", "platform": "console", "target": "", "languages": "fr", "sections": "*",
                "schedule": "cron 0 18 * * *", "timezone": "Europe/Paris", "csrf_token": token, "confirm": "yes"}
        page = await (await panel.client.post("/destinations/fr-drip/edit", data=data)).text()
        toml = re.search(r'<textarea id="toml" readonly rows="\d+">(.*?)</textarea>', page, re.S)
        assert toml is not None
        table = tomllib.loads(html.unescape(toml.group(1)))["destinations"][0]
        assert table["schedule"] == "cron 0 18 * * *" and table["name"] == "fr-drip"
        DestinationConfig.model_validate(table)  # what it offers to paste is valid config
        assert panel.service.store.subscriptions() == []  # and nothing was saved
        assert panel.service.config.destinations[0].schedule == "cron 0 9 * * *"
        refused = await panel.client.post("/destinations/fr-drip/delete", data={"csrf_token": token})
        assert "comes from config.toml" in await refused.text()


async def test_the_form_tries_its_filters_on_the_newest_issue_then_saves_them(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        token = await panel.login()
        form = {**FORM, "exclude": "google\nrecherche", "csrf_token": token}
        check = await panel.client.post("/destinations/new", data=form)
        page = await check.text()
        assert check.status == 200 and 'id="filters"' in page
        dropped = re.findall(r'data-verdict="dropped">.*?class="item-title">([^<]+)<', page, re.S)
        kept = re.findall(r'data-verdict="kept">.*?class="item-title">([^<]+)<', page, re.S)
        assert dropped and kept
        reasons = re.findall(r"mentions “(google|recherche)” \(excluded\)", page)
        assert len(reasons) == len(dropped)  # each dropped item names the term that dropped it
        await panel.client.post("/destinations/new", data={**form, "confirm": "yes"})
        [dest] = panel.service.store.subscriptions()
        assert dest.filters.exclude == ("google", "recherche")
        edit = await (await panel.client.get("/destinations/team-console/edit")).text()
        assert ">google\nrecherche</textarea>" in edit  # the edit form shows the saved terms
