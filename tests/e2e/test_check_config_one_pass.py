"""`check-config` in one pass: every problem of every kind in one run, keys checked per destination's feeds.

Fixing exactly what one run lists must give a clean run: the test fixes each listed line and
checks again. Section and topic keys are judged against what the destination's own feeds have
(stored issues, else the split of the local feed file), with did-you-mean both ways.
"""

from __future__ import annotations

from pathlib import Path

from tests.harness.cli import run_cli
from tests.harness.paths import ROOT, TWIR_FEED

NLP = ROOT / "bot" / "data" / "dair-ai-feed-2020-03-17.xml"
TWIR = TWIR_FEED
TOKENS = {"TELEGRAM_BOT_TOKEN": "12345:" + "a" * 30, "DISCORD_BOT_TOKEN": "b" * 30}


def _check(config: Path, env: dict[str, str] | None = None) -> tuple[int, list[str], list[str]]:
    result = run_cli("check-config", "--config", str(config), env=env)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    return result.returncode, [line for line in lines[:-1] if not line.startswith("warning: ")], \
        [line for line in lines if line.startswith("warning: ")]


#: (mistake, fix) per line; the keys each mistake is reported under.
MISTAKES: list[tuple[str, str, str]] = [
    ("feeds.nlp.poll_interval", 'poll_interval = "soon"', 'poll_interval = "30m"'),
    ("feeds.nlp.newsletter.title_pattern", 'title_pattern = "(a+)+"', 'title_pattern = "(?i)newsletter"'),
    ("feeds.extra.url", 'url = "no-such-feed.xml"', f'url = "{TWIR}"'),
    ("destinations.tg.languages", 'languages = ["french"]', 'languages = ["fr"]'),
    ("destinations.tg", 'mention_role = "123456789012345678"', ""),
    ("destinations.tg.sections", 'sections = ["educaton", "tool_datasets", "toolz"]',
     'sections = ["education", "tools_datasets"]'),
    ("destinations.tg.topics.outilz", "topics = { outilz = 4 }", "topics = { tools_datasets = 4 }"),
    ("destinations.tg.timzone", 'timzone = "Europe/Paris"', 'timezone = "Europe/Paris"'),
    ("destinations.dc.channel", 'channel = "general"', 'channel = "123456789012345678"'),
    ("destinations.dc.feeds", 'feeds = ["nlpp"]', 'feeds = ["nlp"]'),
    ("destinations.dc.mention_roles.jobz", 'mention_roles = { jobz = "123456789012345678" }', ""),
    ("destinations.drip.schedule", 'schedule = "cron 0 25 * * *"', 'schedule = "cron 0 9 * * *"'),
    ("sections.aliases.educaton", 'educaton = ["Lernen"]', 'education = ["Lernen"]'),
]


def _document(tmp: Path, fixed: bool) -> str:
    use = {key: (fix if fixed else mistake) for key, mistake, fix in MISTAKES}
    return f"""
[storage]
path = "{tmp / 'db.sqlite'}"
[sections.aliases]
{use["sections.aliases.educaton"]}
[[feeds]]
name = "nlp"
url = "{NLP}"
{use["feeds.nlp.poll_interval"]}
{use["feeds.nlp.newsletter.title_pattern"]}
[[feeds]]
name = "extra"
{use["feeds.extra.url"]}
[[destinations]]
name = "tg"
platform = "telegram"
chat = "@some_channel"
feeds = ["nlp"]
{use["destinations.tg.languages"]}
{use["destinations.tg"]}
{use["destinations.tg.sections"]}
{use["destinations.tg.topics.outilz"]}
{use["destinations.tg.timzone"]}
[[destinations]]
name = "dc"
platform = "discord"
{use["destinations.dc.channel"]}
{use["destinations.dc.feeds"]}
{use["destinations.dc.mention_roles.jobz"]}
[[destinations]]
name = "drip"
platform = "console"
feeds = ["extra"]
sections = ["jobs"]
{use["destinations.drip.schedule"]}
"""


def test_a_dozen_mistakes_of_every_stage_are_listed_in_one_run_and_fixing_them_is_enough(tmp_path: Path) -> None:
    """Field values, whole-table checks, cross-table names, files, section keys per feed, tokens: one list."""
    config = tmp_path / "config.toml"
    config.write_text(_document(tmp_path, fixed=False), encoding="utf-8")
    code, problems, _warnings = _check(config)
    assert code == 2
    keys = [line.split(": ", 1)[0] for line in problems]
    expected = {key for key, _, _ in MISTAKES} | {"telegram.token_env", "discord.token_env"}
    assert set(keys) == expected, "\n".join(problems)
    said = "\n".join(problems)
    assert "unknown section 'educaton' (did you mean \"education\"?)" in said
    assert "unknown section 'tool_datasets' (did you mean \"tools_datasets\"?)" in said
    assert "unknown section 'toolz'" in said
    assert "mention_role and mention_roles are Discord options" in said
    config.write_text(_document(tmp_path, fixed=True), encoding="utf-8")
    code, problems, warnings = _check(config, TOKENS)
    assert (code, problems, warnings) == (0, [], []), "\n".join(problems + warnings)


def test_toolz_on_a_fresh_install_with_a_local_feed_file_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"""
[storage]
path = "{tmp_path / 'fresh.db'}"
[[feeds]]
name = "nlp"
url = "{NLP}"
[[destinations]]
name = "console"
platform = "console"
sections = ["toolz"]
""", encoding="utf-8")
    code, problems, _ = _check(config)
    assert code == 2 and not (tmp_path / "fresh.db").exists()
    assert problems[0].startswith("destinations.console.sections: unknown section 'toolz' (feed nlp has: ")
    assert "tools_datasets" in problems[0]


def test_keys_are_checked_against_each_destinations_own_feeds_once_something_is_stored(tmp_path: Path) -> None:
    """NLP issues stored, TWIR new (a local file): `topics.jobs` is right for TWIR's destination, wrong for NLP's."""
    db = tmp_path / "db.sqlite"
    config = tmp_path / "config.toml"
    head = f'[storage]\npath = "{db}"\n[[feeds]]\nname = "nlp"\nurl = "{NLP}"\n'
    config.write_text(head, encoding="utf-8")
    assert run_cli("ingest", "--config", str(config)).returncode == 0
    config.write_text(head + f"""
[[feeds]]
name = "twir"
url = "{TWIR}"
[[destinations]]
name = "rust"
platform = "telegram"
chat = -1001234567890
feeds = ["twir"]
topics = {{ jobs = 3, crate_of_the_week = 4 }}
[[destinations]]
name = "nlp-forum"
platform = "telegram"
chat = -1001234567891
feeds = ["nlp"]
topics = {{ jobs = 3 }}
""", encoding="utf-8")
    code, problems, _ = _check(config, TOKENS)
    assert code == 2
    assert problems == [problems[0]] and problems[0].startswith(
        "destinations.nlp-forum.topics.jobs: unknown section key (feed nlp has: ")


def test_keys_of_a_feed_not_read_yet_are_one_warning_and_not_a_failure(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"""
[storage]
path = "{tmp_path / 'db.sqlite'}"
[[feeds]]
name = "remote"
url = "https://newsletter.invalid/feed.xml"
[[destinations]]
name = "console"
platform = "console"
sections = ["whatever_it_has"]
""", encoding="utf-8")
    result = run_cli("check-config", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines() == [
        "warning: destinations console: section and topic keys will be checked after the first poll (nothing "
        "stored yet from feed remote, no local feed file to read; `check-config --online` fetches it now)"]
    assert "OK" in result.stdout


def test_a_feed_newsletter_key_written_twice_is_one_line_and_the_rest_is_still_checked(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"""
[[feeds]]
name = "nlp"
url = "{NLP}"
title_pattern = "(?i)newsletter"
[feeds.newsletter]
title_pattern = "(?i)letter"
[[destinations]]
name = "console"
platform = "console"
sections = ["toolz"]
""", encoding="utf-8")
    code, problems, _ = _check(config)
    assert code == 2
    assert problems[0] == "feeds.nlp: title_pattern set both in the feed and in its [feeds.newsletter] table"
    assert problems[1].startswith("destinations.console.sections: unknown section 'toolz'") and len(problems) == 2


def test_a_top_level_newsletter_name_shared_by_two_feeds_is_one_warning(tmp_path: Path) -> None:
    """"NLP Newsletter" as the default of two feeds would label This Week in Rust's issues with it."""
    config = tmp_path / "config.toml"
    config.write_text(f"""
[storage]
path = "{tmp_path / 'db.sqlite'}"
[newsletter]
name = "NLP Newsletter"
[[feeds]]
name = "nlp"
url = "{NLP}"
[[feeds]]
name = "twir"
url = "{TWIR}"
""", encoding="utf-8")
    result = run_cli("check-config", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines() == [
        "warning: newsletter.name: applies to every feed that sets none of its own (nlp, twir); give each feed its "
        "own under [feeds.newsletter]"]
