"""P2/P3 computed in SQL must agree with the pure rules in licensing.lifecycle on every
boundary (so the list filters and sorts exactly what it shows)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from licensing.choices import (
    ProvisioningStatus,
    SubscriptionKind,
    SubscriptionState,
    SubscriptionStatus,
)
from licensing.lifecycle import PROVISIONING_URGENCY, subscription_status
from licensing.models import Service, Subscription
from licensing.status_sql import (
    SUBSCRIPTION_STATUS_ORDER,
    provisioning_rank_expression,
    subscription_status_expression,
    subscription_status_q,
    subscription_status_rank,
    subscription_status_rank_expression,
)
from tests.factories import make_customer, make_partner

# Subscriptions here are bare rows for the SQL expressions, not customers on a list.
pytestmark = [pytest.mark.django_db, pytest.mark.no_read_model_check]

TODAY = date(2028, 2, 28)  # the day before a leap day: boundaries cross a month end
OFFSETS = [-400, -31, -30, -1, 0, 1, 29, 30, 31, 59, 60, 61, 365]


def test_P3_sql_status_matches_the_pure_rule_on_every_boundary():
    partner = make_partner()
    customer = make_customer(partner=partner)
    cases = list(itertools.product(SubscriptionKind.values, SubscriptionState.values, OFFSETS))
    subs = Subscription.objects.bulk_create(
        Subscription(
            customer=customer,
            partner=partner,
            kind=kind,
            state=state,
            start_date=TODAY - timedelta(days=500),
            end_date=TODAY + timedelta(days=offset),
        )
        for kind, state, offset in cases
    )
    assert len(subs) == len(cases)
    rows = Subscription.objects.filter(customer=customer).annotate(
        sql_status=subscription_status_expression(today=TODAY),
        sql_rank=subscription_status_rank_expression(today=TODAY),
    )
    checked = 0
    for sub in rows:
        expected = subscription_status(
            kind=sub.kind, state=sub.state, end_date=sub.end_date, today=TODAY
        )
        assert sub.sql_status == (expected.value if expected else None), (
            sub.kind,
            sub.state,
            (sub.end_date - TODAY).days,
        )
        expected_rank = SUBSCRIPTION_STATUS_ORDER.index(expected) if expected else None
        assert sub.sql_rank == expected_rank
        # The bulk loader's rows (partnerhub.demo.bulk) rank in Python: the same number.
        assert sub.sql_rank == subscription_status_rank(
            kind=sub.kind, state=sub.state, end_date=sub.end_date, today=TODAY
        )
        checked += 1
    assert checked == len(cases)
    # The column conditions the filters use select exactly the same subscriptions.
    for status in SubscriptionStatus.values:
        matched = set(
            Subscription.objects.filter(
                subscription_status_q(status=status, today=TODAY), customer=customer
            ).values_list("pk", flat=True)
        )
        expected = {
            sub.pk
            for sub in rows
            if subscription_status(
                kind=sub.kind, state=sub.state, end_date=sub.end_date, today=TODAY
            )
            == status
        }
        assert matched == expected, status


@pytest.mark.parametrize("status", ProvisioningStatus.values)
def test_P2_sql_rank_follows_the_urgency_order(status):
    partner = make_partner()
    sub = Subscription.objects.create(
        customer=make_customer(partner=partner),
        partner=partner,
        kind=SubscriptionKind.PAID,
        start_date=TODAY,
        end_date=TODAY,
    )
    Service.objects.create(subscription=sub, type="messaging", provisioning_status=status)
    rank = (
        Service.objects.filter(subscription=sub)
        .annotate(rank=provisioning_rank_expression())
        .values_list("rank", flat=True)
        .get()
    )
    assert rank == PROVISIONING_URGENCY.index(status)


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (90, SubscriptionStatus.TRIAL_ACTIVE),
        (30, SubscriptionStatus.TRIAL_EXPIRING_30),  # a brand-new 30-day trial: P3 as written
        (0, SubscriptionStatus.TRIAL_EXPIRING_30),
    ],
)
def test_P3_sql_brand_new_trial_status_as_P3_says(left, expected):
    """The reading pinned in tests/rules (test_P3_brand_new_trial_status_as_P3_says), in SQL:
    the CASE expression and the filter conditions agree for a trial that starts today."""
    partner = make_partner()
    customer = make_customer(partner=partner)
    sub = Subscription.objects.create(
        customer=customer,
        partner=partner,
        kind=SubscriptionKind.TRIAL,
        state=SubscriptionState.ACTIVE,
        start_date=TODAY,
        end_date=TODAY + timedelta(days=left),
    )
    row = Subscription.objects.annotate(sql_status=subscription_status_expression(today=TODAY)).get(
        pk=sub.pk
    )
    assert row.sql_status == expected.value
    assert Subscription.objects.filter(
        subscription_status_q(status=expected, today=TODAY), pk=sub.pk
    ).exists()
