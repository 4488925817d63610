"""Pure rules of subscriptions, services and orders: no ORM, no clock (``today`` is passed in).

Every rule names its id in ../shared/DOMAIN.md.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, timedelta

from .choices import (
    OrderPurpose,
    ProvisioningStatus,
    SubscriptionKind,
    SubscriptionState,
    SubscriptionStatus,
)

RENEWAL_PERIOD_DAYS = 60  # S1: paid
GRACE_PERIOD_DAYS = 30  # S1/T12: trial
EXPIRING_SOON_DAYS = 30  # P3
EXPIRING_LATER_DAYS = 60  # P3

# P2 interpretation: most urgent first. ProvisioningStatus is declared in this order.
PROVISIONING_URGENCY: tuple[str, ...] = tuple(ProvisioningStatus.values)


def days_left(*, end_date: date, today: date) -> int:
    """Whole days until the end date; 0 on the end day itself, negative once it has passed."""
    return (end_date - today).days


def subscription_status(
    *, kind: str, state: str, end_date: date, today: date
) -> SubscriptionStatus | None:
    """P3: the status of one subscription as of ``today``.

    A subscription runs through its end date inclusive. The 30-day status wins over the 60-day
    one. A paid subscription past its end, or ended or cancelled, is *Cancelled* (not renewed); a
    trial past its end is *Trial expired*. A converted trial lives on as its paid subscription
    and has no status of its own (None).
    """
    if state == SubscriptionState.CONVERTED:
        return None
    is_trial = kind == SubscriptionKind.TRIAL
    left = days_left(end_date=end_date, today=today)
    if state == SubscriptionState.CANCELLED:
        return (
            SubscriptionStatus.TRIAL_EXPIRED
            if is_trial and left < 0
            else (SubscriptionStatus.CANCELLED)
        )
    if left < 0 or state in (SubscriptionState.SUSPENDED, SubscriptionState.ENDED):
        return SubscriptionStatus.TRIAL_EXPIRED if is_trial else SubscriptionStatus.CANCELLED
    if left <= EXPIRING_SOON_DAYS:
        return SubscriptionStatus.TRIAL_EXPIRING_30 if is_trial else SubscriptionStatus.EXPIRING_30
    if left <= EXPIRING_LATER_DAYS:
        return SubscriptionStatus.TRIAL_EXPIRING_60 if is_trial else SubscriptionStatus.EXPIRING_60
    return SubscriptionStatus.TRIAL_ACTIVE if is_trial else SubscriptionStatus.ACTIVE


def row_provisioning_status(statuses: Iterable[str]) -> ProvisioningStatus | None:
    """P2: one status for a customer row, the one needing most attention; None with no services."""
    present = set(statuses)
    for status in PROVISIONING_URGENCY:
        if status in present:
            return ProvisioningStatus(status)
    return None


def period_length(*, kind: str) -> int:
    """S1: 60-day renewal period for paid subscriptions, 30-day grace period for trials."""
    return GRACE_PERIOD_DAYS if kind == SubscriptionKind.TRIAL else RENEWAL_PERIOD_DAYS


def suspension_date(*, end_date: date) -> date:
    """S1: licenses are suspended the day after the last day of the subscription."""
    return end_date + timedelta(days=1)


def period_end_date(*, kind: str, end_date: date) -> date:
    """S1/S2/T12: the day the renewal or grace period runs out and licenses are removed
    (the end date plus 60 days for paid, plus 30 days for a trial)."""
    return end_date + timedelta(days=period_length(kind=kind))


def is_suspension_due(*, state: str, end_date: date, today: date) -> bool:
    """S1: an active subscription whose last day has passed is due to be suspended."""
    return state == SubscriptionState.ACTIVE and today >= suspension_date(end_date=end_date)


def is_removal_due(*, state: str, period_end: date | None, today: date) -> bool:
    """S2: a suspended subscription whose period has run out loses its licenses."""
    return state == SubscriptionState.SUSPENDED and period_end is not None and today >= period_end


def can_reactivate(*, state: str, period_end: date | None, today: date) -> bool:
    """S3: a renewal, new subscription or trial extension bought before the period ends
    reactivates the suspended licenses."""
    return state == SubscriptionState.SUSPENDED and (period_end is None or today < period_end)


class WizardOutcome(enum.StrEnum):
    """W5: what happens when the person setting up an order is not an admin of the chosen org."""

    PROCEED = "proceed"
    PROCEED_WITH_NOTE = "proceed_with_note"  # partner for a customer: ask the admin to add you
    BLOCKED_UNTIL_ADMIN = "blocked_until_admin"  # customer for itself: wait to be made admin
    CONTACT_ADMIN = "contact_admin"  # partner for its own use: contact the existing admin


def wizard_outcome(*, purpose: str, is_admin_of_org: bool, new_org: bool) -> WizardOutcome:
    """W4/W5: the wizard never adds an admin itself; this says whether set-up may go on."""
    if new_org or is_admin_of_org:
        return WizardOutcome.PROCEED
    if purpose == OrderPurpose.PARTNER_FOR_CUSTOMER:
        return WizardOutcome.PROCEED_WITH_NOTE
    if purpose == OrderPurpose.CUSTOMER_SELF:
        return WizardOutcome.BLOCKED_UNTIL_ADMIN
    return WizardOutcome.CONTACT_ADMIN


def wizard_name_matches(*, company_name: str, org_name: str) -> bool:
    """W2(b): the first five characters match, case-insensitively, after trimming."""
    from partnerhub.accounts.lifecycle import name_prefix

    wanted = name_prefix(company_name)
    return bool(wanted) and name_prefix(org_name) == wanted


def can_convert(*, end_date: date, today: date, converted: bool) -> bool:
    """T9/T12: a trial can be converted to paid until its 30-day grace period ends. Lives here
    because orders (licensing) convert trials; trials re-exports it."""
    return not converted and today < end_date + timedelta(days=GRACE_PERIOD_DAYS)
