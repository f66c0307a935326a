"""The shared corpus as tests use it: the bundled feed, ingested through the real engine."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from bot.config import Config
from bot.ingest import Ingestor
from bot.models import Issue, Post
from bot.ports import Destination, Outlet, Sent
from bot.store import Store

CORPUS = Path(__file__).resolve().parents[1] / "bot" / "data" / "dair-ai-feed-2020-03-17.xml"


def corpus_store() -> Store:
    """A fresh in-memory store holding every newsletter edition of the corpus."""
    store = Store(":memory:")
    Ingestor(store, Config()).ingest_bytes(CORPUS.read_bytes(), "nlp")
    return store


@cache
def corpus_issues() -> tuple[Issue, ...]:
    """Every edition of the corpus, newest first, as the store gives them back."""
    store = corpus_store()
    issues = (store.get_issue(ref.entry_id) for ref in store.list_issues(limit=100))
    return tuple(issue for issue in issues if issue is not None)


async def deliver_sections(platform: Outlet, issue: Issue, dest: Destination) -> list[Sent]:
    """What the outbox does for one destination: every section in order, one key per part."""
    sent: list[Sent] = []
    for number, section in enumerate(issue.sections):
        post = Post(kind="section", issue=issue.ref, section=section, notify=number == 0)
        for index, part in enumerate(platform.renderer.render(post, dest)):
            sent.append(await platform.sender.send(dest, part, key=f"{issue.entry_id}:{section.key}:{index}"))
    return sent
