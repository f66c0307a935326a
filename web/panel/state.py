"""What the panel is given by the composition root: the running service, the engine, the renderers.

The panel computes nothing of its own: status, plan, send and search are the same
objects `digestbot status/plan/send/ask` use, and previews come from the platforms'
own renderers, handed in as `PreviewFace`s so that `web/` never imports an adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.chat.query import QueryEngine
from bot.core.messages import Post
from bot.ports import Destination, Rendered

if TYPE_CHECKING:
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
    service: DeliveryService
    engine: QueryEngine
    faces: Mapping[str, PreviewFace]
    section_color: Callable[[str], int]  # one colour per section key (the plan's, the embeds')
    plan_days: int = 14
    session_ttl: float = 12 * 3600.0
    login_delay: float = 0.25  # first wrong token's delay; it doubles per failure (capped)
