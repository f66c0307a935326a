"""What the panel is given by the composition root: the operations service, the engine, the renderers.

The panel computes nothing of its own: its actions call the `Operations` that `digestbot
send/pause/resume/retry/reset/status/plan` call, search is the engine `digestbot ask` uses,
and previews come from the platforms' own renderers, handed in as `PreviewFace`s so that
`web/` never imports an adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.chat.query import QueryEngine
from bot.core.messages import Post
from bot.ports import Destination, Rendered
from scheduler.operations import Operations
from scheduler.service import DeliveryService

__all__ = ["Measure", "PanelState", "PreviewFace"]


@dataclass(frozen=True, slots=True)
class Measure:
    """One of a message's sizes against the platform's limit ("text 812 / 4096")."""

    label: str
    used: int
    limit: int

    @property
    def over(self) -> bool:
        return self.used > self.limit


@dataclass(frozen=True, slots=True)
class PreviewFace:
    """A platform's renderer as the panel previews it: the real `render` and how its limits count."""

    platform: str
    render: Callable[[Post, Destination], Sequence[Rendered]]
    measure: Callable[[Rendered], Sequence[Measure]]


@dataclass(frozen=True, slots=True)
class PanelState:
    token: str
    operations: Operations  # every action goes through it, as the CLI's commands do
    engine: QueryEngine
    faces: Mapping[str, PreviewFace]
    section_color: Callable[[str], int]  # one colour per section key (the plan's, the embeds')
    plan_days: int = 14
    session_ttl: float = 12 * 3600.0
    login_delay: float = 0.25  # first wrong token's delay; it doubles per failure (capped)

    @property
    def service(self) -> DeliveryService:
        """The running service the pages read (destinations, outbox, store) to draw what they show."""
        return self.operations.service
