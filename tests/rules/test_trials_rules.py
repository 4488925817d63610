"""Table-driven tests of trials/lifecycle.py: T3, T6, T7, T11–T14."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from trials.lifecycle import (
    calling_stop_date,
    can_convert,
    consent_expires_at,
    device_return_due,
    device_trial_cap,
    is_consent_expired,
    number_release_date,
    trial_extension_plan,
    trial_notice_dates,
)

TODAY = date(2026, 6, 15)


def dt(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- T3 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "expires"),
    [
        (dt(2026, 6, 15, 9, 30), dt(2026, 6, 25, 9, 30)),
        (dt(2026, 2, 25, 12), dt(2026, 3, 7, 12)),  # across a short February
        (dt(2028, 2, 25, 12), dt(2028, 3, 6, 12)),  # across the leap day
        (dt(2028, 2, 19, 0), dt(2028, 2, 29, 0)),  # onto the leap day
        (dt(2026, 12, 27, 23, 59), dt(2027, 1, 6, 23, 59)),
    ],
)
def test_T3_consent_expires_ten_days_after_the_request(requested, expires):
    assert consent_expires_at(requested_at=requested) == expires


@pytest.mark.parametrize(
    ("now", "expired"),
    [
        (dt(2026, 6, 25, 9, 29, 59), False),
        (dt(2026, 6, 25, 9, 30) - timedelta(microseconds=1), False),
        (dt(2026, 6, 25, 9, 30), True),  # at the deadline itself
        (dt(2026, 6, 26), True),
        (dt(2026, 6, 15, 9, 30), False),
    ],
)
def test_T3_consent_is_expired_from_the_deadline_on(now, expired):
    expires = consent_expires_at(requested_at=dt(2026, 6, 15, 9, 30))
    assert is_consent_expired(expires_at=expires, now=now) is expired


# --- T6 / T7 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_left", "extend_by", "new_end", "shortens"),
    [
        (65, 30, date(2026, 7, 15), True),  # DOMAIN's example: ends in 30 days, not 95
        (65, 60, date(2026, 8, 14), True),
        (65, 90, date(2026, 9, 13), False),
        (30, 30, date(2026, 7, 15), False),  # same end: not earlier, no warning
        (29, 30, date(2026, 7, 15), False),
        (31, 30, date(2026, 7, 15), True),
        (0, 30, date(2026, 7, 15), False),  # extended on its last day
        (-10, 30, date(2026, 7, 15), False),  # extended in its grace period (S3)
    ],
)
def test_T6_extension_counts_from_today(days_left, extend_by, new_end, shortens):
    plan = trial_extension_plan(
        today=TODAY,
        days=extend_by,
        current_end=TODAY + timedelta(days=days_left),
        start_date=TODAY - timedelta(days=20),
        has_devices=False,
    )
    assert plan.new_end_date == new_end
    assert plan.shortens is shortens
    assert plan.needs_approval is False


@pytest.mark.parametrize(
    ("today", "extend_by", "new_end"),
    [
        (date(2026, 1, 31), 30, date(2026, 3, 2)),
        (date(2028, 1, 30), 30, date(2028, 2, 29)),
        (date(2027, 12, 1), 90, date(2028, 2, 29)),
        (date(2026, 12, 31), 60, date(2027, 3, 1)),
    ],
)
def test_T6_extension_across_month_ends_and_leap_day(today, extend_by, new_end):
    plan = trial_extension_plan(
        today=today, days=extend_by, current_end=today, start_date=today, has_devices=False
    )
    assert plan.new_end_date == new_end


@pytest.mark.parametrize("extend_by", [0, 1, 29, 31, 45, 61, 120, -30])
def test_T6_only_30_60_or_90_days(extend_by):
    with pytest.raises(ValueError, match="30, 60 or 90"):
        trial_extension_plan(
            today=TODAY, days=extend_by, current_end=TODAY, start_date=TODAY, has_devices=False
        )


@pytest.mark.parametrize(
    ("start", "cap"),
    [
        (date(2026, 6, 15), date(2026, 10, 13)),
        (date(2026, 1, 1), date(2026, 5, 1)),
        (date(2027, 11, 1), date(2028, 2, 29)),  # onto the leap day
        (date(2028, 1, 1), date(2028, 4, 30)),
        (date(2026, 10, 31), date(2027, 2, 28)),
    ],
)
def test_T7_device_trial_cap_is_120_days_from_start(start, cap):
    assert device_trial_cap(start_date=start) == cap


@pytest.mark.parametrize(
    ("started_days_ago", "extend_by", "beyond_cap"),
    [
        (90, 30, False),  # ends on day 120 exactly: allowed, as a request
        (91, 30, True),  # day 121: past 120 days in all, refused (T7)
        (89, 30, False),
        (30, 90, False),
        (31, 90, True),
        (0, 90, False),
        (60, 60, False),
        (61, 60, True),
    ],
)
def test_T7_every_device_trial_extension_needs_approval_within_120_days(
    started_days_ago, extend_by, beyond_cap
):
    """T7, seed 002: "裝置最多可試用 120 天。試用延伸一律由試用團隊核准" — at most 120 days, and
    extensions are *always* approved by the trial team (not only those past 120 days)."""
    start = TODAY - timedelta(days=started_days_ago)
    plan = trial_extension_plan(
        today=TODAY, days=extend_by, current_end=TODAY, start_date=start, has_devices=True
    )
    assert plan.needs_approval is True
    assert plan.beyond_cap is beyond_cap
    # The same extension of a trial without devices never needs approval and has no cap.
    plain = trial_extension_plan(
        today=TODAY, days=extend_by, current_end=TODAY, start_date=start, has_devices=False
    )
    assert plain.needs_approval is False
    assert plain.beyond_cap is False


# --- T11 / T12 / T13 / T14 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("end", "ending_soon", "services_removed"),
    [
        (date(2026, 6, 15), date(2026, 6, 8), date(2026, 7, 15)),
        (date(2026, 3, 3), date(2026, 2, 24), date(2026, 4, 2)),
        (date(2028, 3, 7), date(2028, 2, 29), date(2028, 4, 6)),  # notice on the leap day
        (date(2028, 1, 30), date(2028, 1, 23), date(2028, 2, 29)),
        (date(2027, 1, 3), date(2026, 12, 27), date(2027, 2, 2)),
        (date(2026, 1, 31), date(2026, 1, 24), date(2026, 3, 2)),
    ],
)
def test_T11_T12_trial_notice_dates(end, ending_soon, services_removed):
    assert trial_notice_dates(end_date=end) == {
        "ending_soon": ending_soon,  # T11: 7 days before
        "ends_today": end,  # T11: on the day it ends
        "services_removed": services_removed,  # T12: 30 days after
    }


@pytest.mark.parametrize(
    ("end", "stop", "release"),
    [
        (date(2026, 6, 15), date(2026, 7, 15), date(2026, 7, 30)),
        (date(2028, 1, 30), date(2028, 2, 29), date(2028, 3, 15)),
        (date(2028, 1, 15), date(2028, 2, 14), date(2028, 2, 29)),  # released on the leap day
        (date(2026, 1, 31), date(2026, 3, 2), date(2026, 3, 17)),
        (date(2026, 12, 15), date(2027, 1, 14), date(2027, 1, 29)),
    ],
)
def test_T13_calling_stops_at_grace_end_numbers_kept_15_more_days(end, stop, release):
    assert calling_stop_date(end_date=end) == stop
    assert number_release_date(end_date=end) == release
    assert (release - stop).days == 15


@pytest.mark.parametrize(
    ("agreement_end", "due"),
    [
        (date(2026, 6, 15), date(2026, 6, 1)),
        (date(2026, 3, 1), date(2026, 2, 15)),
        (date(2028, 3, 14), date(2028, 2, 29)),
        (date(2027, 3, 14), date(2027, 2, 28)),
        (date(2027, 1, 10), date(2026, 12, 27)),
    ],
)
def test_T14_devices_due_back_two_weeks_before_agreement_end(agreement_end, due):
    assert device_return_due(agreement_end_date=agreement_end) == due


@pytest.mark.parametrize(
    ("days_after_end", "converted", "ok"),
    [
        (-30, False, True),  # still running
        (0, False, True),  # the end day
        (1, False, True),  # in the 30-day grace period
        (29, False, True),
        (30, False, False),  # grace over: services gone (T12)
        (31, False, False),
        (-5, True, False),  # converted once already
        (10, True, False),
    ],
)
def test_T12_can_convert_until_grace_ends(days_after_end, converted, ok):
    end = date(2026, 6, 15)
    today = end + timedelta(days=days_after_end)
    assert can_convert(end_date=end, today=today, converted=converted) is ok


@pytest.mark.parametrize(
    ("end", "today", "ok"),
    [
        (date(2028, 1, 30), date(2028, 2, 28), True),
        (date(2028, 1, 30), date(2028, 2, 29), False),  # grace ends on the leap day
        (date(2027, 1, 30), date(2027, 2, 28), True),
        (date(2027, 1, 30), date(2027, 3, 1), False),
    ],
)
def test_T12_can_convert_around_the_leap_day(end, today, ok):
    assert can_convert(end_date=end, today=today, converted=False) is ok
