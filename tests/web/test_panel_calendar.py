"""The plan calendar puts each post on its destination's local date, whatever the server's zone; colours differ."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from scheduler.forecast import DestinationPlan, PlannedDelivery
from web.panel.calendar import plan_calendar
from web.panel.colors import PALETTE_SIZE, section_name, section_slots


def _plan(name: str, zone: str, *whens: datetime, keys: tuple[str, ...] = ()) -> DestinationPlan:
    deliveries = tuple(PlannedDelivery(w.astimezone(ZoneInfo(zone)), "section", f"S{i}", "e",
                                       keys[i] if keys else f"k{i}")
                       for i, w in enumerate(whens))
    return DestinationPlan(name, "console", name, zone, "cron 0 9 * * *", "daily", deliveries)


def test_posts_land_on_their_local_day_across_zones() -> None:
    now = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)  # already the 29th in Tokyo; DST starts in Paris tonight
    tokyo = _plan("tokyo", "Asia/Tokyo", datetime(2026, 3, 28, 23, 30, tzinfo=UTC))  # 08:30 on the 29th there
    paris = _plan("paris", "Europe/Paris", datetime(2026, 3, 29, 7, 0, tzinfo=UTC),  # 09:00 CEST on the 29th
                  datetime(2026, 4, 30, 7, 0, tzinfo=UTC))  # beyond the window
    calendar = plan_calendar([tokyo, paris], now, 3, lambda d: "Named " + (d.unit or ""))
    days = [d.isoformat() for d in calendar.days]
    assert days == ["2026-03-28", "2026-03-29", "2026-03-30", "2026-03-31"]  # Paris's today to Tokyo's +2
    tokyo_row, paris_row = calendar.rows
    assert [len(c) for c in tokyo_row.cells] == [0, 1, 0, 0] and tokyo_row.cells[1][0].time == "08:30"
    assert [len(c) for c in paris_row.cells] == [0, 1, 0, 0] and paris_row.cells[1][0].time == "09:00"
    assert paris_row.cells[1][0].zone == "CEST" and tokyo_row.cells[1][0].zone == "JST"
    assert paris_row.beyond == 1
    assert (tokyo_row.today.isoformat(), paris_row.today.isoformat()) == ("2026-03-29", "2026-03-28")
    assert paris_row.zone == "Europe/Paris (UTC+01:00)" and tokyo_row.zone == "Asia/Tokyo (UTC+09:00)"
    assert [(key, name) for _, key, name in calendar.legend] == [("k0", "Named k0")]
    agenda = calendar.agenda
    assert [d.day.isoformat() for d in agenda] == ["2026-03-29"]
    assert [a.destination.name for a in agenda[0].entries] == ["paris", "tokyo"][::-1]  # 23:30Z before 07:00Z


def test_each_section_on_a_page_has_its_own_colour_whatever_the_order() -> None:
    keys = [f"section_{i}" for i in range(PALETTE_SIZE)]
    slots = section_slots(keys)
    assert sorted(slots.values()) == list(range(PALETTE_SIZE))  # all different
    assert section_slots(reversed(keys)) == slots  # stable: the order they come in does not matter
    # the two keys the issue saw share a colour in the Discord palette; here they do not
    pair = section_slots(["publications", "call_for_participation_projects_and_speakers"])
    assert len(set(pair.values())) == 2


def test_a_key_without_an_issue_gets_a_readable_name() -> None:
    assert section_name("call_for_papers") == "Call for papers"
    assert section_name("digest") == "Digest"
