"""`<guid>` entry ids are feed text: control and bidi-override characters never reach
`preview --json`, `status --json` or the database (black-box, the real CLI on a hostile feed file)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from tests.harness.cli import run_cli_on

# XML 1.0 has no C0 controls and feedparser maps C1 ones to cp1252: bidi overrides are what gets through
DIRTY = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>NLP</title><link>https://example.org/</link><description>x</description>
<item>
  <title>NLP Newsletter #12</title>
  <link>https://example.org/nlp-12</link>
  <guid isPermaLink="false">nlp-12\u202ekcatta\u2066\u202d</guid>
  <pubDate>Sun, 01 Nov 2026 00:00:00 +0000</pubDate>
  <description>&lt;h1&gt;Publications 📙&lt;/h1&gt;&lt;p&gt;&lt;strong&gt;Paper&lt;/strong&gt; a study.
  &lt;a href="https://example.org/p"&gt;p&lt;/a&gt;&lt;/p&gt;
  &lt;h1&gt;Tools ⚙️&lt;/h1&gt;&lt;p&gt;&lt;strong&gt;Tool&lt;/strong&gt;
  does things. &lt;a href="https://example.org/t"&gt;t&lt;/a&gt;&lt;/p&gt;&lt;h1&gt;Education 🎓&lt;/h1&gt;
  &lt;p&gt;&lt;strong&gt;Course&lt;/strong&gt; teaches. &lt;a href="https://example.org/c"&gt;c&lt;/a&gt;&lt;/p&gt;</description>
</item>
<item>
  <title>NLP Newsletter #13</title>
  <link>https://example.org/nlp-13</link>
  <guid isPermaLink="false">\u202e \u2066</guid>
  <pubDate>Sun, 08 Nov 2026 00:00:00 +0000</pubDate>
  <description>&lt;h1&gt;Publications 📙&lt;/h1&gt;&lt;p&gt;&lt;strong&gt;Paper&lt;/strong&gt; a study.
  &lt;a href="https://example.org/p"&gt;p&lt;/a&gt;&lt;/p&gt;
  &lt;h1&gt;Tools ⚙️&lt;/h1&gt;&lt;p&gt;&lt;strong&gt;Tool&lt;/strong&gt;
  does things. &lt;a href="https://example.org/t"&gt;t&lt;/a&gt;&lt;/p&gt;&lt;h1&gt;Education 🎓&lt;/h1&gt;
  &lt;p&gt;&lt;strong&gt;Course&lt;/strong&gt; teaches. &lt;a href="https://example.org/c"&gt;c&lt;/a&gt;&lt;/p&gt;</description>
</item>
</channel></rss>
"""


def test_entry_ids_are_cleaned_like_all_feed_text(tmp_path: Path) -> None:
    feed = tmp_path / "hostile.xml"
    feed.write_text(FEED, encoding="utf-8")
    db = tmp_path / "bot.db"
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{db}"\n[[feeds]]\nname = "nlp"\nurl = "{feed}"\n'
                      '[[destinations]]\nname = "c"\nplatform = "console"\n', encoding="utf-8")
    preview = run_cli_on(config, "preview", "--json")
    assert preview.returncode == 0, preview.stderr
    ids = [edition["id"] for edition in json.loads(preview.stdout)]
    assert sorted(ids) == ["https://example.org/nlp-13", "nlp-12kcatta"], ids  # an id of nothing: the link
    ingest = run_cli_on(config, "ingest")
    assert ingest.returncode == 0, ingest.stderr
    status = run_cli_on(config, "status", "--json")
    assert status.returncode == 0 and not DIRTY.search(status.stdout + status.stderr), status.stdout
    with sqlite3.connect(db) as conn:
        stored = [row[0] for row in conn.execute("select entry_id from issues")]
    assert sorted(stored) == sorted(ids)
