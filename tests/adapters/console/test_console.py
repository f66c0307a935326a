"""The console platform: readable, deterministic posts and a durable JSON-lines delivery log."""

from __future__ import annotations

import io
import json
from pathlib import Path

from adapters.console import ConsoleRenderer, ConsoleSender, console_adapter
from bot.core.messages import DigestPost, IndexEntry, IndexPost, Notice, SectionPost
from bot.core.models import SectionRef
from bot.ports import Destination, Renderer, Sender
from tests.harness.scheduling import make_issue

DEST = Destination(name="demo", platform="console", chat="")


def test_render_is_readable_and_deterministic() -> None:
    issue = make_issue("fr-4")
    adapter = console_adapter(io.StringIO())
    assert isinstance(adapter.renderer, Renderer) and isinstance(adapter.sender, Sender) and adapter.commands is None
    console = adapter.renderer
    post = SectionPost(issue=issue.ref, section=issue.sections[1])
    [part] = console.render(post, DEST)
    assert part == console.render(post, DEST)[0]
    lines = part.text.splitlines()
    assert lines[0] == "Outils et jeux de données ⚙️ — NLP Newsletter #4 (FR)"
    assert "▶ Outils et jeux de données item 0" in lines
    assert "  [source] https://example.org/tools_datasets/0" in lines
    assert part.notify is True


def test_long_posts_split_at_item_boundaries_within_the_limit() -> None:
    issue = make_issue("fr-4", items=6, long=300)
    console = ConsoleRenderer(max_chars=900)
    parts = console.render(SectionPost(issue=issue.ref, section=issue.sections[0], notify=True), DEST)
    assert len(parts) > 2 and all(len(p.text) <= 900 for p in parts)
    assert parts[0].text.startswith(f"Publications 📙 — NLP Newsletter #4 (FR) (1/{len(parts)})")
    assert [p.notify for p in parts] == [True] + [False] * (len(parts) - 1)
    assert sum(p.text.count("▶ ") for p in parts) == 6


def test_digest_and_index_posts() -> None:
    issue = make_issue("fr-4")
    console = ConsoleRenderer()
    [digest] = console.render(DigestPost(issue=issue.ref, sections=issue.sections), DEST)
    assert digest.text.startswith("📬 NLP Newsletter #4 — NLP Newsletter #4 (FR)\n\nhttps://dair.ai/fr-4")
    assert "🎓 Éducation\n  • Éducation item 0\n  • Éducation item 1" in digest.text
    ref = SectionRef(key="education", heading="Éducation 🎓", emoji="🎓", position=2)
    [index] = console.render(IndexPost(issue=issue.ref, entries=(IndexEntry(ref, "console://x"),)), DEST)
    assert index.text == "🗂 Index — NLP Newsletter #4 (FR)\n\nÉducation 🎓 → console://x"


async def test_send_prints_and_logs_each_part(tmp_path: Path) -> None:
    stream = io.StringIO()
    log = tmp_path / "deliveries.jsonl"
    console = ConsoleSender(stream, jsonl_path=str(log))
    issue = make_issue("fr-4")
    [part] = ConsoleRenderer().render(SectionPost(issue=issue.ref, section=issue.sections[0]), DEST)
    sent = await console.send(DEST, part, key="k1")  # starts the connection (opens the log) itself
    await console.edit(DEST, sent, part)
    await console.close()
    await console.close()  # idempotent
    assert sent.message_ids == ("k1",) and sent.url == "console://demo/k1"
    assert "── demo ──\nPublications 📙" in stream.getvalue()
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["op"], r["dest"], r["key"]) for r in records] == [("send", "demo", "k1"), ("edit", "demo", "k1")]
    assert records[0]["text"] == part.text


async def test_close_then_start_again_any_number_of_times(tmp_path: Path) -> None:
    log = tmp_path / "deliveries.jsonl"
    console = ConsoleSender(io.StringIO(), jsonl_path=str(log))
    part = ConsoleRenderer().render_answer(Notice(lang="en", message="x"))[0]
    for round_ in range(3):
        await console.start()
        await console.start()  # idempotent
        assert console.generation == round_ + 1
        await console.send(DEST, part, key=f"k{round_}")
        await console.close()
    assert [json.loads(line)["key"] for line in log.read_text().splitlines()] == ["k0", "k1", "k2"]


def test_render_answer() -> None:
    console = ConsoleRenderer()
    [part] = console.render_answer(Notice(lang="fr", message="Bonjour"))
    assert part.text.strip() == "Bonjour"
