"""Pure rules of trials: no ORM, no clock (``today``/``now`` are passed in).

Every rule names its id in ../shared/DOMAIN.md.
"""

from __future__ import annotations

import enum
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
    needs_approval: bool  # a device trial: support staff decide every extension (T7)
    beyond_cap: bool = False  # a device trial past 120 days in all: refused (T7)


def trial_extension_plan(
    *, today: date, days: int, current_end: date, start_date: date, has_devices: bool
) -> ExtensionPlan:
    """T6: the new end is today + the chosen period, not the current end + it (65 days left,
    extend by 30: it now ends in 30 days).

    T7, read from seed 002: "裝置最多可試用 120 天。試用延伸一律由試用團隊核准" (devices can be
    trialled for at most 120 days; trial extensions are always approved by the trial team). So
    *every* extension of a device trial is a request support staff decide — not only those past
    120 days — and none may go past 120 days from the start (``beyond_cap``)."""
    if days not in EXTENSION_CHOICES:
        raise ValueError(f"Trials are extended by 30, 60 or 90 days, not {days}.")
    new_end = today + timedelta(days=days)
    return ExtensionPlan(
        new_end_date=new_end,
        shortens=new_end < current_end,
        needs_approval=has_devices,
        beyond_cap=has_devices and new_end > device_trial_cap(start_date=start_date),
    )


def device_trial_cap(*, start_date: date) -> date:
    """T7: the last day a device trial may run: 120 days in all from its start."""
    return start_date + timedelta(days=DEVICE_TRIAL_MAX_DAYS)


def consent_trial_dates(
    *, start_date: date, end_date: date, accepted_on: date
) -> tuple[date, date]:
    """T3 interpretation: the trial's 30/60/90 days count from the customer's acceptance, not
    from the request. Seed 002: "其中一個管理員必須在 10 天內接受該請求,您才能完成試用服務的佈建"
    (an admin must accept within 10 days before the trial can be provisioned): until then the
    customer has nothing to try, so a request accepted on day 9 still gets its full period."""
    return accepted_on, accepted_on + (end_date - start_date)


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
    """T14: the return window opens two weeks before the device agreement (EULA) ends."""
    return agreement_end_date - timedelta(days=DEVICE_RETURN_DAYS_BEFORE)


class DeviceReturnState(enum.StrEnum):
    RETURNED = "returned"
    NOT_YET = "not_yet"  # before the return window
    DUE = "due"  # inside the two weeks before the agreement ends
    OVERDUE = "overdue"  # the agreement has ended and the device is not back


def device_return_state(
    *, agreement_end_date: date, today: date, returned: bool
) -> DeviceReturnState:
    """T14, read from seed 002: "客戶必須在最終使用者授權協議 (EULA) 電子郵件中所注明到期日期
    (而不是 Control Hub 中顯示的過期日) 前的兩週內將裝置退還給 Cisco" — devices go back within the
    two weeks before the expiry date in the EULA email, not the expiry shown in Control Hub.
    The window is [agreement end − 14 days, agreement end]; a device is overdue only after the
    agreement's last day, never inside the window, and trial extensions do not move it."""
    if returned:
        return DeviceReturnState.RETURNED
    if today > agreement_end_date:
        return DeviceReturnState.OVERDUE
    if today >= device_return_due(agreement_end_date=agreement_end_date):
        return DeviceReturnState.DUE
    return DeviceReturnState.NOT_YET


class ReturnCarrier(enum.StrEnum):
    """T14: how trial devices go back, by the customer's country (seed 002)."""

    LABEL_IN_BOX = "label_in_box"  # US: the return label is in the box; call the carrier
    DHL = "dhl"  # Canada and EMEAR
    EXPEDITORS = "expeditors"  # Australia
    RMA_GUIDE = "rma_guide"  # elsewhere: the RMA guide's process for the location


EMEAR_COUNTRIES_REGION = "emea"  # DataRegion.EUROPE: the supported EMEAR countries


def return_carrier(*, country: str, data_region: str) -> ReturnCarrier:
    """T14 (seed 002): in the US every device ships with a return label in the box; outside the
    US the customer contacts the carrier: DHL for Canada and EMEAR, Expeditors for Australia."""
    if country == "US":
        return ReturnCarrier.LABEL_IN_BOX
    if country == "CA" or data_region == EMEAR_COUNTRIES_REGION:
        return ReturnCarrier.DHL
    if country == "AU":
        return ReturnCarrier.EXPEDITORS
    return ReturnCarrier.RMA_GUIDE


def can_request_return_label(*, country: str) -> bool:
    """T14: a new return label can be requested for a customer who lost it — US only."""
    return country == "US"
