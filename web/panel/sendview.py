"""The decision a dry run asks for, said first: how many posts and messages, which one notifies, the index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scheduler.sendnow import PlannedPost

__all__ = ["SendSummary", "send_summary"]


@dataclass(frozen=True, slots=True)
class SendSummary:
    posts: int
    messages: int
    notifying: tuple[str, ...]  # labels of the posts whose first message notifies (pings)
    index: str | None  # the index post's label, when this send ends with one

    @property
    def sections(self) -> int:
        return self.posts - (1 if self.index else 0)


def send_summary(planned: Sequence[PlannedPost]) -> SendSummary:
    index = next((p.label for p in planned if p.label.startswith("index ·")), None)
    notifying = tuple(p.label for p in planned if any(part.notify for part in p.parts))
    return SendSummary(len(planned), sum(len(p.parts) for p in planned), notifying, index)
