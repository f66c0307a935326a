"""The panel's pages over HTTP show what status, plan, the renderers and search compute, escaped."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from adapters.discord.render import DiscordRenderer
from adapters.telegram.render import TelegramRenderer
from bot.core.messages import SectionPost
from bot.ports import Destination
from scheduler.forecast import build_plan
from scheduler.status import build_status
from tests.harness.panel import TOKEN, running_panel, write_config

HOSTILE_FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>hostile</title><id>https://example.org/</id><updated>2026-11-01T00:00:00Z</updated>
<entry>
  <title type="text">NLP Newsletter #9: &lt;script&gt;alert("title")&lt;/script&gt;</title>
  <link rel="alternate" href="https://example.org/nlp-9/"/>
  <id>https://example.org/nlp-9</id>
  <published>2026-11-01T00:00:00Z</published><updated>2026-11-01T00:00:00Z</updated>
  <content type="html">
&lt;h1&gt;Publications &amp;lt;script&amp;gt;alert("heading")&amp;lt;/script&amp;gt; 📙&lt;/h1&gt;
&lt;p&gt;&lt;strong&gt;Paper &amp;lt;img src=x onerror=alert(1)&amp;gt;&lt;/strong&gt;
is a study of &amp;lt;script&amp;gt;x()&amp;lt;/script&amp;gt; escaping.
&lt;a href="https://example.org/paper"&gt;paper&lt;/a&gt;&lt;/p&gt;
&lt;h1&gt;Tools and Datasets ⚙️&lt;/h1&gt;
&lt;p&gt;&lt;strong&gt;A tool&lt;/strong&gt; does things with data. &lt;a href="https://example.org/tool"&gt;tool&lt;/a&gt;&lt;/p&gt;
&lt;h1&gt;Education 🎓&lt;/h1&gt;
&lt;p&gt;&lt;strong&gt;A course&lt;/strong&gt; teaches things about language. &lt;a href="https://example.org/course"&gt;course&lt;/a&gt;&lt;/p&gt;
  </content>
</entry>
</feed>
"""


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGESTBOT_WEB_TOKEN", TOKEN)


def _text(page: str) -> str:
    """The page's visible text, roughly: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


async def test_overview_shows_the_status_data(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        await panel.login()
        page = await (await panel.client.get("/")).text()
        report = build_status(panel.service)
        text = " ".join(_text(page).split())
        for feed in report.feeds:
            assert feed.name in text and str(feed.issues) in text
        drip = next(d for d in report.destinations if d.name == "fr-drip")
        assert drip.schedule_words and drip.schedule_words in text
        assert drip.next_run is not None and drip.next_run.strftime("%a %Y-%m-%d %H:%M %Z") in text
        assert drip.next and f"next: {drip.next}" in text
        assert 'href="/destinations/fr-drip"' in page


async def test_plan_places_the_drips_next_section_on_its_day(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        await panel.login()
        page = await (await panel.client.get("/plan")).text()
        plan = next(p for p in build_plan(panel.service, 14) if p.name == "fr-drip")
        assert "<h1>Plan: the next 14 days</h1>" in page
        first = plan.deliveries[0]
        assert first.when is not None and first.when.hour == 9 and str(first.when.tzinfo) == "Europe/Paris"
        row = re.search(r'<tr data-destination="fr-drip">(.*?)</tr>', page, re.S)
        assert row is not None
        cell = re.search(rf'<td data-date="{first.when.date().isoformat()}"[^>]*>(.*?)</td>', row.group(1), re.S)
        assert cell is not None and "09:00" in cell.group(1) and html.escape(first.what) in cell.group(1)
        days = re.findall(r'<th scope="col" data-date="', page)
        assert len(days) >= 14


async def test_issue_page_shows_both_renderers_output(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        await panel.login()
        listing = await (await panel.client.get("/issues")).text()
        store = panel.service.store
        ref = store.list_issues(lang="fr", limit=1)[0]
        rowid = store.rowid_for_entry(ref.entry_id)
        assert f'href="/issues/{rowid}"' in listing
        page = await (await panel.client.get(f"/issues/{rowid}")).text()
        issue = store.get_issue(ref.entry_id)
        assert issue is not None
        for position, section in enumerate(issue.sections):  # only the first post notifies, as in a send
            post = SectionPost(issue=issue.ref, section=section, notify=position == 0)
            telegram = TelegramRenderer().render(post, Destination("p", "telegram", "p"))
            discord = DiscordRenderer().render(post, Destination("p", "discord", "p"))
            block = re.search(rf'<details class="preview" id="section-{section.key}"[^>]*>(.*?)</details>', page, re.S)
            assert f'open={section.key}#section-{section.key}"' in page  # a jump link that opens it
            assert block is not None, section.key
            count = len(re.findall(r'class="tg-bubble"', block.group(1)))
            assert count == len(telegram)
            assert len(re.findall(r'class="dc-message"', block.group(1))) == len(discord)
            embeds = sum(len(part.payload.get("embeds", ())) for part in discord)
            assert len(re.findall(r'class="dc-embed"', block.group(1))) == embeds
            assert f"{len(telegram)} message" in block.group(1)
            assert re.search(r"text \d+ / 4096", block.group(1))
        assert "<b>" in page  # Telegram's bold, as the bubble shows it


async def test_feed_text_is_escaped_everywhere(tmp_path: Path) -> None:
    feed = tmp_path / "hostile.xml"
    feed.write_text(HOSTILE_FEED, encoding="utf-8")
    async with running_panel(write_config(tmp_path, feed=feed), feed=feed) as panel:
        await panel.login()
        store = panel.service.store
        ref = store.list_issues(limit=1)[0]
        assert "<script>" in ref.title  # the feed really carries it, as text
        pages = [await (await panel.client.get(path)).text()
                 for path in ("/issues", f"/issues/{store.rowid_for_entry(ref.entry_id)}", "/search?q=escaping")]
        for page in pages:
            assert "<script>alert" not in page and "<script>x()" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in pages[0]
        assert "&lt;script&gt;alert(&#34;heading&#34;)" in pages[1] or "&lt;script&gt;alert(\"heading\")" in pages[1]
        assert "&lt;script&gt;x()" in pages[2] or "x()" in _text(pages[2])
        assert "<script" not in "".join(pages)


async def test_destination_page_history_and_queue(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        token = await panel.login()
        page = await (await panel.client.get("/destinations/fr-drip")).text()
        assert "Pause" in page and "Send now" in page and 'for="reason"' in page
        response = await panel.client.post("/destinations/fr-drip/pause",
                                           data={"csrf_token": token, "reason": "holiday <b>break</b>"})
        page = await response.text()
        assert "holiday &lt;b&gt;break&lt;/b&gt;" in page and "Resume" in page
        assert build_status(panel.service).destinations[0].paused == "holiday <b>break</b>"
        page = await (await panel.client.post("/destinations/fr-drip/resume", data={"csrf_token": token})).text()
        assert "fr-drip: resumed" in page
        assert all(d.paused is None for d in build_status(panel.service).destinations)
        assert (await panel.client.get("/destinations/nope")).status == 404


async def test_send_dry_run_then_confirm(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        token = await panel.login()
        form = await (await panel.client.get("/destinations/fr-drip/send")).text()
        assert 'name="issue"' in form and 'value="tools_datasets"' in form
        data = {"csrf_token": token, "issue": "4", "section": "tools_datasets"}
        preview = await (await panel.client.post("/destinations/fr-drip/send", data=data)).text()
        assert "Nothing has been sent" in preview and 'name="confirm" value="yes"' in preview
        assert panel.service.outbox.rows("fr-drip") == []  # the dry run enqueued nothing
        result = await (await panel.client.post("/destinations/fr-drip/send", data={**data, "confirm": "yes"})).text()
        rows = panel.service.outbox.rows("fr-drip")
        assert rows and {r.unit for r in rows} == {"tools_datasets"} and all(r.state == "sent" for r in rows)
        assert "delivered" in result and "Outils" in result


async def test_search_answers_from_the_engine(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        await panel.login()
        page = await (await panel.client.get("/search?q=deepspeed&lang=en")).text()
        assert "DeepSpeed" in page and 'href="/issues/' in page


async def test_poll_now_reports_the_feed_state(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        token = await panel.login()
        page = await (await panel.client.post("/feeds/nlp/poll", data={"csrf_token": token})).text()
        assert "feed nlp: polled" in page
        page = await (await panel.client.post("/feeds/nope/poll", data={"csrf_token": token})).text()
        assert "feeds.nope: unknown feed" in page


async def test_issues_filter_by_language_and_search_marks_words_in_every_language(tmp_path: Path) -> None:
    async with running_panel(write_config(tmp_path)) as panel:
        await panel.login()
        listing = await (await panel.client.get("/issues?lang=en")).text()
        labels = re.findall(r'<a href="/issues/\d+">([^<]+)</a>', listing)
        assert labels and all(label.endswith("(EN)") for label in labels)
        assert '<option value="en" selected>' in listing
        everywhere = await (await panel.client.get("/search?q=bert")).text()
        languages = set(re.findall(r"#\d+ \((\w+)\) ·", everywhere))
        assert len(languages) > 1  # "all languages" (the default) finds editions in several
        assert re.search(r"<mark>bert</mark>", everywhere, re.I)
        french = await (await panel.client.get("/search?q=bert&lang=fr")).text()
        assert set(re.findall(r"#\d+ \((\w+)\) ·", french)) == {"FR"}
        missing = await panel.client.get("/issues/999999")
        assert missing.status == 404 and "Not found" in await missing.text() and "No such issue" in await missing.text()
