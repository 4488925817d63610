"""Table-driven tests of customers/lifecycle.py: the deletion countdown D1–D5."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from customers.choices import DeletionStage
from customers.lifecycle import (
    countdown_start,
    deletion_due_at,
    deletion_stage,
    is_markable,
    planned_deletion_at,
    warned_at_after_activity,
    warning_due_at,
    warning_is_current,
)

MARKED = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
D = timedelta(days=1)
US = timedelta(microseconds=1)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- D1 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("holds_licenses", "is_partner", "manages_customers", "markable"),
    [
        (False, False, False, True),  # a customer with no licenses at all
        (True, False, False, False),  # active, pending or suspended licenses keep it
        (False, False, True, True),  # "manages customers" only matters for partners
        (True, False, True, False),
        (False, True, False, True),  # a partner with no customers and no licenses
        (False, True, True, False),  # a partner that manages customers is kept
        (True, True, False, False),
        (True, True, True, False),
    ],
)
def test_D1_is_markable(holds_licenses, is_partner, manages_customers, markable):
    assert (
        is_markable(
            holds_licenses=holds_licenses,
            is_partner=is_partner,
            manages_customers=manages_customers,
        )
        is markable
    )


# --- D3 / D5: when the warning is due ----------------------------------------------------------


@pytest.mark.parametrize(
    ("last_activity", "start"),
    [
        (None, MARKED),
        (MARKED - 5 * D, MARKED),  # activity before the mark: count from the mark
        (MARKED, MARKED),
        (MARKED + US, MARKED + US),  # activity after the mark: count from the activity
        (MARKED + 12 * D, MARKED + 12 * D),
    ],
)
def test_D3_D5_countdown_starts_at_later_of_mark_and_activity(last_activity, start):
    assert countdown_start(marked_at=MARKED, last_activity_at=last_activity) == start
    assert warning_due_at(marked_at=MARKED, last_activity_at=last_activity) == start + 30 * D


@pytest.mark.parametrize(
    ("marked", "due"),
    [
        (at(2026, 1, 31, 9), at(2026, 3, 2, 9)),  # month end, short February
        (at(2028, 1, 30, 9), at(2028, 2, 29, 9)),  # onto the leap day
        (at(2028, 2, 29, 23, 59), at(2028, 3, 30, 23, 59)),  # from the leap day
        (at(2026, 12, 15), at(2027, 1, 14)),
    ],
)
def test_D3_warning_due_30_days_after_mark_across_month_ends(marked, due):
    assert warning_due_at(marked_at=marked, last_activity_at=None) == due


@pytest.mark.parametrize(
    ("warned", "due"),
    [
        (at(2026, 2, 9, 9), at(2026, 3, 11, 9)),
        (at(2028, 1, 30, 2), at(2028, 2, 29, 2)),
        (at(2028, 2, 29, 2), at(2028, 3, 30, 2)),
        (at(2026, 3, 31, 2), at(2026, 4, 30, 2)),
    ],
)
def test_D4_deletion_due_30_days_after_warning(warned, due):
    assert deletion_due_at(warned_at=warned) == due


# --- The stage as of an instant ------------------------------------------------------------

WARNED = MARKED + 30 * D  # warned the moment it was due


@pytest.mark.parametrize(
    ("marked", "warned", "activity", "now", "stage"),
    [
        (None, None, None, MARKED, DeletionStage.NOT_MARKED),
        (None, None, MARKED, MARKED + 90 * D, DeletionStage.NOT_MARKED),
        # D3: quiet days 29, 30, 31 after the mark.
        (MARKED, None, None, MARKED, DeletionStage.MARKED),
        (MARKED, None, None, MARKED + 29 * D, DeletionStage.MARKED),
        (MARKED, None, None, MARKED + 30 * D - US, DeletionStage.MARKED),
        (MARKED, None, None, MARKED + 30 * D, DeletionStage.WARNING_DUE),
        (MARKED, None, None, MARKED + 31 * D, DeletionStage.WARNING_DUE),
        (MARKED, None, None, MARKED + 200 * D, DeletionStage.WARNING_DUE),  # tick late: still due
        # D3 from the later activity.
        (MARKED, None, MARKED + 10 * D, MARKED + 39 * D, DeletionStage.MARKED),
        (MARKED, None, MARKED + 10 * D, MARKED + 40 * D, DeletionStage.WARNING_DUE),
        (MARKED, None, MARKED - 10 * D, MARKED + 30 * D, DeletionStage.WARNING_DUE),
        # D4: days 29, 30, 31 after the warning.
        (MARKED, WARNED, None, WARNED, DeletionStage.WARNED),
        (MARKED, WARNED, None, WARNED + 29 * D, DeletionStage.WARNED),
        (MARKED, WARNED, None, WARNED + 30 * D - US, DeletionStage.WARNED),
        (MARKED, WARNED, None, WARNED + 30 * D, DeletionStage.DELETION_DUE),
        (MARKED, WARNED, None, WARNED + 31 * D, DeletionStage.DELETION_DUE),
        (MARKED, WARNED, MARKED - D, WARNED + 30 * D, DeletionStage.DELETION_DUE),
        # D5: activity on the very instant of the warning voids it; 30 fresh quiet days follow.
        (MARKED, WARNED, WARNED, WARNED, DeletionStage.MARKED),
        (MARKED, WARNED, WARNED, WARNED + 30 * D - US, DeletionStage.MARKED),
        (MARKED, WARNED, WARNED, WARNED + 30 * D, DeletionStage.WARNING_DUE),
        # D5: later the same day as the warning.
        (MARKED, WARNED, WARNED + timedelta(hours=8), WARNED + 29 * D, DeletionStage.MARKED),
        # D5: an activity reported late, from just before the warning, shows the warning was
        # premature: it is void and the countdown runs from that activity.
        (MARKED, WARNED, WARNED - US, WARNED + 30 * D, DeletionStage.WARNING_DUE),
        (MARKED, WARNED, WARNED - 10 * D, WARNED + 19 * D, DeletionStage.MARKED),
        # An activity from before the 30 quiet days the warning counted on changes nothing.
        (MARKED, WARNED, WARNED - 30 * D, WARNED + 30 * D, DeletionStage.DELETION_DUE),
        # D5: activity on day 29 after the warning, one day before deletion.
        (MARKED, WARNED, WARNED + 29 * D, WARNED + 30 * D, DeletionStage.MARKED),
        (MARKED, WARNED, WARNED + 29 * D, WARNED + 59 * D, DeletionStage.WARNING_DUE),
    ],
)
def test_D3_D4_D5_deletion_stage(marked, warned, activity, now, stage):
    result = deletion_stage(marked_at=marked, warned_at=warned, last_activity_at=activity, now=now)
    assert result == stage


@pytest.mark.parametrize(
    ("warned", "activity", "current"),
    [
        (None, None, False),
        (None, WARNED, False),
        (WARNED, None, True),
        (WARNED, WARNED - US, False),  # reported late, from inside the 30 quiet days
        (WARNED, WARNED - 30 * D + US, False),
        (WARNED, WARNED - 30 * D, True),  # exactly 30 quiet days before the warning
        (WARNED, WARNED - 31 * D, True),
        (WARNED, WARNED, False),
        (WARNED, WARNED + D, False),
    ],
)
def test_D5_warning_is_current(warned, activity, current):
    assert warning_is_current(warned_at=warned, last_activity_at=activity) is current


@pytest.mark.parametrize(
    ("warned", "activity", "after"),
    [
        (None, WARNED, None),
        (WARNED, WARNED, None),  # at the very instant of the warning: void
        (WARNED, WARNED + US, None),
        (WARNED, WARNED + 29 * D, None),
        (WARNED, WARNED - US, None),  # reported late, from the quiet days: premature, void
        (WARNED, WARNED - 3 * D, None),
        (WARNED, WARNED - 30 * D, WARNED),  # from before the 30 quiet days: unchanged
        (WARNED, WARNED - 40 * D, WARNED),
    ],
)
def test_D5_warned_at_after_activity(warned, activity, after):
    assert warned_at_after_activity(warned_at=warned, activity_at=activity) == after


# --- D2: the planned deletion date ------------------------------------------------------------


@pytest.mark.parametrize(
    ("warned", "activity", "now", "planned"),
    [
        (None, None, MARKED, MARKED + 60 * D),  # just marked: 30 quiet days + 30 after the warning
        (None, None, MARKED + 29 * D, MARKED + 60 * D),
        (None, None, MARKED + 30 * D, MARKED + 60 * D),
        # The tick is late with the warning: it cannot go before 30 days after "now".
        (None, None, MARKED + 45 * D, MARKED + 75 * D),
        (WARNED, None, WARNED + 5 * D, WARNED + 30 * D),
        (WARNED, None, WARNED + 40 * D, WARNED + 30 * D),  # overdue: the date it was due
        # D5: a Control Hub sign-in buys at least 60 more days.
        (None, MARKED + 20 * D, MARKED + 20 * D, MARKED + 80 * D),
        (WARNED, WARNED + 10 * D, WARNED + 10 * D, WARNED + 70 * D),
        (WARNED, WARNED, WARNED, WARNED + 60 * D),  # activity at the warning's instant
    ],
)
def test_D2_D5_planned_deletion_at(warned, activity, now, planned):
    result = planned_deletion_at(
        marked_at=MARKED, warned_at=warned, last_activity_at=activity, now=now
    )
    assert result == planned
    if activity is not None:
        assert result >= activity + 60 * D


def test_D2_planned_deletion_across_the_leap_day():
    marked = at(2028, 1, 1, 9)
    assert planned_deletion_at(
        marked_at=marked, warned_at=None, last_activity_at=None, now=marked
    ) == at(2028, 3, 1, 9)
