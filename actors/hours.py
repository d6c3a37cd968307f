"""Business hours in a real time zone: when servicers work, and when they open next.

A week of intervals per day in an IANA zone (``zoneinfo``; the ``tzdata``
package supplies the database where the system has none), closed dates,
and optionally other hours per group. Local wall time is what counts, so a
daylight-saving change moves the opening with the clocks. The older form,
one fixed UTC offset with ``open``/``close`` and ISO ``days``, is still read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ZH_WEEKDAYS = "一二三四五六日"
LOOK_AHEAD_DAYS = 14  # how far ahead "when do you open" looks for an opening
_INTERVAL = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_HHMM = re.compile(r"^(\d{2}):(\d{2})$")


class HoursError(ValueError):
    """A business-hours setting that cannot work (the message names the key)."""


Interval = tuple[int, int]  # minutes from local midnight: [start, end)


@dataclass(frozen=True)
class Schedule:
    zone: tzinfo
    zone_name: str
    weekly: tuple[tuple[Interval, ...], ...]  # Monday first, seven days
    closed_dates: frozenset[date] = frozenset()

    def is_open(self, epoch_secs: float) -> bool:
        local = datetime.fromtimestamp(epoch_secs, self.zone)
        if local.date() in self.closed_dates:
            return False
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.weekly[local.weekday()])

    def next_open(self, epoch_secs: float) -> datetime | None:
        """The next local time it opens, within LOOK_AHEAD_DAYS (None: not within)."""
        now = datetime.fromtimestamp(epoch_secs, self.zone)
        for ahead in range(LOOK_AHEAD_DAYS + 1):
            day = now.date() + timedelta(days=ahead)
            if day in self.closed_dates:
                continue
            for start, _ in self.weekly[day.weekday()]:
                opening = datetime(day.year, day.month, day.day, start // 60, start % 60,
                                   tzinfo=self.zone)
                if opening > now:
                    return opening
        return None

    def describe(self) -> str:
        """"09:00-18:00 (Asia/Shanghai)", or day by day when days differ."""
        def spans(intervals: tuple[Interval, ...]) -> str:
            return ", ".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in intervals) or "closed"

        days = [spans(d) for d in self.weekly]
        if len(set(days)) == 1 and self.weekly[0]:
            return f"{days[0]} ({self.zone_name})"
        parts = [f"{WEEKDAYS[i]} {text}" for i, text in enumerate(days) if self.weekly[i]]
        return f"{'; '.join(parts)} ({self.zone_name})"


@dataclass(frozen=True)
class BusinessHours:
    default: Schedule
    groups: Mapping[str, Schedule] = field(default_factory=dict)

    def schedule(self, group: str = "") -> Schedule:
        return self.groups.get(group, self.default)

    def is_open(self, epoch_secs: float, group: str = "") -> bool:
        return self.schedule(group).is_open(epoch_secs)

    def describe(self, group: str = "") -> str:
        return self.schedule(group).describe()

    def next_open_words(self, epoch_secs: float, group: str = "") -> tuple[str, str]:
        """When it opens next, in Chinese and English: ("明天 09:00 (Asia/Shanghai)",
        "tomorrow at 09:00 (Asia/Shanghai)")."""
        schedule = self.schedule(group)
        opening = schedule.next_open(epoch_secs)
        if opening is None:
            return "稍后", "later"
        today = datetime.fromtimestamp(epoch_secs, schedule.zone).date()
        ahead = (opening.date() - today).days
        at, zone = opening.strftime("%H:%M"), schedule.zone_name
        if ahead in (0, 1, 2):
            zh_day = ("今天", "明天", "后天")[ahead]
            en_day = ("today", "tomorrow", "the day after tomorrow")[ahead]
        else:
            zh_day = f"{opening.month}月{opening.day}日（周{_ZH_WEEKDAYS[opening.weekday()]}）"
            en_day = f"on {opening.strftime('%a')} {opening.day} {opening.strftime('%b')}"
        return f"{zh_day} {at} ({zone})", f"{en_day} at {at} ({zone})"


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def hours_from_dict(data: Any, where: str = "business_hours") -> BusinessHours | None:
    """Raises HoursError naming the key of the first setting that cannot work."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise HoursError(f"{where}: expected an object")
    if set(data) & {"utc_offset", "days", "open", "close"}:
        return BusinessHours(_old_form(data, where))
    groups = data.get("groups", {})
    if not isinstance(groups, dict):
        raise HoursError(f"{where}.groups: expected an object of group -> hours")
    return BusinessHours(_schedule(data, where, allow_groups=True),
                         {g: _schedule(h, f"{where}.groups.{g}") for g, h in groups.items()})


def _schedule(data: Any, where: str, allow_groups: bool = False) -> Schedule:
    if not isinstance(data, dict):
        raise HoursError(f"{where}: expected an object")
    unknown = set(data) - {"timezone", "weekly", "closed_dates"} - (
        {"groups"} if allow_groups else set())
    if unknown:
        raise HoursError(f"{where}: unknown keys {sorted(unknown)}")
    name = data.get("timezone", "UTC")
    if not isinstance(name, str) or not name:
        raise HoursError(f"{where}.timezone: expected an IANA zone like Asia/Shanghai")
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursError(f"{where}.timezone: unknown zone {name!r}") from None
    weekly = data.get("weekly")
    if not isinstance(weekly, dict) or not weekly:
        raise HoursError(f"{where}.weekly: expected an object like "
                         '{"mon": ["09:00-18:00"], ...}')
    days: list[tuple[Interval, ...]] = [() for _ in WEEKDAYS]
    for day, spans in weekly.items():
        if day not in WEEKDAYS:
            raise HoursError(f"{where}.weekly: unknown weekday {day!r} (use {', '.join(WEEKDAYS)})")
        if not isinstance(spans, list):
            raise HoursError(f"{where}.weekly.{day}: expected a list like [\"09:00-18:00\"]")
        days[WEEKDAYS.index(day)] = tuple(sorted(
            _interval(s, f"{where}.weekly.{day}[{i}]") for i, s in enumerate(spans)))
    closed = data.get("closed_dates", [])
    if not isinstance(closed, list):
        raise HoursError(f"{where}.closed_dates: expected a list of YYYY-MM-DD dates")
    dates = set()
    for i, text in enumerate(closed):
        try:
            dates.add(date.fromisoformat(text))
        except (TypeError, ValueError):
            raise HoursError(f"{where}.closed_dates[{i}]: {text!r} is not YYYY-MM-DD") from None
    return Schedule(zone, name, tuple(days), frozenset(dates))


def _interval(text: Any, where: str) -> Interval:
    match = _INTERVAL.match(text) if isinstance(text, str) else None
    if match is None:
        raise HoursError(f"{where}: {text!r} is not HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60:
        raise HoursError(f"{where}: {text!r} is not a time of day")
    if end <= start:
        raise HoursError(f"{where}: {text!r} ends before it starts")
    return start, end


def _old_form(data: dict[str, Any], where: str) -> Schedule:
    """{utc_offset, days (ISO 1-7), open, close}: one fixed offset, the same hours daily."""
    if set(data) - {"utc_offset", "days", "open", "close"}:
        raise HoursError(f"{where}: expected {{utc_offset, days, open, close}} or "
                         "{timezone, weekly, closed_dates, groups}")
    offset = _OFFSET.match(str(data.get("utc_offset", "+08:00")))
    if offset is None:
        raise HoursError(f"{where}.utc_offset: expected like +08:00")
    opens, closes = (_HHMM.match(str(data.get(k, d)))
                     for k, d in (("open", "09:00"), ("close", "18:00")))
    if opens is None or closes is None:
        raise HoursError(f"{where}.open/close: expected HH:MM")
    span = _interval(f"{opens.group(0)}-{closes.group(0)}", f"{where}.open/close")
    days = data.get("days", [1, 2, 3, 4, 5, 6, 7])
    if not isinstance(days, list) or not days or not all(
            isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7 for d in days):
        raise HoursError(f"{where}.days: expected ISO weekdays 1 (Monday) to 7")
    minutes = (-1 if offset.group(1) == "-" else 1) * (
        int(offset.group(2)) * 60 + int(offset.group(3)))
    name = f"UTC{offset.group(0)}"
    return Schedule(timezone(timedelta(minutes=minutes), name), name,
                    tuple((span,) if i + 1 in days else () for i in range(7)))
