"""What the previews let through: Telegram's tags only, Discord markdown drawn from escaped text."""

from __future__ import annotations

from bot.ports import Rendered
from web.panel.discordmd import discord_markdown
from web.panel.previews import preview_parts, sanitize_html
from web.panel.state import Measure, PreviewFace


def test_telegram_html_keeps_telegrams_tags_only() -> None:
    html = ('<b>bold</b> <i>it</i> <a href="https://example.org/a?b=1&amp;c=2">link</a> <code>x</code>'
            '<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">js</a>'
            '<span class="tg-spoiler">spoiler</span><iframe src="https://evil.example"></iframe>')
    clean = str(sanitize_html(html))
    assert "<b>bold</b>" in clean and "<i>it</i>" in clean and "<code>x</code>" in clean
    assert 'href="https://example.org/a?b=1&amp;c=2"' in clean
    assert '<span class="tg-spoiler">spoiler</span>' in clean
    for bad in ("<script", "alert(1)", "<img", "onerror", "javascript:", "<iframe"):
        assert bad not in clean, bad


def test_discord_markdown_draws_our_subset_and_escapes_the_rest() -> None:
    text = (r"**[Title \[1\] \<b\>](<https://example.org/x?a=1&b=2>)** \*literal\* *italic* `code` "
            "<script>alert(1)</script> [plain](https://example.org/p) [bad](javascript:alert(2))")
    html = str(discord_markdown(text))
    assert '<strong><a href="https://example.org/x?a=1&amp;b=2" rel="noopener noreferrer nofollow">' in html
    assert "Title [1] &lt;b&gt;</a></strong>" in html
    assert "*literal*" in html and "<em>italic</em>" in html and "<code>code</code>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    assert '<a href="https://example.org/p"' in html
    assert 'href="javascript' not in html


def test_parts_become_bubbles_and_cards_with_their_sizes() -> None:
    def sizes(part: Rendered) -> list[Measure]:
        return [Measure("text", len(part.text), 10)]

    telegram = PreviewFace("telegram", lambda post, dest: [], sizes)
    discord = PreviewFace("discord", lambda post, dest: [], sizes)
    [bubble] = preview_parts(telegram, [Rendered("text", "hello world!", {"html": "<b>hello</b> world!"})])
    assert str(bubble.html) == "<b>hello</b> world!" and bubble.measures[0].over
    [photo] = preview_parts(telegram, [Rendered("photo", "cap", {"photo": "https://x.example/a.png",
                                                                 "caption": "<i>cap</i>"})])
    assert photo.photos == ("https://x.example/a.png",) and str(photo.html) == "<i>cap</i>"
    embed = {"title": "T", "url": "https://x.example/", "description": "d", "color": 0x3498DB,
             "image": {"url": "http://insecure.example/i.png"}, "fields": [{"name": "n", "value": "v"}],
             "footer": {"text": "f"}}
    [message] = preview_parts(discord, [Rendered("embeds", "head", {"content": "head", "embeds": [embed]})])
    card = message.embeds[0]
    assert message.text == "head" and card.color == "#3498db" and card.fields == (("n", "v"),)
    assert card.image is None  # only https images are drawn
    assert not message.measures[0].over


def test_discord_mentions_are_pills_and_bullets_a_list() -> None:
    html = str(discord_markdown("<@&123456789012345678> **Tools**\n- one [a](https://x.example/)\n- two\nafter"))
    assert html.startswith('<span class="pill" title="pings role 123456789012345678">@role 123456789012345678</span>')
    assert '<ul><li>one <a href="https://x.example/"' in html and "</li><li>two</li></ul>after" in html
    assert "&lt;@" not in html
    assert "<ul>" not in str(discord_markdown(r"\- an escaped dash is text"))
