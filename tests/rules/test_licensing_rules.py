"""Table-driven tests of licensing/lifecycle.py: P2, P3, S1–S3, W2 matching, W5 outcome."""

from __future__ import annotations

from datetime import date

import pytest

from licensing.choices import (
    OrderPurpose,
    ProvisioningStatus,
    SubscriptionKind,
    SubscriptionState,
    SubscriptionStatus,
)
from licensing.lifecycle import (
    WizardOutcome,
    can_reactivate,
    days_left,
    is_removal_due,
    is_suspension_due,
    period_end_date,
    period_length,
    row_provisioning_status,
    subscription_status,
    suspension_date,
    wizard_name_matches,
    wizard_outcome,
)

PAID, TRIAL = SubscriptionKind.PAID, SubscriptionKind.TRIAL
PENDING, ACTIVE = SubscriptionState.PENDING, SubscriptionState.ACTIVE
SUSPENDED, ENDED = SubscriptionState.SUSPENDED, SubscriptionState.ENDED
CANCELLED, CONVERTED = SubscriptionState.CANCELLED, SubscriptionState.CONVERTED
S = SubscriptionStatus
TODAY = date(2026, 6, 15)


def days(n: int) -> date:
    return date.fromordinal(TODAY.toordinal() + n)


# --- P3 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "paid", "trial"),
    [
        (365, S.ACTIVE, S.TRIAL_ACTIVE),
        (61, S.ACTIVE, S.TRIAL_ACTIVE),
        (60, S.EXPIRING_60, S.TRIAL_EXPIRING_60),
        (59, S.EXPIRING_60, S.TRIAL_EXPIRING_60),
        (31, S.EXPIRING_60, S.TRIAL_EXPIRING_60),
        (30, S.EXPIRING_30, S.TRIAL_EXPIRING_30),  # the 30-day status wins over the 60-day one
        (29, S.EXPIRING_30, S.TRIAL_EXPIRING_30),
        (1, S.EXPIRING_30, S.TRIAL_EXPIRING_30),
        (0, S.EXPIRING_30, S.TRIAL_EXPIRING_30),  # the expiry day itself still counts
        (-1, S.CANCELLED, S.TRIAL_EXPIRED),  # the day after: not renewed / expired
        (-45, S.CANCELLED, S.TRIAL_EXPIRED),
    ],
)
def test_P3_status_by_days_left(left, paid, trial):
    end = days(left)
    assert subscription_status(kind=PAID, state=ACTIVE, end_date=end, today=TODAY) == paid
    assert subscription_status(kind=TRIAL, state=ACTIVE, end_date=end, today=TODAY) == trial


@pytest.mark.parametrize(
    ("kind", "state", "left", "expected"),
    [
        (PAID, SUSPENDED, -5, S.CANCELLED),  # in its renewal period (S1): not renewed
        (TRIAL, SUSPENDED, -5, S.TRIAL_EXPIRED),  # in its grace period (T12)
        (PAID, ENDED, -90, S.CANCELLED),
        (TRIAL, ENDED, -90, S.TRIAL_EXPIRED),
        (PAID, CANCELLED, 100, S.CANCELLED),
        (PAID, CANCELLED, -3, S.CANCELLED),
        (TRIAL, CANCELLED, 20, S.CANCELLED),  # consent refused or expired before its end (T3)
        (TRIAL, CANCELLED, -1, S.TRIAL_EXPIRED),
        (TRIAL, PENDING, 30, S.TRIAL_EXPIRING_30),  # waiting for consent (T3) still has dates
        (TRIAL, PENDING, 90, S.TRIAL_ACTIVE),
        (TRIAL, CONVERTED, 10, None),  # lives on as its paid subscription (T9)
        (TRIAL, CONVERTED, -10, None),
        (PAID, SUSPENDED, 5, S.CANCELLED),  # suspended means not renewed whatever the date
    ],
)
def test_P3_status_by_state(kind, state, left, expected):
    assert subscription_status(kind=kind, state=state, end_date=days(left), today=TODAY) == expected


@pytest.mark.parametrize(
    ("length", "expected"), [(30, S.TRIAL_EXPIRING_30), (60, S.TRIAL_EXPIRING_60)]
)
def test_P3_brand_new_trial_status_as_P3_says(length, expected):
    """Issue 13 asked whether a brand-new 30-day trial should read *Trial active*. P3 says no:
    its statuses are exhaustive, "expiring within 30 days" means the end date is at most 30
    days away, and the 30-day status wins over the 60-day one. A trial that ends in 30 days is
    *Trial expiring within 30 days* from its first day (a 60-day trial: within 60 days), and a
    trial is *Trial active* only while more than 60 days are left (a 90-day trial)."""
    end = date.fromordinal(TODAY.toordinal() + length)
    assert subscription_status(kind=TRIAL, state=ACTIVE, end_date=end, today=TODAY) == expected
    ninety = date.fromordinal(TODAY.toordinal() + 90)
    assert subscription_status(kind=TRIAL, state=ACTIVE, end_date=ninety, today=TODAY) == (
        S.TRIAL_ACTIVE
    )


@pytest.mark.parametrize(
    ("end", "today", "expected"),
    [
        # Month ends: 30 days before 31 March is 1 March.
        (date(2026, 3, 31), date(2026, 3, 1), S.EXPIRING_30),
        (date(2026, 3, 31), date(2026, 2, 28), S.EXPIRING_60),
        (date(2026, 3, 1), date(2026, 1, 29), S.EXPIRING_60),  # 31 days through February
        (date(2026, 3, 1), date(2026, 1, 30), S.EXPIRING_30),  # 30 Jan → 1 Mar is 30 days
        # Leap day 2028-02-29 as end date and as today.
        (date(2028, 2, 29), date(2028, 1, 30), S.EXPIRING_30),
        (date(2028, 2, 29), date(2028, 1, 29), S.EXPIRING_60),
        (date(2028, 2, 29), date(2028, 2, 29), S.EXPIRING_30),
        (date(2028, 2, 29), date(2028, 3, 1), S.CANCELLED),
        (date(2028, 3, 30), date(2028, 2, 29), S.EXPIRING_30),
        (date(2028, 3, 31), date(2028, 2, 29), S.EXPIRING_60),
        # Year end.
        (date(2026, 12, 31), date(2026, 12, 31), S.EXPIRING_30),
        (date(2026, 12, 31), date(2027, 1, 1), S.CANCELLED),
    ],
)
def test_P3_month_ends_and_leap_day(end, today, expected):
    assert subscription_status(kind=PAID, state=ACTIVE, end_date=end, today=today) == expected


@pytest.mark.parametrize(
    ("end", "today", "left"),
    [
        (date(2026, 6, 15), date(2026, 6, 15), 0),
        (date(2026, 6, 16), date(2026, 6, 15), 1),
        (date(2026, 6, 14), date(2026, 6, 15), -1),
        (date(2028, 3, 1), date(2028, 2, 28), 2),  # through the leap day
        (date(2027, 3, 1), date(2027, 2, 28), 1),
    ],
)
def test_P3_days_left(end, today, left):
    assert days_left(end_date=end, today=today) == left


# --- P2 -------------------------------------------------------------------------------------

URGENCY = [
    ProvisioningStatus.FAILED,
    ProvisioningStatus.PENDING_CONSENT,
    ProvisioningStatus.AWAITING_DETAILS,
    ProvisioningStatus.MANUAL_PARTNER,
    ProvisioningStatus.MANUAL_VENDOR,
    ProvisioningStatus.PROVISIONING,
    ProvisioningStatus.PROVISIONED,
]


@pytest.mark.parametrize("index", range(len(URGENCY)), ids=[s.value for s in URGENCY])
def test_P2_row_shows_the_most_urgent_status(index):
    # Every less urgent status beside it, in reverse order: the most urgent still wins.
    statuses = list(reversed(URGENCY[index:]))
    assert row_provisioning_status(statuses) == URGENCY[index]
    assert row_provisioning_status([URGENCY[index]] * 3) == URGENCY[index]


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], None),
        (["provisioned", "provisioned"], ProvisioningStatus.PROVISIONED),
        (["provisioned", "failed"], ProvisioningStatus.FAILED),
        (["manual_vendor", "manual_partner"], ProvisioningStatus.MANUAL_PARTNER),
        (["provisioning", "pending_consent"], ProvisioningStatus.PENDING_CONSENT),
        (["provisioned", "awaiting_details", "provisioning"], ProvisioningStatus.AWAITING_DETAILS),
        (["not-a-status"], None),
    ],
)
def test_P2_row_provisioning_status_table(statuses, expected):
    assert row_provisioning_status(statuses) == expected


def test_P2_accepts_any_iterable():
    assert row_provisioning_status(iter(["provisioned"])) == ProvisioningStatus.PROVISIONED


# --- S1 / S2 / S3 -------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "length"), [(PAID, 60), (TRIAL, 30)])
def test_S1_period_length(kind, length):
    assert period_length(kind=kind) == length


@pytest.mark.parametrize(
    ("end", "suspended_on"),
    [
        (date(2026, 6, 15), date(2026, 6, 16)),
        (date(2026, 1, 31), date(2026, 2, 1)),
        (date(2026, 4, 30), date(2026, 5, 1)),
        (date(2026, 12, 31), date(2027, 1, 1)),
        (date(2028, 2, 28), date(2028, 2, 29)),
        (date(2028, 2, 29), date(2028, 3, 1)),
        (date(2027, 2, 28), date(2027, 3, 1)),
    ],
)
def test_S1_suspension_starts_the_day_after_the_last_day(end, suspended_on):
    assert suspension_date(end_date=end) == suspended_on


@pytest.mark.parametrize(
    ("kind", "end", "period_end"),
    [
        (PAID, date(2026, 6, 15), date(2026, 8, 14)),
        (PAID, date(2026, 12, 31), date(2027, 3, 1)),
        (PAID, date(2027, 12, 31), date(2028, 2, 29)),  # into the leap day
        (PAID, date(2028, 1, 1), date(2028, 3, 1)),
        (TRIAL, date(2026, 6, 15), date(2026, 7, 15)),
        (TRIAL, date(2028, 1, 30), date(2028, 2, 29)),
        (TRIAL, date(2027, 1, 30), date(2027, 3, 1)),  # no leap day in 2027
        (TRIAL, date(2026, 1, 31), date(2026, 3, 2)),
    ],
)
def test_S2_period_end_date(kind, end, period_end):
    assert period_end_date(kind=kind, end_date=end) == period_end


@pytest.mark.parametrize(
    ("state", "end", "today", "due"),
    [
        (ACTIVE, date(2026, 6, 15), date(2026, 6, 14), False),
        (ACTIVE, date(2026, 6, 15), date(2026, 6, 15), False),  # the last day is still usable
        (ACTIVE, date(2026, 6, 15), date(2026, 6, 16), True),
        (ACTIVE, date(2026, 6, 15), date(2026, 9, 1), True),  # a late tick still suspends
        (SUSPENDED, date(2026, 6, 15), date(2026, 6, 16), False),  # already done
        (PENDING, date(2026, 6, 15), date(2026, 6, 16), False),
        (ENDED, date(2026, 6, 15), date(2026, 6, 16), False),
        (ACTIVE, date(2028, 2, 29), date(2028, 3, 1), True),
    ],
)
def test_S1_is_suspension_due(state, end, today, due):
    assert is_suspension_due(state=state, end_date=end, today=today) is due


@pytest.mark.parametrize(
    ("state", "period_end", "today", "due"),
    [
        (SUSPENDED, date(2026, 8, 14), date(2026, 8, 13), False),
        (SUSPENDED, date(2026, 8, 14), date(2026, 8, 14), True),  # on the day the period runs out
        (SUSPENDED, date(2026, 8, 14), date(2026, 12, 1), True),
        (SUSPENDED, None, date(2026, 12, 1), False),
        (ACTIVE, date(2026, 8, 14), date(2026, 8, 14), False),
        (ENDED, date(2026, 8, 14), date(2026, 8, 20), False),
    ],
)
def test_S2_is_removal_due(state, period_end, today, due):
    assert is_removal_due(state=state, period_end=period_end, today=today) is due


@pytest.mark.parametrize(
    ("state", "period_end", "today", "ok"),
    [
        (SUSPENDED, date(2026, 8, 14), date(2026, 8, 13), True),  # bought before the period ends
        (SUSPENDED, date(2026, 8, 14), date(2026, 8, 14), False),
        (SUSPENDED, None, date(2026, 8, 14), True),
        (ENDED, date(2026, 8, 14), date(2026, 8, 1), False),
        (ACTIVE, None, date(2026, 8, 1), False),
    ],
)
def test_S3_can_reactivate(state, period_end, today, ok):
    assert can_reactivate(state=state, period_end=period_end, today=today) is ok


def test_S2_removal_and_S3_reactivation_never_overlap():
    period_end = date(2026, 8, 14)
    for offset in range(-3, 4):
        today = date.fromordinal(period_end.toordinal() + offset)
        removal = is_removal_due(state=SUSPENDED, period_end=period_end, today=today)
        assert removal is not can_reactivate(state=SUSPENDED, period_end=period_end, today=today)


# --- W2 / W5 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("company", "org", "match"),
    [
        ("Acme Corporation", "ACME Corp", True),
        ("acme corporation", "Acme Industries", True),  # "acme " both
        ("  Acme   Corp", "Acme Corp", True),
        ("Acme Corp", "Acme-Corp", False),  # the fifth character differs
        ("Acmes Corp", "Acme Corp", False),
        ("Woodgrove Bank", "Woodgrove Bank Trial", True),
        ("Woodgrove", "Woodg", True),
        ("Straße AG", "STRASSE AG", True),  # case-folded
        ("", "Acme", False),  # an empty name matches nothing
        ("   ", "", False),
        ("Acme", "Acme", True),
        # Shorter than five characters: only an org whose first five are exactly those match.
        ("Acme", "Acme Corp", False),
    ],
)
def test_W2_wizard_name_matches(company, org, match):
    assert wizard_name_matches(company_name=company, org_name=org) is match


PFC = OrderPurpose.PARTNER_FOR_CUSTOMER
SELF = OrderPurpose.CUSTOMER_SELF
OWN = OrderPurpose.PARTNER_OWN_USE


@pytest.mark.parametrize(
    ("purpose", "is_admin", "new_org", "outcome"),
    [
        (PFC, False, False, WizardOutcome.PROCEED_WITH_NOTE),
        (SELF, False, False, WizardOutcome.BLOCKED_UNTIL_ADMIN),
        (OWN, False, False, WizardOutcome.CONTACT_ADMIN),
        (PFC, True, False, WizardOutcome.PROCEED),
        (SELF, True, False, WizardOutcome.PROCEED),
        (OWN, True, False, WizardOutcome.PROCEED),
        (PFC, False, True, WizardOutcome.PROCEED),  # a new org has no admin to ask
        (SELF, False, True, WizardOutcome.PROCEED),
        (OWN, False, True, WizardOutcome.PROCEED),
    ],
)
def test_W5_wizard_outcome(purpose, is_admin, new_org, outcome):
    assert wizard_outcome(purpose=purpose, is_admin_of_org=is_admin, new_org=new_org) == outcome
