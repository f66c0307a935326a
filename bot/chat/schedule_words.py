"""A schedule as a reader's sentence in their language: "every Monday at 9:00 AM UTC", "dès la parution d'un numéro".

`Schedule.words()` is the operator's English (status, plan); a reader who typed
`/subscribe … | cron 0 9 * * 1` reads this instead, never the config token. The two
shapes people use most (every day, one weekday, at a fixed time) are said in words,
with CLDR's day names and time format; any other crontab is quoted with its next run,
dated in the reader's language.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import assert_never

from babel import dates as babel_dates

from bot.contract.schedule import CronDrip, Digest, OnPublish, Schedule
from bot.core.i18n import format_date, locale_for, t

__all__ = ["schedule_in_words"]

_NUMBER = re.compile(r"^\d{1,2}$")
#: Cron's day-of-week names and numbers (0 and 7 are Sunday) → CLDR's index (0 is Monday).
_WEEKDAYS = {"MON": 0, "TUE": 1, "WED": 2, "THU": 3, "FRI": 4, "SAT": 5, "SUN": 6,
             **{str(n): (n - 1) % 7 for n in range(8)}}


def schedule_in_words(schedule: Schedule, lang: str, now: datetime) -> str:
    """What a subscription's schedule does, said in `lang` (`now` dates the next run of an unusual crontab)."""
    match schedule:
        case OnPublish():
            return t("query.schedule_on_publish", lang)
        case CronDrip(per_tick=per_tick):
            return t("query.schedule_drip", lang, count=per_tick, when=_when(schedule, lang, now))
        case Digest():
            return t("query.schedule_digest", lang, when=_when(schedule, lang, now))
        case _:
            assert_never(schedule)


def _when(schedule: CronDrip | Digest, lang: str, now: datetime) -> str:
    minute, hour, day, month, weekday = schedule.expression.split()
    if _NUMBER.match(minute) and _NUMBER.match(hour) and day == "*" and month == "*":
        at = f"{_time(time(int(hour), int(minute)), lang)} {schedule.timezone}"
        if weekday == "*":
            return t("query.schedule_daily", lang, time=at)
        if weekday in _WEEKDAYS:
            name = locale_for(lang).days["format"]["wide"][_WEEKDAYS[weekday]]
            return t("query.schedule_weekly", lang, weekday=name, time=at)
    fire = schedule.next_fire(now)
    following = f"{format_date(fire, lang)} {_time(fire.time(), lang)} {schedule.timezone}" if fire else "—"
    return t("query.schedule_other", lang, expression=schedule.expression, next=following)


def _time(value: time, lang: str) -> str:
    return str(babel_dates.format_time(value, "short", locale=locale_for(lang)))
