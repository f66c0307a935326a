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
import re
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
from bot.core.messages import SectionPost
from bot.core.models import Issue
from bot.ports import Destination
from bot.storage.store import Store
from tests.fakes.discord import TOKEN as DISCORD_TOKEN
from tests.fakes.discord import FakeDiscord, running_fake
from tests.fakes.telegram import FakeTelegram
from tests.harness.cli import clean_env
from tests.harness.corpus import CORPUS
from tests.harness.panel import TOKEN
from tests.harness.paths import ROOT

pytestmark = pytest.mark.asyncio(loop_scope="module")

SHOTS = ROOT / os.environ.get("DIGESTBOT_SCREENSHOTS", "build/screenshots")
BOT_TOKEN = "616161:PANEL-token_abcdefghijklmnopqrstuvwxyz"
CHANNEL = -1005555
FILTERED = -1005556  # fr-filtered: exclude = ["google", "recherche"], a drip that never ticks in a test
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
            sys.executable, "-m", "app.cli", *args, "--json", "--config", str(self.config), env=self.env,
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
        fake.add_chat(CHANNEL, "channel", username="digest_fr", title="Digest FR")
        fake.add_chat(FILTERED, "channel", username="digest_fr_filtered")
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
name = "fr-filtered"
platform = "telegram"
chat = "@digest_fr_filtered"
languages = ["fr"]
schedule = "cron 0 9 1 1 *"
timezone = "Asia/Tokyo"
exclude = ["google", "recherche"]
[[destinations]]
name = "en-digest"
platform = "console"
languages = ["en"]
schedule = "digest 0 8 * * MON"
timezone = "America/New_York"
""", encoding="utf-8")
        env = clean_env(TELEGRAM_BOT_TOKEN=BOT_TOKEN, DISCORD_BOT_TOKEN=DISCORD_TOKEN, DIGESTBOT_WEB_TOKEN=TOKEN)
        stderr = tmp / "stderr.log"
        with stderr.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "app.cli", "run", "--config", str(config),
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


async def test_issue_previews_as_each_platform_shows_them(running: Running) -> None:
    page = await running.page()
    await page.get_by_role("link", name="Issues").click()
    await page.get_by_role("link", name=_edition(running.db, 7, "fr").ref.label, exact=True).click()
    await page.get_by_role("navigation", name="Sections of this issue").get_by_role("link", name="Outils").click()
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
    assert "Digest FR" in await page.locator("#target").inner_text()  # the channel's name, as Telegram gave it
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
    history = page.locator("ol.history li")
    await history.first.wait_for()
    links = [await a.get_attribute("href") or "" for a in await page.get_by_role("link", name="open the message").all()]
    posted = {str(m["id"]) for m in running.discord.channel_messages(running.discord_channel)}
    assert links and all(f"/{running.discord_channel}/" in link for link in links)
    assert {link.rsplit("/", 1)[1] for link in links} <= posted  # each link is a message the fake holds
    assert "#digest" in await page.locator("#target").inner_text()  # the channel's name, as Discord gave it
    texts = await history.all_inner_texts()
    assert all(any(section.heading.strip() in text for text in texts) for section in issue.sections)
    await shot(page, "destination-history", full_page=True)


# ---------------------------------------------------------------------------------------------------------------
# Layout at both sizes, and each page agreeing with the CLI / the platform
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


async def _no_sideways_scroll(page: Any, where: str) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    viewport = await page.evaluate("window.innerWidth")
    assert width <= viewport, f"{where}: {width} px wide in a {viewport} px viewport"


@pytest.mark.parametrize("size", SIZES)
async def test_no_page_scrolls_sideways(running: Running, size: str) -> None:
    store = Store(running.db)
    try:
        ids = [store.rowid_for_entry(r.entry_id) for r in store.list_issues(limit=3)]
    finally:
        store.close()
    page = await running.page()
    await page.set_viewport_size(SIZES[size])
    paths = ["/", "/plan", "/plan?view=agenda", "/issues", "/issues?lang=fr", *(f"/issues/{i}" for i in ids),
             "/search?q=bert", "/search?q=transformers&lang=fr", "/destinations/new", "/destinations/fr-drip/edit",
             "/destinations/fr-drip/send", "/destinations/fr-filtered?include=bert&exclude=google",
             "/no/such/page", "/issues/999999", *(f"/destinations/{d}" for d in
                                                  ("fr-drip", "en-discord", "en-digest", "fr-filtered"))]
    for path in paths:
        response = await page.goto(running.url + path)
        assert response is not None and response.status in (200, 404), path
        await _no_sideways_scroll(page, f"{path} at {size}")
    await page.goto(running.url + "/destinations/fr-drip/send")
    await page.get_by_label("Issue number").select_option("7")
    await page.get_by_role("button", name="Preview (dry run)").click()
    await page.locator("#summary").wait_for()
    await _no_sideways_scroll(page, f"the dry run at {size}")
    logged_out = await running.page(login=False)
    await logged_out.set_viewport_size(SIZES[size])
    await logged_out.goto(running.url + "/login")
    await _no_sideways_scroll(logged_out, f"/login at {size}")
    missing = await page.goto(running.url + "/no/such/page")
    assert missing is not None and missing.status == 404
    assert await page.get_by_role("heading", name="Not found").is_visible()
    assert await page.get_by_role("link", name="Overview").first.is_visible()  # the panel's navigation is there


def _planned(plan: Any) -> list[tuple[str, str, str]]:
    """(destination, what, when) of every dated delivery `plan --json` lists, on or before the 14th local day."""
    out = []
    for dest in plan["destinations"]:
        for d in dest["deliveries"]:
            if d["when"] is not None:
                out.append((dest["name"], d["what"], d["when"]))
    return sorted(out)


async def test_the_plan_agenda_lists_what_plan_json_lists(running: Running) -> None:
    page = await running.page()
    await page.set_viewport_size(SIZES["phone"])  # on a phone the plan is the agenda
    for _ in range(20):  # on_publish posts are timed from "now": compare once two readings agree
        plan = await running.cli("plan", "--days", "14")
        await page.goto(running.url + "/plan")
        shown = sorted([(await li.get_attribute("data-destination") or "", await li.locator(".what").inner_text(),
                         await li.get_attribute("data-when") or "")
                        for li in await page.locator(".agenda-list li").all()])
        expected = _planned(plan)
        if [(d, w) for d, w, _ in shown] == [(d, w.strip()) for d, w, _ in expected]:
            break
        await asyncio.sleep(0.5)
    assert [(d, w) for d, w, _ in shown] == [(d, w) for d, w, _ in expected]
    assert expected, "the plan lists deliveries"
    drip = [(w, t) for d, w, t in expected if d == "fr-drip"]  # a cron drip's times do not move: compare them too
    assert drip == [(w, datetime.fromisoformat(t).isoformat()) for d, w, t in shown if d == "fr-drip"]
    assert await page.locator(".calendar").is_hidden()
    await shot(page, "plan-phone", full_page=True)
    await page.set_viewport_size(SIZES["desktop"])
    await page.goto(running.url + "/plan")
    assert await page.locator(".agenda").is_hidden() and await page.locator(".calendar").is_visible()
    assert await page.locator("thead th.today").count() >= 1
    columns = await page.locator(".calendar thead th[data-date]").count()
    assert columns >= 14
    box = await page.locator(".calendar").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280  # all 14 days fit, none cut
    legend = await page.locator(".legend li").all_inner_texts()
    assert legend and all("_" not in name for name in legend)  # section names, not keys
    items = await page.locator(".legend li").all()
    colours = [await li.evaluate("e => getComputedStyle(e).borderLeftColor") for li in items]
    assert len(set(colours)) == len(colours)  # one colour per section on the page
    await shot(page, "plan")


async def test_a_destination_pages_queue_agrees_with_status(running: Running) -> None:
    page = await running.page()
    for size, suffix in (("desktop", ""), ("phone", "-phone")):
        await page.set_viewport_size(SIZES[size])
        for _ in range(20):
            status = await running.cli("status")
            drip = next(d for d in status["destinations"] if d["name"] == "fr-drip")
            await page.goto(running.url + "/destinations/fr-drip")
            entries = page.locator("ol.queue > li")
            in_outbox = await page.locator('ol.queue > li[data-kind="outbox"]').count()
            if await entries.count() == drip["queued"]:
                break
            await asyncio.sleep(0.5)
        assert await entries.count() == drip["queued"] and drip["queued"] > 0
        assert f"{drip['queued']} post" in await page.locator("#waiting").inner_text()
        outbox = drip["outbox"]
        assert in_outbox <= outbox["pending"] + outbox["sending"] + outbox["failed"]
        assert drip["next"] in await entries.first.inner_text()  # status's "next" is the queue's first
        assert "Europe/Paris" in await page.locator("#config").inner_text()
        await shot(page, f"destination{suffix}", full_page=True)


def _titles(section: Any) -> list[str]:
    return [item.title.strip() for item in section.items if item.title.strip()]


async def test_the_filter_tester_shows_what_a_send_posts_and_the_summary_counts_it(running: Running) -> None:
    page = await running.page()
    await page.goto(running.url + "/destinations/fr-filtered")
    await page.locator("#filters summary").click()
    assert await page.get_by_label("Exclude: never items mentioning one of these").input_value() == "google\nrecherche"
    await page.get_by_role("button", name="Try on the newest issue").click()
    assert "exclude = [\"google\", \"recherche\"]" in await page.locator("#filters-toml").input_value()
    kept: dict[str, list[str]] = {}
    dropped: list[str] = []
    for section in await page.locator(".trial-section").all():
        key = await section.get_attribute("data-section") or ""
        for li in await section.locator(".verdicts li").all():
            title = (await li.locator(".item-title").inner_text()).strip()
            if await li.get_attribute("data-verdict") == "kept":
                kept.setdefault(key, []).append(title)
            else:
                dropped.append(title)
    assert kept and dropped  # the filters keep some items and drop others

    await page.goto(running.url + "/destinations/fr-filtered/send")
    await page.get_by_role("button", name="Preview (dry run)").click()
    posts = int(await page.locator("#summary-posts").inner_text())
    messages = int(await page.locator("#summary-messages").inner_text())
    index = "No index message" not in await page.locator("#summary").inner_text()
    assert index  # seven sections of a Telegram channel end with an index (index = true is the default)
    assert posts == len(kept) + 1  # one post per section that keeps an item, then the index
    await page.get_by_role("button", name="Confirm: send to fr-filtered", exact=True).click()
    await page.wait_for_url(running.url + "/destinations/fr-filtered")
    reports = [t for t in await page.get_by_role("status").all_inner_texts() if "fr-filtered ←" in t]
    assert len(reports) == posts and all("delivered" in r for r in reports)
    assert sum(int(re.findall(r"\((\d+) messages?\)", r)[-1]) for r in reports) == messages
    await running.fake.wait_for(lambda: len(running.fake.sent(FILTERED)) >= messages, timeout=10)
    text = "\n".join(m.text for m in running.fake.sent(FILTERED))
    assert len(running.fake.sent(FILTERED)) == messages
    for titles in kept.values():
        for title in titles:
            if not title.endswith("…"):  # an untitled item is shown by its first words
                assert title in text, title
    for title in dropped:
        if not title.endswith("…"):
            assert title not in text, title


async def test_issue_preview_at_both_sizes(running: Running) -> None:
    page = await running.page()
    issue = _edition(running.db, 7, "fr")
    await page.get_by_role("link", name="Issues").click()
    await page.get_by_role("link", name=issue.ref.label, exact=True).click()
    jump = page.get_by_role("navigation", name="Sections of this issue")
    assert await jump.get_by_role("link").count() == len(issue.sections)
    first = issue.sections[0]
    assert await page.locator(f"#section-{first.key}").get_attribute("open") is not None
    await jump.get_by_role("link").nth(3).click()  # a jump link opens its (collapsed) section
    target = page.locator(f"#section-{issue.sections[3].key}")
    await target.locator(".tg-bubble").first.wait_for()
    await page.set_viewport_size(SIZES["phone"])
    await _no_sideways_scroll(page, "issue preview, section opened, on a phone")
    await target.evaluate("element => element.scrollIntoView({block: 'start'})")
    await shot(page, "issue-phone")
