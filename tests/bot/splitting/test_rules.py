"""The splitter's general rules, one synthetic newsletter each (not the words of any real issue).

Each test states a rule in its name and docstring; the HTML is made up, so a rule
that passes here passes because it is general, not because it knows a heading.
"""

from __future__ import annotations

import logging

import pytest

from bot.core.models import Issue, RawEntry
from bot.settings.config import NewsletterConfig
from bot.splitting.detect import classify_feed
from bot.splitting.edition import number_series
from bot.splitting.sections import SectionAliases
from bot.splitting.split import split_entry

ALIASES = SectionAliases()


def split(html: str, title: str = "Garden Weekly 12", feed_title: str = "Garden Weekly",
          entry_id: str = "urn:garden:12") -> Issue:
    entry = RawEntry(entry_id=entry_id, link=f"https://garden.example/{entry_id.rsplit(':', 1)[-1]}/",
                     title=title, html=html, feed="garden", feed_title=feed_title)
    return split_entry(entry, aliases=ALIASES)


def headings(issue: Issue) -> list[str]:
    return [section.heading for section in issue.sections]


def titles(issue: Issue, position: int) -> list[str]:
    return [item.title for item in issue.sections[position].items]


# --------------------------------------------------------------------------- sections
def test_a_heading_right_after_the_rule_that_closes_a_section_starts_a_section_whatever_its_level() -> None:
    """Sections are <h1>; a closing <hr /> then an <h2> block: the <h2> is a section, not an item."""
    issue = split("""
        <h1>Seeds</h1><p><strong>Tomato</strong></p><p>Red.</p>
        <h1>Tools</h1><p><strong>Spade</strong></p><p>Sharp.</p><hr />
        <h2>Club news</h2><p>We moved to a bigger shed.</p><p>Meetings are on Fridays.</p>
        <p>Bring a friend.</p><p>Tea is served.</p><p>Parking is free.</p><p>See you there.</p>
    """)
    assert headings(issue) == ["Seeds", "Tools", "Club news"]
    assert titles(issue, 1) == ["Spade"]
    assert len(issue.sections[2].items) == 6


def test_rules_between_stories_do_not_make_their_headings_sections() -> None:
    """Several headings after rules in the last section are stories set apart, not closing blocks."""
    issue = split("""
        <h2>Seeds</h2><p>a</p><h2>Stories</h2>
        <hr /><h3>Story one</h3><p>One.</p><hr /><h3>Story two</h3><p>Two.</p>
        <hr /><h3>Story three</h3><p>Three.</p>
    """)
    assert headings(issue) == ["Seeds", "Stories"]
    assert titles(issue, 1) == ["Story one", "Story two", "Story three"]


def test_a_deeper_heading_that_only_follows_a_rule_inside_a_story_is_not_promoted_without_the_rule() -> None:
    """Without the rule, an <h2> under <h1> sections is a story heading (an item title)."""
    issue = split("""
        <h1>Seeds</h1><h2>Tomato</h2><p>Red.</p><h2>Basil</h2><p>Green.</p>
        <h1>Tools</h1><p><strong>Spade</strong></p><p>Sharp.</p>
    """)
    assert headings(issue) == ["Seeds", "Tools"]
    assert titles(issue, 0) == ["Tomato", "Basil"]


def test_section_headings_alternating_between_two_levels_are_peers_when_their_numbering_continues() -> None:
    """"# 1. …", "## 2. …", "# 3. …": the numbering says the <h2> is the second section."""
    issue = split("""
        <h1>1. Seeds</h1><p><strong>Tomato</strong></p><p>Red.</p>
        <h2><strong>2. Tools</strong></h2><p><strong>Spade</strong></p><p>Sharp.</p>
        <h1>3. Soil</h1><p><strong>Compost</strong></p><p>Brown.</p>
        <h2>4. Weather</h2><p><strong>Rain</strong></p><p>Wet.</p>
    """)
    assert [s.title for s in issue.sections] == ["Seeds", "Tools", "Soil", "Weather"]
    assert [titles(issue, i) for i in range(4)] == [["Tomato"], ["Spade"], ["Compost"], ["Rain"]]


def test_a_deeper_heading_naming_another_known_section_is_a_peer_of_known_section_headings() -> None:
    """Unnumbered alternating levels: where the section headings name known sections, a deeper
    heading that names another one (by name or emoji) is a section; a story heading is not."""
    issue = split("""
        <h1>Publications 📙</h1><h2>A paper</h2><p>About it.</p>
        <h2>Tools and Datasets ⚙️</h2><p><strong>Spade</strong></p><p>Sharp.</p>
        <h1>Education 🎓</h1><p><strong>A course</strong></p><p>Learn.</p>
        <h1>Mentions ⭐️</h1><p>A mention.</p>
    """)
    assert [s.key for s in issue.sections] == ["publications", "tools_datasets", "education", "mentions"]
    assert titles(issue, 0) == ["A paper"]


def test_a_first_heading_repeating_the_title_is_not_a_section() -> None:
    issue = split("<h1>Garden Weekly 12</h1><p>Hello.</p><h2>Seeds</h2><p>a</p><h2>Tools</h2><p>b</p>")
    assert headings(issue) == ["Seeds", "Tools"]
    assert [b.text for b in issue.preamble] == ["Garden Weekly 12", "Hello."]


def test_email_layout_tables_are_opened_but_data_tables_stay_whole() -> None:
    issue = split("""<table><tr><td><p>Hello.</p></td></tr>
        <tr><td><h2>Seeds</h2><p>Tomato.</p></td></tr><tr><td><h2>Tools</h2><p>Spade.</p>
        <table><tr><th>size</th><th>price</th></tr><tr><td>L</td><td>9</td></tr></table></td></tr></table>""")
    assert headings(issue) == ["Seeds", "Tools"]
    assert [item.text for item in issue.sections[1].items] == ["Spade.", "size | price |\nL | 9 |"]


def test_item_numbers_under_numbered_sections_are_not_section_numbers() -> None:
    """"<h2>1.1 …</h2>" under "# 1. …" is an item: only "N." continues the sections' numbering."""
    issue = split("""
        <h1>1. Seeds</h1><h2>1.1 Tomato</h2><p>Red.</p><h2>1.2 Basil</h2><p>Green.</p>
        <h1>2. Tools</h1><h2>2.1 Spade</h2><p>Sharp.</p>
    """)
    assert [s.title for s in issue.sections] == ["Seeds", "Tools"]
    assert titles(issue, 0) == ["Tomato", "Basil"]


def test_a_bold_section_name_among_bold_item_titles_is_one_more_item_title() -> None:
    """A known section name written as a bold paragraph, in a section whose items have bold
    titles, is an item title; a real heading with that name is a section."""
    paragraph = split("""
        <h1>Seeds</h1><p><strong>Tomato</strong></p><p>Red.</p>
        <h1>Tools</h1><p><strong>Spade</strong></p><p>Sharp.</p>
        <p><strong>Sources</strong></p><p>[1] Spade maker: https://spade.example/</p>
    """)
    assert headings(paragraph) == ["Seeds", "Tools"]
    assert titles(paragraph, 1) == ["Spade", "Sources"]
    heading = split("""
        <h1>Seeds</h1><p><strong>Tomato</strong></p><p>Red.</p>
        <h1>Tools</h1><p><strong>Spade</strong></p><p>Sharp.</p>
        <h1>Sources</h1><p>[1] Spade maker: https://spade.example/</p>
    """)
    assert [s.key for s in heading.sections] == ["seeds", "tools_datasets", "references"]


def test_a_bold_section_name_after_untitled_paragraphs_still_closes_them() -> None:
    """Where the section's items are untitled paragraphs, a bold known section name is the only
    visible boundary, and stays a section (the behaviour the first corpus relies on)."""
    issue = split("""
        <h1>Seeds</h1><p><strong>Tomato</strong></p><p>Red.</p>
        <h1>Notes</h1><p>A short note.</p><p>Another note.</p>
        <p><strong>Sources</strong></p><p>[1] Seed bank: https://seeds.example/</p>
    """)
    assert [s.key for s in issue.sections] == ["seeds", "notes", "references"]


def test_a_label_repeated_in_every_story_is_never_a_section() -> None:
    """Stories are <h2> under one <h1>; a bold known-section label (with its emoji) inside each
    story is part of the story, however section-like its words."""
    issue = split("""
        <h1>Top Stories</h1>
        <h2>Story one</h2><p>First.</p><p><strong>Education 🎓</strong></p><p>Read more one.</p>
        <h2>Story two</h2><p>Second.</p><p><strong>Education 🎓</strong></p><p>Read more two.</p>
        <h2>Story three</h2><p>Third.</p><p><strong>Education 🎓</strong></p><p>Read more three.</p>
        <h1>Seeds</h1><p><strong>Tomato</strong></p><p>Red.</p>
    """)
    assert [s.key for s in issue.sections] == ["top_stories", "seeds"]
    assert "Story one" in titles(issue, 0)
    once = split("""
        <h1>Top Stories</h1><h2>Story one</h2><p>First.</p><h2>Story two</h2><p>Second.</p>
        <p><strong>Education 🎓</strong></p><p>A course.</p><h1>Seeds</h1><p>Red.</p>
    """)
    assert [s.key for s in once.sections] == ["top_stories", "education", "seeds"]


def test_a_sub_heading_repeated_in_every_story_is_never_a_section_even_after_a_rule() -> None:
    issue = split("""
        <h1>Top Stories</h1>
        <h2>Story one</h2><p>First.</p><hr /><h3>Takeaway</h3><p>One.</p>
        <h2>Story two</h2><p>Second.</p><hr /><h3>Takeaway</h3><p>Two.</p>
        <h1>Seeds</h1><p>Red.</p>
    """)
    assert [s.key for s in issue.sections] == ["top_stories", "seeds"]


# --------------------------------------------------------------------------- lists of links
LINKS = """
<p>Welcome to this week's issue.</p>
<h2>Community</h2>
<h3>Articles</h3>
<ul>
<li><a href="https://a.example/one">Growing roses</a></li>
<li>[video] <a href="https://v.example/two">Pruning in winter</a> — a 10-minute guide</li>
<li><p><a href="https://a.example/three">Loose list entry</a>: with a paragraph</p></li>
<li><a href="https://a.example/four">Composting 101</a> by Ann
  <ul><li>part of the <a href="https://a.example/series">series</a></li></ul></li>
</ul>
<h3>Releases</h3>
<p>New tools this week.</p>
<ul><li><a href="https://t.example/1">rake 2.0</a></li><li><a href="https://t.example/2">hoe 1.1</a></li></ul>
<h2>Events</h2>
<h3>Online</h3>
<ul>
<li>2026-03-01 | Online | <a href="https://club.example">Garden Club</a>
  <ul><li><a href="https://club.example/e/1"><strong>Seed swap</strong></a></li></ul></li>
</ul>
<h2>Jobs</h2>
<p>See the <a href="https://jobs.example/">jobs board</a>.</p>
"""


def test_a_list_entry_that_starts_with_a_link_is_an_item_titled_by_the_link() -> None:
    issue = split(LINKS)
    community = issue.sections[0]
    by_title = {item.title: item for item in community.items}
    assert list(by_title)[:4] == ["Growing roses", "Pruning in winter", "Loose list entry", "Composting 101"]
    assert by_title["Growing roses"].text == "" and by_title["Growing roses"].url == "https://a.example/one"
    assert by_title["Pruning in winter"].text == "[video] — a 10-minute guide"
    assert by_title["Loose list entry"].text == "with a paragraph"
    assert by_title["Composting 101"].text.startswith("by Ann")
    assert "series" in by_title["Composting 101"].text
    assert by_title["Composting 101"].links == ("https://a.example/four", "https://a.example/series")


def test_sub_headings_group_items_without_becoming_sections_or_empty_items() -> None:
    """A sub-heading right over a list of links only groups it; one with text of its own is a
    story, and a list after its text is the story's body."""
    issue = split(LINKS)
    assert headings(issue) == ["Community", "Events", "Jobs"]
    assert titles(issue, 0) == ["Growing roses", "Pruning in winter", "Loose list entry", "Composting 101",
                                "Releases"]
    releases = issue.sections[0].items[4]
    assert releases.text == "New tools this week.\nrake 2.0\nhoe 1.1"
    assert releases.links == ("https://t.example/1", "https://t.example/2")


def test_an_entry_over_a_sub_list_of_links_gives_items_titled_by_those_links() -> None:
    events = split(LINKS).sections[1]
    (event,) = events.items
    assert event.title == "Seed swap"
    assert event.text == "2026-03-01 | Online | Garden Club"


def test_a_headed_story_keeps_a_plain_list_as_its_body() -> None:
    issue = split("""
        <h1>Seeds</h1><h4>1.1 Tomato</h4><p>Red.</p><ul><li>Sun</li><li>Water</li></ul>
        <h1>Tools</h1><h4>2.1 Spade</h4><p>Sharp.</p>
    """)
    (item,) = issue.sections[0].items
    assert item.title == "Tomato" and item.text == "Red.\nSun\nWater"


def test_a_bold_titled_item_keeps_its_list_of_links_as_its_body() -> None:
    issue = split("""
        <h1>Courses</h1><p><strong><em>Three courses</em></strong></p><p>Pick one:</p>
        <ul><li><a href="https://c.example/1">Course one</a></li>
            <li><a href="https://c.example/2">Course two</a></li></ul>
        <h1>Tools</h1><p><strong>Spade</strong></p><p>Sharp.</p>
    """)
    (item,) = issue.sections[0].items
    assert item.title == "Three courses" and item.text == "Pick one:\nCourse one\nCourse two"


# --------------------------------------------------------------------------- keys
def test_unknown_section_keys_do_not_depend_on_the_other_sections_of_the_issue() -> None:
    both = split("<h2>News from the Community</h2><p>a</p><h2>News from the Team</h2><p>b</p><h2>Jobs</h2><p>c</p>")
    one = split("<h2>News from the Team</h2><p>b</p><h2>Jobs</h2><p>c</p><h2>Quote</h2><p>d</p>")
    assert [s.key for s in both.sections] == ["news_from_the_community", "news_from_the_team", "jobs"]
    assert [s.key for s in one.sections] == ["news_from_the_team", "jobs", "quote"]


# --------------------------------------------------------------------------- which entries are issues
def _issue_html(n: int) -> str:
    return (f"<p>Issue {n}.</p><h2>Sightings</h2><p>Bird {n}.</p><h2>Photo of the week</h2><p>Owl.</p>"
            f"<h2>Events</h2><p>Walk.</p><h2>Jobs</h2><p>Ranger.</p>")


def test_a_dedicated_feed_needs_no_configuration(caplog: pytest.LogCaptureFixture) -> None:
    issues = [split(_issue_html(n), title=f"Birding Notes {n}", feed_title="Birding Notes", entry_id=f"urn:b:n{n}")
              for n in range(1, 6)]
    assert not any(issue.is_newsletter for issue in issues)  # alone, nothing in a title says "issue"
    with caplog.at_level(logging.INFO, logger="bot.splitting.detect"):
        result = classify_feed(issues, NewsletterConfig(), ALIASES, "birds")
    assert all(issue.is_newsletter for issue in result)
    assert [issue.number for issue in result] == [1, 2, 3, 4, 5]
    assert {issue.newsletter for issue in result} == {"Birding Notes"}
    assert [r.getMessage() for r in caplog.records] == [
        "feed birds: 5 of 5 entries are issues (5 by sections shared with the feed's other entries); skipped none"]


def test_numbered_entries_of_a_sectioned_feed_are_issues_whatever_their_section_names() -> None:
    """Each issue's sections are its stories (nothing recurs), but the titles number a series."""
    issues = [split(f"<h2>Story {n}a</h2><p>a</p><h2>Story {n}b</h2><p>b</p><h2>Story {n}c</h2><p>c</p>",
                    title=f"Field Notes #{n}: things", entry_id=f"urn:f:n{n}") for n in range(1, 5)]
    issues.append(split("<p>We are hiring.</p>", title="Job post", entry_id="urn:f:job"))
    result = classify_feed(issues, NewsletterConfig(), ALIASES)
    assert [issue.is_newsletter for issue in result] == [True, True, True, True, False]


def test_a_blog_whose_posts_share_nothing_is_not_a_newsletter() -> None:
    posts = [split(f"<h2>Intro {n}</h2><p>a</p><h2>Method {n}</h2><p>b</p><h2>Result {n}</h2><p>c</p>",
                   title=f"Post {n}", entry_id=f"urn:p:n{n}") for n in range(4)]
    assert not any(issue.is_newsletter for issue in classify_feed(posts, NewsletterConfig(), ALIASES))


def test_a_title_pattern_turns_the_feed_wide_test_off_for_mixed_feeds() -> None:
    issues = [split(_issue_html(n), title=title, entry_id=f"urn:m:{n}")
              for n, title in enumerate(["Digest 1", "Digest 2", "Trip report", "Digest 3"])]
    result = classify_feed(issues, NewsletterConfig(title_pattern="^Digest"), ALIASES)
    assert [issue.is_newsletter for issue in result] == [True, True, False, True]


def test_numbers_of_a_series_whose_name_is_not_the_feed_title() -> None:
    """"Birding Notes 41", "… 42: Owls", "… 43": the shared words before a number name a series."""
    issues = [split(_issue_html(n), title=title, feed_title="Valley Birds | a weekly letter", entry_id=f"urn:s:n{n}")
              for n, title in enumerate(["Birding Notes 41", "Birding Notes 42: Owls", "Birding Notes 43 (late)"])]
    assert [issue.number for issue in issues] == [None, None, None]
    numbered = classify_feed(number_series(issues), NewsletterConfig(), ALIASES)
    assert [issue.number for issue in numbered] == [41, 42, 43]
    assert all(issue.is_newsletter for issue in numbered)
    same = [split(_issue_html(n), title="Top 10 birds", entry_id=f"urn:t:n{n}") for n in range(3)]
    assert [issue.number for issue in number_series(same)] == [None, None, None]


def test_the_configured_name_wins_over_the_feed_title() -> None:
    entry = RawEntry(entry_id="urn:x", link="https://x.example/", title="Weekly 3", html=_issue_html(3), feed="x",
                     feed_title="Some Site")
    issue = split_entry(entry, newsletter=NewsletterConfig(name="Weekly"))
    assert issue.newsletter == "Weekly" and issue.number == 3 and issue.ref.label == "Weekly #3 (EN)"


def test_a_blockquote_right_after_a_paragraph_item_is_its_text_and_one_opening_a_section_is_an_item() -> None:
    """Untitled paragraph items, each followed by the quoted summary of what it links to: one item each.

    A quote that opens a section has no paragraph to belong to: it stays an item; a paragraph after a
    quote starts a new item; an attribution ("– an old proverb") closes the quote before it, so the quote
    after it is another one; a quote after a list's items is not glued to the list's last entry.
    """
    issue = split("""
        <h2>Proposals</h2>
        <p>Gardeners propose a <a href="https://garden.example/rfc/1">shared compost heap</a>.</p>
        <blockquote><p>Each plot gives a bucket a week; the heap feeds every bed.</p></blockquote>
        <p>A <a href="https://garden.example/rfc/2">seed library</a> is under discussion.</p>
        <blockquote><p>Members borrow seeds in spring</p><p>and return twice as many in autumn.</p></blockquote>
        <p>Hoses will be <a href="https://garden.example/rfc/3">shared on Sundays</a>.</p>
        <h2>Quote of the week</h2>
        <blockquote><p>The best fertiliser is the gardener's shadow.</p></blockquote>
        <p>– an old proverb</p>
        <blockquote><p>Weeds are flowers too.</p></blockquote>
        <p>– a tired gardener</p>
        <h2>Links</h2>
        <ul><li><a href="https://garden.example/a">Pruning roses</a></li></ul>
        <blockquote><p>A quote after a list.</p></blockquote>
    """)
    proposals, quote, links = issue.sections
    assert [(item.title, [b.kind for b in item.body]) for item in proposals.items] == [
        ("", ["paragraph", "quote"]), ("", ["paragraph", "quote", "quote"]), ("", ["paragraph"])]
    first = proposals.items[0]
    assert first.links == ("https://garden.example/rfc/1",)
    assert first.text.endswith("the heap feeds every bed.")
    assert [[b.kind for b in item.body] for item in quote.items] == [["quote"], ["paragraph"], ["quote"],
                                                                     ["paragraph"]]
    assert [item.title for item in links.items] == ["Pruning roses", ""]
