"""The plan calendar puts each post on its destination's local date, whatever the server's zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from scheduler.plan import DestinationPlan, PlannedDelivery
from web.panel.calendar import plan_calendar


def _plan(name: str, zone: str, *whens: datetime) -> DestinationPlan:
    deliveries = tuple(PlannedDelivery(w.astimezone(ZoneInfo(zone)), "section", f"S{i}", "e", f"k{i}")
                       for i, w in enumerate(whens))
    return DestinationPlan(name, "console", name, zone, "cron 0 9 * * *", "daily", deliveries)


def test_posts_land_on_their_local_day_across_zones() -> None:
    now = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)  # already the 29th in Tokyo; DST starts in Paris tonight
    tokyo = _plan("tokyo", "Asia/Tokyo", datetime(2026, 3, 28, 23, 30, tzinfo=UTC))  # 08:30 on the 29th there
    paris = _plan("paris", "Europe/Paris", datetime(2026, 3, 29, 7, 0, tzinfo=UTC),  # 09:00 CEST on the 29th
                  datetime(2026, 4, 30, 7, 0, tzinfo=UTC))  # beyond the window
    calendar = plan_calendar([tokyo, paris], now, 3, lambda key: 0x123456)
    days = [d.isoformat() for d in calendar.days]
    assert days == ["2026-03-28", "2026-03-29", "2026-03-30", "2026-03-31"]  # Paris's today to Tokyo's +2
    tokyo_row, paris_row = calendar.rows
    assert [len(c) for c in tokyo_row.cells] == [0, 1, 0, 0] and tokyo_row.cells[1][0].time == "08:30"
    assert [len(c) for c in paris_row.cells] == [0, 1, 0, 0] and paris_row.cells[1][0].time == "09:00"
    assert paris_row.beyond == 1
    assert calendar.legend == [("#123456", "k0")]
