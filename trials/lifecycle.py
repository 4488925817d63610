"""Pure rules of trials: no ORM, no clock (``today``/``now`` are passed in).

Every rule names its id in ../shared/DOMAIN.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from licensing.lifecycle import GRACE_PERIOD_DAYS
from licensing.lifecycle import can_convert as can_convert  # T12, re-exported for trials

CONSENT_DAYS = 10  # T3
DEVICE_TRIAL_MAX_DAYS = 120  # T7
NOTICE_DAYS_BEFORE_END = 7  # T11
NUMBER_HOLD_DAYS = 15  # T13
DEVICE_RETURN_DAYS_BEFORE = 14  # T14
EXTENSION_CHOICES = (30, 60, 90)  # T6


def consent_expires_at(*, requested_at: datetime) -> datetime:
    """T3: a full admin must accept within 10 days of the request (a resend does not extend)."""
    return requested_at + timedelta(days=CONSENT_DAYS)


def is_consent_expired(*, expires_at: datetime, now: datetime) -> bool:
    """T3: with no answer by the deadline the trial is cancelled."""
    return now >= expires_at


@dataclass(frozen=True)
class ExtensionPlan:
    """T6/T7: what extending a trial by ``days`` from ``today`` would do."""

    new_end_date: date
    shortens: bool  # earlier than the current end: the form warns
    needs_approval: bool  # device trial beyond 120 days: support staff decide (T7)


def trial_extension_plan(
    *, today: date, days: int, current_end: date, start_date: date, has_devices: bool
) -> ExtensionPlan:
    """T6: the new end is today + the chosen period, not the current end + it (65 days left,
    extend by 30: it now ends in 30 days). T7: a device trial lasts at most 120 days from its
    start; going beyond is a request for support staff."""
    if days not in EXTENSION_CHOICES:
        raise ValueError(f"Trials are extended by 30, 60 or 90 days, not {days}.")
    new_end = today + timedelta(days=days)
    return ExtensionPlan(
        new_end_date=new_end,
        shortens=new_end < current_end,
        needs_approval=has_devices and new_end > device_trial_cap(start_date=start_date),
    )


def device_trial_cap(*, start_date: date) -> date:
    """T7: the last day a device trial may run without support staff's approval."""
    return start_date + timedelta(days=DEVICE_TRIAL_MAX_DAYS)


def trial_notice_dates(*, end_date: date) -> dict[str, date]:
    """T11/T12: the days trial emails are owed: 7 days before the end, on the end day, and
    30 days after (services gone)."""
    return {
        "ending_soon": end_date - timedelta(days=NOTICE_DAYS_BEFORE_END),
        "ends_today": end_date,
        "services_removed": end_date + timedelta(days=GRACE_PERIOD_DAYS),
    }


def calling_stop_date(*, end_date: date) -> date:
    """T13: a Calling trial's calling stops when the 30-day grace period ends."""
    return end_date + timedelta(days=GRACE_PERIOD_DAYS)


def number_release_date(*, end_date: date) -> date:
    """T13: its phone numbers are kept 15 more days, then released."""
    return calling_stop_date(end_date=end_date) + timedelta(days=NUMBER_HOLD_DAYS)


def device_return_due(*, agreement_end_date: date) -> date:
    """T14: trial devices are due back two weeks before the device agreement ends."""
    return agreement_end_date - timedelta(days=DEVICE_RETURN_DAYS_BEFORE)
