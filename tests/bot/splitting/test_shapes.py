"""The splitter on small hand-written shapes: later issues' layouts, hostile and broken HTML."""

from __future__ import annotations

import logging
import re

import pytest

from bot.core.models import Issue, RawEntry
from bot.settings.config import NewsletterConfig
from bot.splitting.detect import classify_feed
from bot.splitting.richtext import section_html
from bot.splitting.sections import SectionAliases
from bot.splitting.split import split_entry

BASE = "https://dair.ai/NLP_Newsletter_9/"


def entry(html: str, title: str = "NLP Newsletter #9: Test issue", link: str = BASE,
          entry_id: str = "https://dair.ai/NLP_Newsletter_9", base_url: str = "") -> RawEntry:
    return RawEntry(entry_id=entry_id, link=link, title=title, html=html, base_url=base_url, feed="test")


def split(html: str, **kwargs: str) -> Issue:
    return split_entry(entry(html, **kwargs))


def everything(issue: Issue) -> str:
    """All text, links and HTML the Issue carries (what could ever reach a platform)."""
    parts = [issue.title, *(b.text for b in issue.preamble)]
    parts += [s.href or "" for b in issue.preamble for s in b.spans]
    for section in issue.sections:
        parts += [section.heading, section.title, section_html(section.heading, section.items), section.key]
        for item in section.items:
            parts += [item.title, item.text, *item.images, *item.links, *item.sources]
            parts += [s.href or "" for b in item.body for s in b.spans]
    return "\n".join(parts)


THREE = """
<h1>Publications 📙</h1><p><strong><em>Paper A</em></strong></p><p>About A.</p>
<h1>Tools and Datasets ⚙️</h1><p><strong><em>Tool B</em></strong></p><p>About B.</p>
<h1>Education 🎓</h1><p><strong><em>Course C</em></strong></p><p>About C.</p>
"""


# --------------------------------------------------------------------------- later issues' layouts
def test_top_stories_with_h2_stories_under_an_h1() -> None:
    issue = split("""
        <p>Welcome to the 9th issue of the NLP Newsletter.</p>
        <h1 id="top-stories">Top Stories</h1>
        <h2>The Story A</h2><p>Story A text with a <a href="https://a.example/">link</a>.</p>
        <p><img src="/images/a.png" /></p>
        <h2>The Story B</h2><p>Story B text.</p><p>More about B.</p>
        <h1>Research and Publications 📙</h1>
        <p><strong><em>Paper one</em></strong></p><p>About paper one.</p>
        <h1>Stay Informed 🎯</h1><p>Follow us on <a href="https://twitter.com/dair_ai">Twitter</a>.</p>
    """)
    assert [s.key for s in issue.sections] == ["top_stories", "publications", "stay_informed"]
    top = issue.sections[0]
    assert top.heading == "Top Stories" and top.emoji == ""
    assert [i.title for i in top.items] == ["The Story A", "The Story B"]
    assert top.items[0].images == ("https://dair.ai/images/a.png",)
    assert top.items[0].links == ("https://a.example/",)
    assert top.items[1].text == "Story B text.\nMore about B."
    assert issue.sections[2].emoji == "🎯"
    assert issue.sections[2].items[0].title == ""
    assert issue.preamble[0].text == "Welcome to the 9th issue of the NLP Newsletter."
    assert issue.number == 9


def test_merged_creativity_ethics_society_and_stay_informed() -> None:
    issue = split(THREE + """
        <h1 id="creativity-ethics-and-society-">Creativity, Ethics, and Society 🌎</h1>
        <p><strong><em>Story</em></strong></p><p>Text.</p>
        <h1>Stay Informed 🎯</h1><p>Links.</p>
    """)
    keys = [s.key for s in issue.sections]
    assert keys[-2:] == ["creativity_ethics_society", "stay_informed"]
    assert issue.sections[-2].title == "Creativity, Ethics, and Society"
    assert issue.sections[-2].emoji == "🌎"


def test_emoji_less_intro_and_unknown_heading() -> None:
    issue = split("""
        <h1>Introduction</h1><p>Hello readers, this is the intro.</p>
        <h1>A Word From Our Sponsors</h1><p>Nothing to see.</p>
    """ + THREE)
    intro, unknown = issue.sections[0], issue.sections[1]
    assert (intro.key, intro.emoji, intro.title) == ("foreword", "", "Introduction")
    assert intro.items[0].title == "" and intro.items[0].text == "Hello readers, this is the intro."
    assert unknown.key == "a_word_from_our_sponsors"
    assert [s.key for s in issue.sections[2:]] == ["publications", "tools_datasets", "education"]


def test_h2_sections_wrapped_in_strong_and_numbered_with_h4_items() -> None:
    issue = split("""
        <h2 id="1"><strong>1、Publications 📙</strong></h2>
        <h4 id="11">1.1 第一篇论文</h4><p><br />论文简介。</p>
        <h4>1.2 Second paper</h4><p>Text.</p>
        <h2><strong>2、Tools and Datasets ⚙️</strong></h2>
        <p><strong>2.1 一个工具</strong></p><p>工具简介。</p>
        <h2>3、Education 🎓</h2><h4>3.10 A course</h4><p>Course.</p>
    """, title="NLP简报（Issue#9）")
    assert [s.heading for s in issue.sections] == ["1、Publications 📙", "2、Tools and Datasets ⚙️", "3、Education 🎓"]
    assert [s.title for s in issue.sections] == ["Publications", "Tools and Datasets", "Education"]
    assert [i.title for i in issue.sections[0].items] == ["第一篇论文", "Second paper"]
    assert issue.sections[1].items[0].title == "一个工具"
    assert issue.sections[2].items[0].title == "A course"
    assert issue.sections[0].items[0].text == "论文简介。"
    assert (issue.language, issue.number) == ("zh", 9)


def test_h4_item_titles_under_h1_sections_keep_inline_text_only() -> None:
    issue = split("""
        <h1>Publications 📙</h1>
        <h4 id="x">Paper <em>with</em> <a href="https://p.example/">link</a></h4>
        <p>Body.</p>
    """ + THREE)
    item = issue.sections[0].items[0]
    assert item.title == "Paper with link"
    assert "https://p.example/" in item.links


def test_untitled_mentions_one_item_per_paragraph_and_list_entry() -> None:
    issue = split(THREE + """
        <h1>Noteworthy Mentions ⭐</h1>
        <p><br />First mention with <a href="https://one.example/">a link</a>.</p>
        <p><br /></p>
        <p>Second mention.</p>
        <ul><li><p>Third, in a list.</p></li><li>Fourth.</li></ul>
    """)
    mentions = issue.sections[-1]
    assert mentions.key == "mentions" and mentions.emoji == "⭐"
    assert [i.title for i in mentions.items] == ["", "", "", ""]
    assert [i.text for i in mentions.items] == [
        "First mention with a link.", "Second mention.", "Third, in a list.", "Fourth."]
    assert mentions.items[0].links == ("https://one.example/",)
    assert mentions.items[2].body[0].kind == "paragraph"  # a list entry promoted to an item is its own paragraph


def test_paragraphs_after_a_title_belong_to_it_and_lists_stay_in_body() -> None:
    issue = split("""
        <h1>Publications 📙</h1>
        <p>An untitled lead paragraph.</p>
        <p><strong><em>Paper</em></strong></p>
        <p>First.</p><ul><li>point one</li><li>point <code>two</code></li></ul>
        <ol start="3"><li>third</li></ol>
        <blockquote><p>quoted</p></blockquote>
        <pre><code>x = 1
y = 2</code></pre>
        <p><a href="https://arxiv.org/abs/1"><em>[source]</em></a></p>
        <p><em>Figure: caption –</em> <a href="https://fig.example/">source</a></p>
    """ + THREE)
    lead, paper = issue.sections[0].items
    assert lead.title == "" and lead.text == "An untitled lead paragraph."
    assert paper.title == "Paper"
    kinds = [b.kind for b in paper.body]
    assert kinds == ["paragraph", "bullet", "bullet", "ordered", "quote", "code", "paragraph"]
    assert paper.body[2].spans[-1].code and paper.body[2].spans[-1].text == "two"
    assert paper.body[3].number == 3
    assert paper.body[5].text == "x = 1\ny = 2"
    assert paper.sources == ("https://arxiv.org/abs/1", "https://fig.example/")
    assert paper.url == "https://arxiv.org/abs/1"
    assert "[source]" not in paper.text  # a lone source link is not body text
    assert paper.body[-1].text == "Figure: caption – source"  # a caption keeps its words


@pytest.mark.parametrize("word", ["[source]", "Source", "(fuente)", "fonte", "kaynak", "المصدر", "来源"])
def test_source_links_in_every_language(word: str) -> None:
    issue = split(f"""<h1>Publications 📙</h1><p><strong>Paper</strong></p><p>Body.</p>
        <p><a href="https://src.example/x">{word}</a></p>""" + THREE)
    item = issue.sections[0].items[0]
    assert item.sources == ("https://src.example/x",)
    assert item.text == "Body."


def test_title_line_and_body_in_one_paragraph() -> None:
    issue = split("""<h1>Publications 📙</h1>
        <p><br />
        <strong><em>A title line</em></strong>
        And the body that follows it on the next source line.</p>
        <p>Bold <strong>inside</strong> a sentence is not a title.</p>""" + THREE)
    items = issue.sections[0].items
    assert items[0].title == "A title line"
    assert items[0].text.startswith("And the body that follows it on the next source line.")
    assert "Bold inside a sentence is not a title." in items[0].text


def test_table_of_contents_is_dropped_but_other_preamble_lists_stay() -> None:
    issue = split("""
        <p>Intro.</p>
        <ul><li>A list that is part of the intro</li></ul>
        <ul>
          <li><strong>1、Publications 📙</strong><ul><li>1.1 Paper A</li></ul></li>
          <li><strong>2、Tools and Datasets ⚙️</strong></li>
          <li><strong>3、Education 🎓</strong></li>
        </ul>
    """ + THREE)
    assert [b.text for b in issue.preamble] == ["Intro.", "A list that is part of the intro"]
    assert [s.key for s in issue.sections] == ["publications", "tools_datasets", "education"]


def test_html_comments_never_leak() -> None:
    issue = split("""
        <!-- Welcome to the sixth issue (English original) -->
        <p>Bem-vindo à sexta edição.<!-- inline english --></p>
        <h1>Publicações 📙</h1>
        <p><strong><em>Título</em></strong></p>
        <!-- Transformer-based models have shown to be effective -->
        <p>Texto em português.</p>
        <!-- <h1>Hidden heading</h1><p>hidden</p> -->
    """ + THREE, title="NLP Newsletter [PT-BR] #6: BERTology")
    text = everything(issue)
    for leaked in ("Welcome", "English", "inline english", "Transformer-based", "Hidden heading", "hidden", "<!--"):
        assert leaked not in text
    assert issue.sections[0].items[0].text == "Texto em português."
    assert issue.language == "pt-br"


def test_footer_after_trailing_hr_and_feed_template_line_are_dropped() -> None:
    issue = split(THREE + """
        <h1>Mentions spéciales ⭐️</h1>
        <p>Une mention.</p>
        <hr />
        <p>Vous pouvez retrouver la précédente newsletter <a href="https://dair.ai/NLP_Newsletter_-8_-FR/">ici</a></p>
        <p>Contact: ellfae@gmail.com</p>
        <p><a href="https://dair.ai/newsletter/">Abonnez-vous</a></p>
        <p><a href="https://dair.ai/NLP_Newsletter_9/">NLP Newsletter #9</a> was originally published by dair.ai
        at <a href="https://dair.ai">dair.ai</a> on March 09, 2020.</p>
    """)
    mentions = issue.sections[-1]
    assert [i.text for i in mentions.items] == ["Une mention."]
    assert "originally published" not in everything(issue)


def test_self_promotion_at_the_very_end_without_hr_is_dropped() -> None:
    issue = split(THREE + """
        <h1>Noteworthy Mentions ⭐️</h1>
        <p>A real mention of <a href="https://dair.ai/blog/">our blog</a> and <a href="https://x.example/">x</a>.</p>
        <p><br /><a href="https://dair.ai/newsletter/"><em>Subscribe</em></a> <em>🔖 to the NLP Newsletter.</em></p>
    """)
    assert [i.text for i in issue.sections[-1].items] == ["A real mention of our blog and x."]


def test_an_hr_between_items_is_not_a_footer() -> None:
    body = "".join(f"<p>Mention {n}.</p>" for n in range(8))
    issue = split(THREE + f"<h1>Mentions ⭐️</h1><p>Before.</p><hr />{body}")
    assert len(issue.sections[-1].items) == 9


def test_references_written_as_a_bold_paragraph_become_a_section() -> None:
    issue = split(THREE + """
        <h1>7、Noteworthy Mentions ⭐️</h1><p>Mention citing a tool[1].</p>
        <hr />
        <p><br /><strong>本文参考资料</strong></p>
        <p><br />[1] <strong>Tool:</strong> https://tool.example/x.</p>
    """, title="NLP简报（Issue#9）")
    assert [s.key for s in issue.sections][-2:] == ["mentions", "references"]
    refs = issue.sections[-1]
    assert refs.items[0].links == ("https://tool.example/x",)
    assert issue.sections[-2].items[0].links == ("https://tool.example/x",)  # from the "[1]" citation


def test_duplicate_headings_get_distinct_keys() -> None:
    issue = split(THREE + "<h1>Education 🎓</h1><p>Again.</p>")
    assert [s.key for s in issue.sections] == ["publications", "tools_datasets", "education", "education_2"]


def test_config_aliases_name_a_new_section() -> None:
    aliases = SectionAliases({"podcasts": ["Podcasts", "Balados"]})
    issue = split_entry(entry(THREE + "<h1>Balados 🎧</h1><p>Un épisode.</p>", title="NLP Newsletter [FR] #9"),
                        aliases=aliases)
    assert issue.sections[-1].key == "podcasts"


def test_relative_urls_resolve_against_base_url_then_link() -> None:
    html = THREE + '<h1>Mentions ⭐️</h1><p><a href="../x/">rel</a> <img src="img/y.png" /></p>'
    with_base = split(html, base_url="https://cdn.example/posts/a/")
    item = with_base.sections[-1].items[0]
    assert item.links == ("https://cdn.example/posts/x/",)
    assert item.images == ("https://cdn.example/posts/a/img/y.png",)
    from_link = split(html)
    assert from_link.sections[-1].items[0].links == ("https://dair.ai/x/",)


# --------------------------------------------------------------------------- newsletter or not
def test_non_newsletter_is_flagged_and_the_feed_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    post = split("<p>Natural language processing has made progress.</p><h2>Tokenization</h2><p>x</p>",
                 title="Fundamentals of NLP (Chapter 1): Tokenization", entry_id="urn:fundamentals",
                 link="https://dair.ai/Fundamentals-of-NLP-Chapter-1/")
    assert post.is_newsletter is False
    assert post.number is None
    with caplog.at_level(logging.INFO):
        result = classify_feed([split(THREE), post, split(THREE, entry_id="urn:other")], NewsletterConfig(),
                               SectionAliases(), "nlp")
    assert [issue.is_newsletter for issue in result] == [True, False, True]
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert messages == ["feed nlp: 2 of 3 entries are issues (2 by title); skipped 1: fewer sections than "
                        "min_sections"]


def test_newsletter_rule_title_or_known_sections() -> None:
    # title says newsletter but too few sections: not an issue
    assert not split("<h1>Publications 📙</h1><p>x</p>").is_newsletter
    # title does not say it, but the sections are the newsletter's own
    assert split(THREE, title="Boletim de PLN #9").is_newsletter
    # neither: a blog post with three unknown headings
    assert not split("<h1>Intro A</h1><p>a</p><h1>Part B</h1><p>b</p><h1>End C</h1><p>c</p>",
                     title="How we built X").is_newsletter
    # the rule follows the configuration
    config = NewsletterConfig(title_pattern="(?i)digest", min_sections=1)
    assert split_entry(entry("<h1>Anything</h1><p>a</p>", title="Weekly digest"), newsletter=config).is_newsletter


# --------------------------------------------------------------------------- hostile and broken HTML
def test_malicious_html_gives_text_only() -> None:
    issue = split("""
        <script>alert('preamble')</script><style>p { color: red }</style>
        <h1>Publications 📙</h1>
        <p><strong><em>Evil <script>alert(1)</script>title</em></strong></p>
        <p>Click <a href="javascript:alert(2)">here</a> or <a href=" JaVaScRiPt:alert(3)">there</a>
           or <a href="data:text/html,<b>x</b>">data</a> or <a href="mailto:me@example.com">mail</a>.</p>
        <p><img src="x" onerror="alert(4)" /><img src="javascript:alert(5)" />
           <img src="data:image/png;base64,AAA" /></p>
        <iframe src="https://evil.example/">iframe fallback text</iframe>
        <p onclick="alert(6)" style="x">Styled <span class="c">span</span> <u>under</u> <font color=red>font</font>.</p>
        <svg><text>svg text</text></svg><object data="x">object text</object>
        <p><a href="https://ok.example/?a=1&amp;b=2">ok</a></p>
    """ + THREE)
    text = everything(issue)
    assert "alert" not in text and "javascript" not in text.lower() and "data:" not in text
    assert "color" not in text and "iframe fallback" not in text and "svg text" not in text
    item = issue.sections[0].items[0]
    assert item.title == "Evil title"
    assert "Click here or there or data or mail." in item.text
    hrefs = [s.href for b in item.body for s in b.spans if s.href]
    assert hrefs == ["mailto:me@example.com", "https://ok.example/?a=1&b=2"]
    assert item.links == ("https://ok.example/?a=1&b=2",)  # mailto is not a web link
    assert item.images == ("https://dair.ai/NLP_Newsletter_9/x",)
    assert "Styled span under font." in item.text
    tags = set(re.findall(r"</?([a-z0-9]+)", section_html(issue.sections[0].heading, issue.sections[0].items)))
    assert tags <= {"h2", "h3", "p", "a", "b", "i", "code", "img", "br", "li", "blockquote", "pre"}


def test_deeply_nested_html_does_not_crash() -> None:
    depth = 20000
    html = "<h1>Publications 📙</h1><p>" + "<b><i><span>" * depth + "deep text" + "</span></i></b>" * depth + "</p>"
    issue = split(html + THREE)
    assert issue.sections[0].key == "publications"
    assert "deep text" in everything(issue)
    divs = "<div>" * 5000 + "<h1>Publications 📙</h1><p>inside</p>" + "</div>" * 5000
    nested = split(divs + THREE)
    assert nested.sections[0].items[0].text == "inside"


@pytest.mark.parametrize("garbage", [
    "", "   ", "\x00\x01\x02", "<<<<>>>>", "</p></div></h1>", "<h1>", "<h1></h1><h1> </h1>",
    "<p><strong></strong></p>", "<table><tr><td>cell<td>cell2", "<ul><li><ul><li><ul>", "&amp;&lt;&#0;&#xD800;",
    "<h1>Publications 📙<h1>Education 🎓<p>unclosed", "<?xml version='1.0'?><!DOCTYPE x><x:y>ns</x:y>",
    "\ud800 lone surrogate".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    "<p>" + "a" * 100 + "</p>" * 1000, "<a href='http://[::1'>bad url</a>", "<img src='http://[bad'>",
])
def test_garbage_never_raises(garbage: str) -> None:
    issue = split(garbage)
    assert isinstance(issue, Issue)
    assert issue.entry_id == "https://dair.ai/NLP_Newsletter_9"


def test_empty_content_gives_an_issue_without_sections() -> None:
    issue = split("", title="NLP Newsletter [ES] #10: Algo")
    assert issue.sections == () and issue.preamble == ()
    assert (issue.language, issue.number, issue.is_newsletter) == ("es", 10, False)


def test_huge_content_is_split_whole() -> None:
    """How long it takes is bench/split.py's question; here, that nothing is lost or merged."""
    items = "".join(f"<p><strong><em>Item {n}</em></strong></p><p>{'word ' * 50}</p>" for n in range(20))
    html = "".join(f"<h1>Section {n} 📙</h1>{items}" for n in range(200))
    assert len(html) > 1_000_000
    issue = split(html)
    assert len(issue.sections) == 200
    assert all(len(s.items) == 20 for s in issue.sections)
    assert issue.sections[1].key == "publications_2"
