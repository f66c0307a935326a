"""Turns issues into outbox rows: admission (no-flood backfill), schedules, edits and indexes.

Everything that decides *what* a destination receives and *when it is enqueued*
lives here; the worker only decides how a queued part gets out. What follows a delivery
(an edition's index once its last section is out) is read back from the outbox after the
worker's commit (`react`), never done inside it.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.contract.schedule import CronDrip, Digest, OnPublish
from bot.core.i18n import plural_en
from bot.core.messages import DigestPost, Post, SectionPost
from bot.core.models import Issue, IssueRef, Section
from bot.ports import Destination, Rendered, Renderer
from bot.storage.store import SaveResult, Store
from scheduler.outbox import NewRow, Outbox, OutboxRow
from scheduler.selection import (
    Receipt,
    SectionMatcher,
    matches_issue,
    receives,
    selection_fingerprint,
)

__all__ = ["DIGEST", "INDEX", "Planner"]

log = logging.getLogger(__name__)

DIGEST = "#digest"
INDEX = "#index"
_MAX_LIST = 10_000


class Planner:
    """Enqueues posts for destinations; every method is idempotent (rows have stable keys)."""

    def __init__(self, store: Store, outbox: Outbox, platforms: Mapping[str, Renderer[Any]],
                 clock: Callable[[], float], spacing: float = 0.0, matcher: SectionMatcher | None = None) -> None:
        self.store = store
        self.outbox = outbox
        self.platforms = platforms
        self.clock = clock
        self.spacing = spacing
        self.matcher = matcher or SectionMatcher()
        self._issues: dict[str, Issue | None] = {}

    # ------------------------------------------------------------------ helpers
    def issue(self, entry_id: str) -> Issue | None:
        """Stored issue, cached for one planning pass (`forget()` clears it)."""
        if entry_id not in self._issues:
            self._issues[entry_id] = self.store.get_issue(entry_id)
        return self._issues[entry_id]

    def forget(self) -> None:
        self._issues.clear()

    def _candidates(self, dest: Destination, cache: dict[str | None, list[IssueRef]]) -> list[IssueRef]:
        """Editions the destination would take, newest first."""
        feeds: tuple[str | None, ...] = dest.feeds or (None,)
        refs: list[IssueRef] = []
        for feed in feeds:
            if feed not in cache:
                cache[feed] = self.store.list_issues(feed=feed, limit=_MAX_LIST)
            refs.extend(ref for ref in cache[feed] if matches_issue(dest, ref))
        if len(feeds) > 1:
            order = {id(r): i for i, r in enumerate(refs)}
            refs.sort(key=lambda r: (r.published is not None, r.published, -order[id(r)]), reverse=True)
        return refs

    def _selected(self, dest: Destination, issue: Issue) -> list[Section]:
        return list(self.receives(dest, issue).sections)

    def receives(self, dest: Destination, issue: Issue, only: str | None = None) -> Receipt:
        """What `dest` receives from `issue` (scheduler/selection.py's one answer, with this deployment's
        section aliases)."""
        return receives(dest, issue, self.matcher, only=only)

    def candidates(self, dest: Destination, number: int | None = None) -> list[IssueRef]:
        """Stored editions of the destination's feeds and languages, newest first (issue `number` only)."""
        refs = self._candidates(dest, {})
        return [r for r in refs if r.number == number] if number is not None else refs

    def _render(self, dest: Destination, post: Post) -> list[Rendered]:
        return list(self.platforms[dest.platform].render(post, dest))

    def _rows(self, dest: Destination, entry_id: str, unit: str, kind: str, parts: Sequence[Rendered],
              not_before: float, revision: int = 0) -> list[NewRow]:
        return [NewRow(dest.name, entry_id, unit, kind, i, len(parts), part, not_before, revision)
                for i, part in enumerate(parts)]

    # ------------------------------------------------------------------ admission
    def admit(self, dests: Mapping[str, Destination],
              cache: dict[str | None, list[IssueRef]] | None = None) -> dict[str, list[str]]:
        """Record which stored editions each destination takes; returns newly admitted ids.

        First sight of a destination (or of a new language/feed selection) takes only the
        newest `backfill` editions and marks the rest as skipped, so the archive never
        floods a chat. It happens once the store holds at least one matching edition
        (a destination created before the first poll is not "initialised" by an empty store).
        Afterwards every edition not seen before is admitted, oldest first.
        """
        cache = {} if cache is None else cache
        now = self.clock()
        admitted: dict[str, list[str]] = {}
        for dest in dests.values():
            if dest.platform not in self.platforms:
                continue
            state = self.outbox.ensure_dest(dest.name, now)
            take, skip, first = self._admission(dest, state.fingerprint, cache)
            if first:
                self.outbox.record_issues(dest.name, take, skip, now)
                self.outbox.set_fingerprint(dest.name, selection_fingerprint(dest))
                log.info("destination %s: first start, backfilling %s, %d left in the archive",
                         dest.name, plural_en(len(take), "edition"), len(skip))
            elif take:
                self.outbox.record_issues(dest.name, take, (), now)
            if take:
                admitted[dest.name] = take
        return admitted

    def _admission(self, dest: Destination, fingerprint: str | None,
                   cache: dict[str | None, list[IssueRef]]) -> tuple[list[str], list[str], bool]:
        """(editions to admit in delivery order, editions to skip, whether this is a first sight)."""
        refs = self._candidates(dest, cache)
        if not refs:
            return [], [], False
        known = self.outbox.known_issues(dest.name)
        unknown = [r.entry_id for r in refs if r.entry_id not in known]
        if fingerprint != selection_fingerprint(dest):
            newest = [r.entry_id for r in refs[: dest.backfill]]
            take = [e for e in reversed(newest) if e not in known]
            return take, [e for e in unknown if e not in take], True
        return list(reversed(unknown)), [], False

    def upcoming(self, dest: Destination) -> list[tuple[Issue, Section | None]]:
        """What the destination receives next, in order, without changing anything.

        Editions already admitted come first, then those the next planning pass would
        admit (the same rule as `admit`). Each entry is (edition, section) for section
        schedules and (edition, None) for a digest. Sections already enqueued are left out:
        they are in the outbox.
        """
        state = self.outbox.dest_state(dest.name)
        entry_ids = self.outbox.open_admissions(dest.name)
        entry_ids += [e for e in self._admission(dest, state.fingerprint if state else None, {})[0]
                      if e not in entry_ids]
        digest = isinstance(dest.schedule, Digest)
        found: list[tuple[Issue, Section | None]] = []
        for entry_id in entry_ids:
            issue, remaining = self._remaining(dest, entry_id)
            if issue is None:
                continue
            if digest:
                found.append((issue, None))
            else:
                found.extend((issue, section) for section in remaining)
        return found

    def _remaining(self, dest: Destination, entry_id: str) -> tuple[Issue | None, list[Section]]:
        """An admitted edition and its selected sections not enqueued yet, in order."""
        issue = self.issue(entry_id)
        if issue is None:
            return None, []
        enqueued = self.outbox.units_enqueued(dest.name, entry_id)
        return issue, [s for s in self._selected(dest, issue) if s.key not in enqueued]

    # ------------------------------------------------------------------ on_publish
    def enqueue_issue(self, dest: Destination, entry_id: str, revision: int = 0) -> int:
        """Every selected section of an edition, in order, spaced by `delivery.spacing`."""
        issue = self.issue(entry_id)
        if issue is None:
            return 0
        now = self.clock()
        notify = not self.outbox.has_rows(dest.name, entry_id)
        done = self.outbox.units_enqueued(dest.name, entry_id)
        rows: list[NewRow] = []
        for i, section in enumerate(s for s in self._selected(dest, issue) if s.key not in done):
            post = SectionPost(issue=issue.ref, section=section, notify=notify and i == 0)
            rows.extend(self._rows(dest, entry_id, section.key, "section", self._render(dest, post),
                                   now + i * self.spacing, revision))
        count = self.outbox.enqueue(rows, now)
        self.outbox.set_done(dest.name, entry_id)
        return count

    # ------------------------------------------------------------------ cron and digest ticks
    @staticmethod
    def per_tick(dest: Destination) -> int:
        """Sections a cron drip releases per tick (`per_tick`, default 1; config checks 1–50)."""
        return dest.schedule.per_tick if isinstance(dest.schedule, CronDrip) else 1

    def drip(self, dest: Destination) -> int:
        """Release the next `per_tick` sections not yet enqueued (oldest admitted edition first)."""
        return sum(self._drip_one(dest) for _ in range(self.per_tick(dest)))

    def _drip_one(self, dest: Destination) -> int:
        now = self.clock()
        for entry_id in self.outbox.open_admissions(dest.name):
            issue, remaining = self._remaining(dest, entry_id)
            if issue is None or not remaining:
                self.outbox.set_done(dest.name, entry_id)
                continue
            section = remaining[0]
            post = SectionPost(issue=issue.ref, section=section,
                        notify=not self.outbox.has_rows(dest.name, entry_id))
            count = self.outbox.enqueue(
                self._rows(dest, entry_id, section.key, "section", self._render(dest, post), now), now)
            if len(remaining) == 1:
                self.outbox.set_done(dest.name, entry_id)
            return count
        return 0

    def digest(self, dest: Destination) -> int:
        """One summary post per admitted edition not yet digested."""
        now = self.clock()
        count = 0
        for entry_id in self.outbox.open_admissions(dest.name):
            issue = self.issue(entry_id)
            if issue is not None:
                count += self.outbox.enqueue(self._digest_rows(dest, issue, 0, now), now)
            self.outbox.set_done(dest.name, entry_id)
        return count

    def _digest_rows(self, dest: Destination, issue: Issue, revision: int, now: float) -> list[NewRow]:
        post = DigestPost(issue=issue.ref, sections=tuple(self._selected(dest, issue)),
                    notify=revision == 0)
        return self._rows(dest, issue.entry_id, DIGEST, "digest", self._render(dest, post), now, revision)

    # ------------------------------------------------------------------ send now
    def send_now(self, dest: Destination, entry_id: str, section: str | None) -> int:
        """Enqueue an edition (or one section of it) now, whatever the schedule.

        A whole edition is admitted (the schedule will not send it again); one section is not:
        the schedule stays exactly as it was (what it would release next, it still releases).
        """
        issue = self.issue(entry_id)
        if issue is None:
            return 0
        now = self.clock()
        if section is not None:
            chosen = self.receives(dest, issue, only=section).sections
            if not chosen:
                return 0
            post = SectionPost(issue=issue.ref, section=chosen[0], notify=not self.outbox.has_rows(dest.name, entry_id))
            revision = self.outbox.max_revision(dest.name, entry_id, section)
            if self.outbox.unit_rows(dest.name, entry_id, section):
                revision += 1  # already sent once: a deliberate resend gets new keys
            return self.outbox.enqueue(
                self._rows(dest, entry_id, section, "section", self._render(dest, post), now, revision), now)
        self.outbox.record_issues(dest.name, [entry_id], (), now)
        if isinstance(dest.schedule, Digest):
            count = self.outbox.enqueue(self._digest_rows(dest, issue, 0, now), now)
            self.outbox.set_done(dest.name, entry_id)
            return count
        return self.enqueue_issue(dest, entry_id)

    # ------------------------------------------------------------------ index
    def react(self, dests: Mapping[str, Destination]) -> int:
        """Do the follow-ups the outbox recorded with sent rows of `dests` (`after_sent`); returns rows enqueued.

        Runs after the worker's commit, never inside it. Each follow-up is removed in the same
        transaction as the rows it enqueues, so a crash or a storage error leaves it to the next call
        (enqueueing is idempotent); one whose work raised otherwise (a bug) is dropped. Rows of other
        destinations wait for a call that names them.
        """
        count = 0
        for row in self.outbox.followups():
            dest = dests.get(row.destination)
            if dest is None:
                continue
            try:
                with self.outbox.atomic():
                    count += self.after_sent(dest, row)
                    self.outbox.followed_up(row.id)
            except sqlite3.Error as exc:  # storage trouble (reported by its own guard): try again next pass
                log.warning("destination %s: follow-up of a delivered post postponed: %s", row.destination, exc)
                return count
            except Exception:  # a bug in follow-up work must not stop delivery (or repeat forever)
                log.exception("destination %s: follow-up of a delivered post failed", row.destination)
                with contextlib.suppress(sqlite3.Error):
                    self.outbox.followed_up(row.id)
        return count

    def after_sent(self, dest: Destination, row: OutboxRow) -> int:
        """Once every selected section of an edition is out, post (or update) its index."""
        if row.kind != "section" or row.part + 1 < row.parts:
            return 0  # not the last part of a section
        if self.outbox.unsent_count(dest.name, row.entry_id, "section"):
            return 0  # other sections still to go
        issue = self.issue(row.entry_id)
        receipt = self.receives(dest, issue) if issue is not None else None
        if receipt is None or not receipt.index:
            return 0
        urls = self._section_urls(dest, row.entry_id, receipt.sections)
        if urls is None:
            return 0
        parts = self._render(dest, receipt.posts(urls)[-1])
        now = self.clock()
        existing = self.outbox.unit_rows(dest.name, row.entry_id, INDEX)
        if not existing:
            return self.outbox.enqueue(self._rows(dest, row.entry_id, INDEX, "index", parts, now), now)
        return self._edit_index(dest, row.entry_id, existing, parts, now)

    def _section_urls(self, dest: Destination, entry_id: str,
                      sections: Sequence[Section]) -> dict[str, str | None] | None:
        """Each section's link (its first message), or None while any section is not wholly sent."""
        urls: dict[str, str | None] = {}
        for section in sections:
            rows = self.outbox.unit_rows(dest.name, entry_id, section.key)
            if not rows or any(r.state != "sent" for r in rows) or len(rows) < rows[0].parts:
                return None
            first = rows[0].sent
            urls[section.key] = first.url if first else None
        return urls

    def _edit_index(self, dest: Destination, entry_id: str, existing: list[OutboxRow],
                    parts: list[Rendered], now: float) -> int:
        """Edit a sent index whose content changed (once all its parts are out); nothing if it is the same."""
        if any(r.state != "sent" or r.sent is None for r in existing):
            return 0
        current = {r.part: r.rendered for r in existing}
        for edit in self.outbox.unit_rows(dest.name, entry_id, INDEX, op="edit"):
            current[edit.part] = edit.rendered
        if all(current.get(i) == part for i, part in enumerate(parts)):
            return 0
        revision = self.outbox.max_revision(dest.name, entry_id, INDEX) + 1
        edits = [NewRow(dest.name, entry_id, INDEX, "index", i, len(parts), parts[i], now, revision,
                        op="edit", target=old.sent)
                 for i, old in enumerate(existing) if i < len(parts)]
        return self.outbox.enqueue(edits, now)

    # ------------------------------------------------------------------ edits
    def on_changed(self, result: SaveResult, dests: Mapping[str, Destination]) -> int:
        """A stored edition changed: per destination `on_edit`, ignore, edit in place or repost."""
        if result.status != "changed" or not (result.changed or result.added):
            return 0
        self._issues.pop(result.entry_id, None)
        issue = self.issue(result.entry_id)
        if issue is None:
            return 0
        count = 0
        for name in self.outbox.admitted_to(result.entry_id):
            dest = dests.get(name)
            if dest is None or dest.on_edit == "ignore" or dest.platform not in self.platforms:
                continue
            if isinstance(dest.schedule, Digest):
                count += self._edit_digest(dest, issue, result)
            else:
                count += self._edit_sections(dest, issue, result)
        return count

    def _edit_digest(self, dest: Destination, issue: Issue, result: SaveResult) -> int:
        existing = self.outbox.unit_rows(dest.name, issue.entry_id, DIGEST)
        if not existing:
            return 0  # not digested yet: the tick will render the new content
        now = self.clock()
        if dest.on_edit == "repost":
            revision = self.outbox.max_revision(dest.name, issue.entry_id, DIGEST) + 1
            return self.outbox.enqueue(self._digest_rows(dest, issue, revision, now), now)
        post = DigestPost(issue=issue.ref, sections=tuple(self._selected(dest, issue)),
                    notify=False)
        return self._edit_unit(dest, issue.entry_id, DIGEST, "digest", existing, self._render(dest, post),
                               result.revision, now)

    def _edit_sections(self, dest: Destination, issue: Issue, result: SaveResult) -> int:
        now = self.clock()
        count = 0
        selected = {s.key: s for s in self._selected(dest, issue)}
        for key in result.changed:
            section = selected.get(key)
            existing = self.outbox.unit_rows(dest.name, issue.entry_id, key)
            if section is None or not existing:
                continue  # not released yet: it will go out with the new content
            post = SectionPost(issue=issue.ref, section=section, notify=False)
            parts = self._render(dest, post)
            if dest.on_edit == "repost":
                revision = max(result.revision, self.outbox.max_revision(dest.name, issue.entry_id, key) + 1)
                count += self.outbox.enqueue(
                    self._rows(dest, issue.entry_id, key, "section", parts, now, revision), now)
            else:
                count += self._edit_unit(dest, issue.entry_id, key, "section", existing, parts,
                                         result.revision, now)
        added = [key for key in result.added if key in selected]
        if added:
            if isinstance(dest.schedule, OnPublish):
                count += self.enqueue_issue(dest, issue.entry_id)
            else:
                self.outbox.set_done(dest.name, issue.entry_id, done=False)  # the drip picks them up
        return count

    def _edit_unit(self, dest: Destination, entry_id: str, unit: str, kind: str, existing: list[OutboxRow],
                   parts: list[Rendered], revision: int, now: float) -> int:
        """Edit sent parts in place; update unsent ones; send extra parts; leave surplus old parts."""
        rows: list[NewRow] = []
        base_revision = existing[0].revision
        for i, part in enumerate(parts):
            if i < len(existing):
                old = existing[i]
                if old.state == "sent" and old.sent is not None:
                    rows.append(NewRow(dest.name, entry_id, unit, kind, i, len(parts), part, now, revision,
                                       op="edit", target=old.sent))
                else:
                    self.outbox.replace_rendered(old.id, part, now)
            else:
                rows.append(NewRow(dest.name, entry_id, unit, kind, i, len(parts), part, now, base_revision))
        if len(existing) > len(parts):
            log.info("destination %s: %s of %s now fits in %s; the %s stay as sent",
                     dest.name, unit, entry_id, plural_en(len(parts), "message"),
                     plural_en(len(existing) - len(parts), "extra one"))
        return self.outbox.enqueue(rows, now)
