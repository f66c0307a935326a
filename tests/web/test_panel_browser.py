"""The panel in a real headless Chromium (Debian's, driven by Playwright) against `digestbot run`.

`digestbot run` runs as a subprocess with its Telegram base URL on the fake Bot API; each
test logs in through the form and acts as a maintainer would, checks the outcome where it
happens (the fake's channel, `digestbot status`/`plan` as separate processes) and saves a
screenshot under build/screenshots/ (untracked). The README's copies in docs/screenshots/ are
refreshed with `DIGESTBOT_SCREENSHOTS=docs/screenshots make test`, so an ordinary test run never
rewrites a tracked file.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from adapters.telegram.render import TelegramRenderer
from bot.messages import SectionPost
from bot.models import Issue
from bot.ports import Destination
from bot.store import Store
from tests.corpus import CORPUS
from tests.fakes.discord import TOKEN as DISCORD_TOKEN
from tests.fakes.discord import FakeDiscord, running_fake
from tests.fakes.telegram import FakeTelegram
from tests.web.panelkit import TOKEN

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / os.environ.get("DIGESTBOT_SCREENSHOTS", "build/screenshots")
BOT_TOKEN = "616161:PANEL-token_abcdefghijklmnopqrstuvwxyz"
CHANNEL = -1005555
#: What Chromium needs on this kind of machine: no sandbox as root, no GPU, and no calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@dataclass
class Running:
    url: str
    fake: FakeTelegram
    discord: FakeDiscord
    discord_channel: str
    config: Path
    db: Path
    browser: Any
    env: dict[str, str]

    async def cli(self, *args: str) -> Any:
        """A `digestbot` command as a maintainer runs it beside the bot; its --json output."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", *args, "--json", "--config", str(self.config), env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
        return json.loads(out)

    async def page(self, *, login: bool = True, **options: Any) -> Any:
        context = await self.browser.new_context(viewport={"width": 1280, "height": 860}, **options)
        page = await context.new_page()
        if login:
            await page.goto(self.url + "/login")
            await page.get_by_label("Token").fill(TOKEN)
            await page.get_by_role("button", name="Log in").click()
            await page.wait_for_url(self.url + "/")
        return page


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


async def shot(page: Any, name: str, *, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> AsyncIterator[Running]:
    from playwright.async_api import async_playwright

    tmp = tmp_path_factory.mktemp("panel")
    port = _free_port()
    db = tmp / "bot.db"
    config = tmp / "config.toml"
    async with FakeTelegram(BOT_TOKEN, time_scale=0.01) as fake, running_fake() as discord:
        fake.add_chat(CHANNEL, "channel", username="digest_fr")
        discord_channel = str(discord.default_channel)
        config.write_text(f"""
[storage]
path = "{db}"
[web]
listen = "127.0.0.1:{port}"
[console]
log = "{tmp / 'console.jsonl'}"
[telegram]
api_base_url = "{fake.base_url}"
commands = false
time_scale = 0.01
[discord]
api_base_url = "{discord.api_base}"
gateway_url = "{discord.gateway_url}"
commands = false
[[feeds]]
name = "nlp"
url = "{CORPUS}"
poll_interval = "1h"
[[destinations]]
name = "en-discord"
platform = "discord"
channel = "{discord_channel}"
languages = ["en"]
[[destinations]]
name = "fr-drip"
platform = "telegram"
chat = "@digest_fr"
languages = ["fr"]
schedule = "cron 0 9 * * *"
timezone = "Europe/Paris"
[[destinations]]
name = "en-digest"
platform = "console"
languages = ["en"]
schedule = "digest 0 8 * * MON"
timezone = "America/New_York"
""", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT", "TELEGRAM", "DISCORD"))}
        env.update({"TELEGRAM_BOT_TOKEN": BOT_TOKEN, "DISCORD_BOT_TOKEN": DISCORD_TOKEN,
                    "DIGESTBOT_WEB_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)})
        stderr = tmp / "stderr.log"
        with stderr.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", "--config", str(config),
                                                        env=env, cwd=tmp, stdout=asyncio.subprocess.DEVNULL,
                                                        stderr=err)
            url = f"http://127.0.0.1:{port}"
            try:
                for _ in range(300):  # up to ~60 s on a loaded machine: listening, and the feed stored
                    await asyncio.sleep(0.2)
                    assert proc.returncode is None, stderr.read_text()
                    try:
                        if await asyncio.to_thread(_status, url + "/healthz") == 200 and _stored(db):
                            break
                    except OSError:
                        continue
                async with async_playwright() as playwright:
                    browser = await playwright.chromium.launch(executable_path=chromium_path, headless=True,
                                                               args=CHROMIUM_ARGS)
                    try:
                        yield Running(url, fake, discord, discord_channel, config, db, browser, env)
                    finally:
                        await browser.close()
            finally:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(proc.wait(), 30)
        log = stderr.read_text(encoding="utf-8", errors="replace")
        assert code == 0, log[-3000:]
        assert TOKEN not in log and DISCORD_TOKEN not in log


def _stored(db: Path) -> bool:
    if not db.exists():
        return False
    store = Store(db)
    try:
        return bool(store.list_issues(limit=1))
    finally:
        store.close()


def _edition(db: Path, number: int, lang: str) -> Issue:
    store = Store(db)
    try:
        issue = store.get_issue(next(r.entry_id for r in store.editions(number) if r.language == lang))
    finally:
        store.close()
    assert issue is not None
    return issue


async def test_wrong_token_is_refused_then_login_shows_the_overview(running: Running) -> None:
    page = await running.page(login=False)
    await page.goto(running.url + "/plan")
    assert page.url == running.url + "/login"  # no session: every page sends us to the login form
    await page.get_by_label("Token").fill("not-the-token")
    async with page.expect_navigation() as navigation:
        await page.get_by_role("button", name="Log in").click()
    assert (await navigation.value).status == 401
    assert await page.get_by_role("alert").inner_text() == "Wrong token."
    await shot(page, "login")
    await page.get_by_label("Token").fill(TOKEN)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(running.url + "/")
    status = await running.cli("status")
    drip = next(d for d in status["destinations"] if d["name"] == "fr-drip")
    row = page.locator("tbody tr", has=page.get_by_role("link", name="fr-drip", exact=True))
    assert drip["schedule_words"] in await row.inner_text()
    assert f"next: {drip['next']}" in await row.inner_text()
    assert "nlp" in await page.locator("table").first.inner_text()
    await shot(page, "overview", full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})
    await shot(page, "overview-phone", full_page=True)
    dark = await running.page(color_scheme="dark")
    await dark.get_by_role("link", name="Issues").click()
    await shot(dark, "issues-dark")


async def test_plan_shows_the_drips_next_section_on_its_day(running: Running) -> None:
    plan = await running.cli("plan", "--days", "14")
    drip = next(d for d in plan["destinations"] if d["name"] == "fr-drip")
    first = drip["deliveries"][0]
    when = datetime.fromisoformat(first["when"])
    assert when.hour == 9  # 09:00 in Europe/Paris, whatever the zone of this machine
    page = await running.page()
    await page.get_by_role("link", name="Plan").click()
    cell = page.locator(f'tr[data-destination="fr-drip"] td[data-date="{when.date().isoformat()}"]')
    text = await cell.inner_text()
    assert "09:00" in text and first["what"] in text
    await shot(page, "plan", full_page=True)


async def test_issue_previews_as_each_platform_shows_them(running: Running) -> None:
    page = await running.page()
    await page.get_by_role("link", name="Issues").click()
    await page.get_by_role("link", name=_edition(running.db, 7, "fr").ref.label, exact=True).click()
    section = page.locator("#section-tools_datasets")
    bubble = section.locator(".side-telegram .tg-bubble").first
    embed = section.locator(".side-discord .dc-embed").first
    assert await bubble.is_visible() and await embed.is_visible()
    assert "Outils" in await bubble.inner_text()
    assert await bubble.locator("b").count() > 0  # Telegram's HTML drawn, not shown as tags
    assert "/ 4096" in await section.locator(".side-telegram .measures").first.inner_text()
    assert "/ 6000" in await section.locator(".side-discord .measures").first.inner_text()
    await section.evaluate("element => element.scrollIntoView({block: 'start'})")
    await shot(page, "issue")


async def test_pause_and_resume_and_status_agrees(running: Running) -> None:
    page = await running.page()
    await page.get_by_role("link", name="fr-drip", exact=True).click()
    await page.get_by_label("Reason").fill("holiday break")
    await page.get_by_role("button", name="Pause", exact=True).click()
    assert "holiday break" in await page.locator("#state").inner_text()
    status = await running.cli("status")
    assert next(d for d in status["destinations"] if d["name"] == "fr-drip")["paused"] == "holiday break"
    await shot(page, "destination-paused")
    await page.get_by_role("button", name="Resume", exact=True).click()
    assert "active" in await page.locator("#state").inner_text()
    status = await running.cli("status")
    assert next(d for d in status["destinations"] if d["name"] == "fr-drip")["paused"] is None


async def test_a_post_without_csrf_token_is_refused(running: Running) -> None:
    page = await running.page()
    await page.goto(running.url + "/destinations/fr-drip")
    await page.locator('form[action$="/pause"] input[name="csrf_token"]').evaluate("input => input.remove()")
    async with page.expect_navigation() as navigation:
        await page.get_by_role("button", name="Pause", exact=True).click()
    assert (await navigation.value).status == 403
    status = await running.cli("status")
    assert next(d for d in status["destinations"] if d["name"] == "fr-drip")["paused"] is None


async def test_send_one_section_through_the_confirm_step(running: Running) -> None:
    page = await running.page()
    await page.goto(running.url + "/destinations/fr-drip")
    await page.get_by_role("link", name="Send now…").click()
    await page.get_by_label("Issue number").select_option("7")
    await page.get_by_label("Section").select_option("tools_datasets")
    await page.get_by_role("button", name="Preview (dry run)").click()
    assert "Nothing has been sent" in await page.locator("main").inner_text()
    assert running.fake.sent(CHANNEL) == []  # the dry run sent nothing
    await shot(page, "send-preview")
    await page.get_by_role("button", name="Confirm: send to fr-drip", exact=True).click()
    await page.wait_for_url(running.url + "/destinations/fr-drip")
    assert "delivered" in await page.get_by_role("status").first.inner_text()
    issue = _edition(running.db, 7, "fr")
    section = next(s for s in issue.sections if s.key == "tools_datasets")
    expected = TelegramRenderer().render(SectionPost(issue=issue.ref, section=section, notify=True),
                                         Destination("fr-drip", "telegram", "@digest_fr", languages=("fr",)))
    await running.fake.wait_for(lambda: len(running.fake.sent(CHANNEL)) >= len(expected), timeout=10)
    assert [m.text for m in running.fake.sent(CHANNEL)] == [part.text for part in expected]
    link = page.get_by_role("link", name="open the message").first  # the history links to the message
    assert (await link.get_attribute("href") or "").startswith("https://t.me/digest_fr/")
    await shot(page, "send-result")


async def test_delivered_posts_link_to_their_messages(running: Running) -> None:
    """on_publish to the fake Discord: the destination's history lists each post with a link to it."""
    issue = _edition(running.db, 7, "en")
    await running.discord.wait_for(
        lambda: len(running.discord.channel_messages(running.discord_channel)) > len(issue.sections), timeout=45)
    page = await running.page()
    await page.get_by_role("link", name="en-discord", exact=True).click()
    history = page.locator("h2:text('History') + ul li")
    await history.first.wait_for()
    links = [await a.get_attribute("href") or "" for a in await page.get_by_role("link", name="open the message").all()]
    posted = {str(m["id"]) for m in running.discord.channel_messages(running.discord_channel)}
    assert links and all(f"/{running.discord_channel}/" in link for link in links)
    assert {link.rsplit("/", 1)[1] for link in links} <= posted  # each link is a message the fake holds
    texts = await history.all_inner_texts()
    assert all(any(section.heading.strip() in text for text in texts) for section in issue.sections)
    await shot(page, "destination-history", full_page=True)
