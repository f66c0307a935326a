"""The shared corpus as tests and benches use it: the bundled feed, ingested through the real engine.

`CORPUS` is the one path to the snapshot for every test and benchmark (the package's own copy).
"""

from __future__ import annotations

from functools import cache

from bot.core.messages import SectionPost
from bot.core.models import Issue
from bot.feeds.ingest import Ingestor
from bot.ports import Destination, Outlet, Sent
from bot.settings.config import Config, NewsletterConfig, bundled_feed_path
from bot.storage.store import Store

CORPUS = bundled_feed_path()


@cache
def _ingested() -> Store:
    store = Store(":memory:")
    Ingestor(store, Config(newsletter=NewsletterConfig(name="NLP Newsletter"))).ingest_bytes(CORPUS.read_bytes(), "nlp")
    return store


def corpus_store() -> Store:
    """A fresh in-memory store holding every newsletter edition of the corpus (a copy: tests may write).

    The corpus is ingested once per session and copied with SQLite's backup API, which takes
    milliseconds, so every test gets its own store without paying for the ingest again.
    """
    store = Store(":memory:")
    _ingested().db.conn.backup(store.db.conn)
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
        post = SectionPost(issue=issue.ref, section=section, notify=number == 0)
        for index, part in enumerate(platform.renderer.render(post, dest)):
            sent.append(await platform.sender.send(dest, part, key=f"{issue.entry_id}:{section.key}:{index}"))
    return sent
