"""Read one sample from a Prometheus text page, as a scraper would."""

from __future__ import annotations

__all__ = ["metric"]


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of `name{labels}` (labels in the order the page writes them), or None when absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return None
