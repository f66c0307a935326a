"""The panel's small parts: marked search words, the filter tester against the send's own selection,
the dry run's summary, and the history read one line per post, newest first, page by page."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.discord.render import DiscordRenderer
from bot.contract.destination import Destination, DiscordOptions
from bot.contract.filters import ItemFilter
from bot.ports import Rendered
from bot.splitting.section_names import SectionMatcher
from bot.storage.store import Store
from scheduler.selection import selected_sections
from scheduler.sendnow import PlannedPost
from tests.harness.scheduling import Clock, Feeder, ScriptedPlatform, dest, make_config, make_issue, make_service
from web.panel.discordmd import discord_markdown
from web.panel.filtertest import parse_terms, try_filters
from web.panel.highlight import highlight
from web.panel.previews import preview_sections
from web.panel.sendview import send_summary
from web.panel.state import PreviewFace


def test_search_words_are_marked_and_the_rest_escaped() -> None:
    html = str(highlight("BERT beats <script>bert</script>, Roberta too", "bert"))
    assert html == ("<mark>BERT</mark> beats &lt;script&gt;<mark>bert</mark>&lt;/script&gt;, Ro<mark>bert</mark>a too")
    assert str(highlight("a <b>", "")) == "a &lt;b&gt;"


def test_terms_are_parsed_and_bad_ones_named() -> None:
    terms, problems = parse_terms("exclude", 'crypto\n"speech recognition", crypto\n\n!!!')
    assert terms == ("crypto", "speech recognition")
    assert problems == ["exclude: '!!!' has no letter or digit"]


def test_the_tester_keeps_exactly_what_the_send_selects() -> None:
    issue = make_issue("fr-4")
    keep = ItemFilter(exclude=(issue.sections[0].items[0].title.split()[0],))
    target = Destination("d", "console", "d", filters=keep)
    trial = try_filters(issue, target, SectionMatcher(), keep)
    sent = selected_sections(target, issue)
    assert [(s.section.key, [v.item.title for v in s.items if v.kept]) for s in trial.posted] == \
        [(s.key, [i.title for i in s.items]) for s in sent]
    assert any(not v.kept and "excluded" in v.why for s in trial.sections for v in s.items)
    assert 'exclude = ["' in trial.toml and trial.subscribe.startswith("-")


def test_the_summary_counts_posts_messages_the_notifying_one_and_the_index() -> None:
    def part(notify: bool) -> Rendered:
        return Rendered("text", "x", {}, notify=notify)

    planned = [PlannedPost("Tools · #4 (FR)", (part(True), part(False))), PlannedPost("Jobs · #4 (FR)", (part(False),)),
               PlannedPost("index · #4 (FR)", (part(False),))]
    summary = send_summary(planned)
    assert (summary.posts, summary.messages, summary.sections) == (3, 4, 2)
    assert summary.notifying == ("Tools · #4 (FR)",) and summary.index == "index · #4 (FR)"


async def test_history_is_one_line_per_post_newest_first_in_pages(store: Store) -> None:
    clock = Clock(datetime(2024, 3, 25, 6, 0, tzinfo=UTC))
    platform = ScriptedPlatform(clock)
    feeder = Feeder(store)
    service = make_service(make_config(dest("d")), store, clock, platform, feeder)
    feeder.publish(make_issue("fr-4"))
    await service.run_once()
    rows = [r for r in service.outbox.rows("d") if r.state == "sent"]
    units = list(dict.fromkeys((r.entry_id, r.unit) for r in rows))
    assert len(units) >= 3
    first_page, total = service.outbox.sent_posts("d", 2)
    second_page, _ = service.outbox.sent_posts("d", 2, 2)
    assert total == len(units)
    assert [p.parts for p in first_page + second_page] == [sum(1 for r in rows if (r.entry_id, r.unit) == u)
                                                          for u in units[::-1][:4]]
    assert [(p.entry_id, p.unit) for p in first_page + second_page] == units[::-1][:4]  # newest first


def test_a_preview_mentions_only_on_the_first_message_and_only_for_the_chosen_destination() -> None:
    issue = make_issue("fr-4")
    face = PreviewFace("discord", DiscordRenderer().render, lambda part: [])
    role = "234567890123456789"
    chosen = Destination("pings", "discord", "123456789012345678", options=DiscordOptions(mention_role=role))
    contents = [m.text for s in preview_sections(issue, {"discord": face}, chosen) for m in s.by_platform["discord"]]
    assert len(contents) > 2
    assert [i for i, text in enumerate(contents) if f"<@&{role}>" in text] == [0]  # the first message only
    assert str(discord_markdown(contents[0])).startswith(f'<span class="pill" title="pings role {role}">')
    neutral = [m.text for s in preview_sections(issue, {"discord": face}) for m in s.by_platform["discord"]]
    assert not any("<@&" in text for text in neutral)  # no destination chosen: nobody's role
