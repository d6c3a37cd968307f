"""Business hours in real time zones: daylight saving, closed dates, groups, bad settings."""

from datetime import datetime, timezone

import pytest

from actors.config import ConfigError, config_from_dict
from actors.hours import hours_from_dict

WEEKDAYS_9_TO_5 = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def at(text):
    """Epoch seconds of an ISO time with its offset."""
    return datetime.fromisoformat(text).timestamp()


def test_opening_follows_daylight_saving_in_new_york():
    hours = hours_from_dict({"timezone": "America/New_York", "weekly": WEEKDAYS_9_TO_5})
    # Daylight saving began on Sunday 8 March 2026: on Monday 9 March, 09:30 local
    # is 13:30 UTC (a fixed -05:00 offset would read 08:30 and say closed).
    assert hours.is_open(at("2026-03-09T13:30:00+00:00"))
    assert not hours.is_open(at("2026-03-09T12:30:00+00:00"))
    # The Friday before, still standard time: 09:30 local is 14:30 UTC.
    assert hours.is_open(at("2026-03-06T14:30:00+00:00"))
    assert not hours.is_open(at("2026-03-06T13:45:00+00:00"))
    # Closed over the weekend: it opens on Monday at 09:00 local, across the change.
    opening = hours.default.next_open(at("2026-03-07T18:00:00+00:00"))
    assert opening.isoformat() == "2026-03-09T09:00:00-04:00"
    assert opening.astimezone(timezone.utc).hour == 13


def test_a_closed_date_is_closed_and_the_next_opening_skips_it():
    hours = hours_from_dict({"timezone": "Asia/Shanghai",
                             "weekly": {d: ["09:00-12:00", "13:00-18:00"]
                                        for d in ("mon", "tue", "wed", "thu", "fri")},
                             "closed_dates": ["2026-10-01"]})
    assert not hours.is_open(at("2026-10-01T10:00:00+08:00"))  # a Thursday, closed
    assert hours.is_open(at("2026-09-30T10:00:00+08:00"))
    assert not hours.is_open(at("2026-09-30T12:30:00+08:00"))  # lunch
    assert hours.next_open_words(at("2026-09-30T12:30:00+08:00")) == (
        "今天 13:00 (Asia/Shanghai)", "today at 13:00 (Asia/Shanghai)")
    assert hours.next_open_words(at("2026-09-30T19:00:00+08:00")) == (
        "后天 09:00 (Asia/Shanghai)", "the day after tomorrow at 09:00 (Asia/Shanghai)")
    assert hours.describe() == ("mon 09:00-12:00, 13:00-18:00; tue 09:00-12:00, 13:00-18:00; "
                                "wed 09:00-12:00, 13:00-18:00; thu 09:00-12:00, 13:00-18:00; "
                                "fri 09:00-12:00, 13:00-18:00 (Asia/Shanghai)")


def test_a_group_keeps_hours_of_its_own():
    hours = hours_from_dict({"timezone": "Asia/Shanghai", "weekly": WEEKDAYS_9_TO_5,
                             "groups": {"sales": {"timezone": "Europe/London",
                                                  "weekly": {"sat": ["10:00-14:00"]}}}})
    saturday_noon_london = at("2026-05-02T12:00:00+01:00")
    assert hours.is_open(saturday_noon_london, "sales")
    assert not hours.is_open(saturday_noon_london)
    assert not hours.is_open(saturday_noon_london, "tech")  # no hours of its own: the default


def test_the_old_fixed_offset_form_is_still_read():
    hours = hours_from_dict({"utc_offset": "+08:00", "days": [1, 2], "open": "09:00",
                             "close": "18:00"})
    assert hours.is_open(at("2026-03-09T10:00:00+08:00"))  # Monday
    assert not hours.is_open(at("2026-03-11T10:00:00+08:00"))  # Wednesday
    assert hours.describe() == "mon 09:00-18:00; tue 09:00-18:00 (UTC+08:00)"


@pytest.mark.parametrize("hours, message", [
    ({"timezone": "Mars/Olympus", "weekly": WEEKDAYS_9_TO_5},
     "business_hours.timezone: unknown zone 'Mars/Olympus'"),
    ({"timezone": "UTC", "weekly": {"mon": ["25:00-26:00"]}},
     "business_hours.weekly.mon[0]: '25:00-26:00' is not a time of day"),
    ({"timezone": "UTC", "weekly": {"mon": ["18:00-09:00"]}},
     "business_hours.weekly.mon[0]: '18:00-09:00' ends before it starts"),
    ({"timezone": "UTC", "weekly": {"mondey": ["09:00-18:00"]}},
     "business_hours.weekly: unknown weekday 'mondey'"),
    ({"timezone": "UTC", "weekly": {"mon": ["9-18"]}},
     "business_hours.weekly.mon[0]: '9-18' is not HH:MM-HH:MM"),
    ({"timezone": "UTC", "weekly": WEEKDAYS_9_TO_5, "closed_dates": ["2026-13-01"]},
     "business_hours.closed_dates[0]: '2026-13-01' is not YYYY-MM-DD"),
    ({"timezone": "UTC", "weekly": WEEKDAYS_9_TO_5,
      "groups": {"sales": {"timezone": "Nowhere", "weekly": WEEKDAYS_9_TO_5}}},
     "business_hours.groups.sales.timezone: unknown zone 'Nowhere'"),
])
def test_hours_that_cannot_work_are_refused_at_start_naming_the_key(hours, message):
    with pytest.raises(ConfigError) as refused:
        config_from_dict({"business_hours": hours})
    assert str(refused.value).startswith(message)
