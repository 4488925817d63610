"""Issue 16: ``org_forecast`` predicts every future date from the pure rules (no ORM, no clock)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from customers.lifecycle import (
    ForecastKind,
    OrgFacts,
    SubscriptionFacts,
    org_forecast,
    start_of,
)
from licensing.choices import SubscriptionKind, SubscriptionState

NOW = datetime(2027, 1, 4, 2, 0, tzinfo=UTC)
TODAY = NOW.date()


def kinds_and_days(predictions):
    return [(p.kind, p.on) for p in predictions]


def test_T11_S1_S2_D1_D3_D4_a_lone_trial_predicts_its_whole_chain():
    trial = SubscriptionFacts(
        pk=1, kind=SubscriptionKind.TRIAL, state=SubscriptionState.ACTIVE, end_date=date(2027, 1, 9)
    )
    got = org_forecast(OrgFacts(subscriptions=(trial,)), NOW)
    assert kinds_and_days(got) == [
        (ForecastKind.TRIAL_ENDS, date(2027, 1, 9)),  # the 7-day notice (Jan 2) is past
        (ForecastKind.SUSPENSION, date(2027, 1, 10)),
        (ForecastKind.REMOVAL, date(2027, 2, 8)),  # 30-day grace period (T12)
        (ForecastKind.MARK, date(2027, 2, 8)),  # D1 in the same tick
        (ForecastKind.WARNING, date(2027, 3, 10)),  # D3: 30 quiet days
        (ForecastKind.DELETION, date(2027, 4, 9)),  # D4: 30 more
    ]
    suspension = got[1]
    assert suspension.until == date(2027, 2, 8)


def test_T11_the_ending_soon_notice_is_predicted_seven_days_before():
    trial = SubscriptionFacts(
        pk=1, kind=SubscriptionKind.TRIAL, state=SubscriptionState.ACTIVE, end_date=date(2027, 2, 1)
    )
    got = org_forecast(OrgFacts(subscriptions=(trial,)), NOW)
    assert (ForecastKind.TRIAL_ENDING_SOON, date(2027, 1, 25)) in kinds_and_days(got)


def test_S1_a_paid_subscription_has_a_60_day_renewal_period_and_the_latest_holder_wins():
    paid = SubscriptionFacts(
        pk=1, kind=SubscriptionKind.PAID, state=SubscriptionState.ACTIVE, end_date=date(2027, 3, 1)
    )
    trial = SubscriptionFacts(
        pk=2, kind=SubscriptionKind.TRIAL, state=SubscriptionState.ACTIVE, end_date=date(2027, 2, 1)
    )
    got = org_forecast(OrgFacts(subscriptions=(paid, trial)), NOW)
    mark = next(p for p in got if p.kind == ForecastKind.MARK)
    assert mark.on == date(2027, 4, 30)  # Mar 1 + 60: the paid one holds licenses longest


def test_D3_D5_a_marked_org_with_late_activity_is_warned_30_days_after_it():
    facts = OrgFacts(marked_at=NOW - timedelta(days=20), last_activity_at=NOW - timedelta(days=5))
    got = org_forecast(facts, NOW)
    assert kinds_and_days(got) == [
        (ForecastKind.WARNING, (NOW + timedelta(days=25)).date()),
        (ForecastKind.DELETION, (NOW + timedelta(days=55)).date()),
    ]


def test_D4_a_warned_org_predicts_only_its_deletion():
    facts = OrgFacts(marked_at=NOW - timedelta(days=40), warned_at=NOW - timedelta(days=10))
    assert kinds_and_days(org_forecast(facts, NOW)) == [
        (ForecastKind.DELETION, (NOW + timedelta(days=20)).date())
    ]


def test_D3_an_overdue_warning_is_due_now():
    facts = OrgFacts(marked_at=NOW - timedelta(days=45))
    got = org_forecast(facts, NOW)
    assert got[0].kind == ForecastKind.WARNING
    assert got[0].due_at == NOW


def test_D1_an_unmarked_org_with_no_licenses_is_marked_by_the_next_tick():
    got = org_forecast(OrgFacts(), NOW)
    assert kinds_and_days(got)[0] == (ForecastKind.MARK, TODAY)


def test_D1_a_partner_with_customers_and_a_pending_subscription_are_never_marked():
    assert org_forecast(OrgFacts(is_partner=True, manages_customers=True), NOW) == []
    pending = SubscriptionFacts(
        pk=1, kind=SubscriptionKind.TRIAL, state=SubscriptionState.PENDING, end_date=TODAY
    )
    assert org_forecast(OrgFacts(subscriptions=(pending,)), NOW) == []


def test_T3_an_unanswered_consent_request_cancels_the_trial_then_marks():
    deadline = NOW + timedelta(days=10)
    pending = SubscriptionFacts(
        pk=1,
        kind=SubscriptionKind.TRIAL,
        state=SubscriptionState.PENDING,
        end_date=TODAY + timedelta(days=30),
        consent_expires_at=deadline,
    )
    got = org_forecast(OrgFacts(subscriptions=(pending,)), NOW)
    assert [p.kind for p in got[:2]] == [ForecastKind.CONSENT_EXPIRY, ForecastKind.MARK]
    assert got[1].due_at == deadline


def test_D6_a_marked_org_that_holds_licenses_again_is_not_told_its_old_countdown():
    paid = SubscriptionFacts(
        pk=1, kind=SubscriptionKind.PAID, state=SubscriptionState.ACTIVE, end_date=date(2027, 6, 1)
    )
    facts = OrgFacts(subscriptions=(paid,), marked_at=NOW - timedelta(days=50), warned_at=NOW)
    got = org_forecast(facts, NOW)
    mark = next(p for p in got if p.kind == ForecastKind.MARK)
    assert mark.due_at == start_of(date(2027, 7, 31))
