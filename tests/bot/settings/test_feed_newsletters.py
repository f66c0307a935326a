"""Each feed's own newsletter keys win over the top-level defaults, and their bad values are named by key."""

from __future__ import annotations

from bot.settings.config import NewsletterConfig, config_problems


def test_a_feeds_own_newsletter_keys_win_over_the_top_level_defaults() -> None:
    config, problems = config_problems({
        "newsletter": {"name": "Default Name", "min_sections": 4},
        "feeds": [{"name": "a", "url": "https://a.example/feed", "newsletter": {"name": "Alpha"}},
                  {"name": "b", "url": "https://b.example/feed", "title_pattern": "^B", "min_sections": 2},
                  {"name": "c", "url": "https://c.example/feed", "newsletter": "Gamma"}],
    })
    assert problems == [] and config is not None
    assert config.newsletter_for("a") == NewsletterConfig(name="Alpha", min_sections=4)
    assert config.newsletter_for("b") == NewsletterConfig(name="Default Name", title_pattern="^B", min_sections=2)
    assert config.newsletter_for("c").name == "Gamma"
    assert config.newsletter_for("elsewhere") == NewsletterConfig(name="Default Name", min_sections=4)
    _, bad = config_problems({"feeds": [{"name": "d", "url": "https://d.example/", "title_pattern": "(a+)+",
                                         "newsletter": {"min_sections": 0}}]})
    assert [p.key for p in bad] == ["feeds.d.newsletter.title_pattern", "feeds.d.newsletter.min_sections"] or \
        {p.key for p in bad} == {"feeds.d.newsletter.title_pattern", "feeds.d.newsletter.min_sections"}
