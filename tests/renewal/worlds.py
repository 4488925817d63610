"""Worlds of the renewal and conversion-safety tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from licensing.choices import ServiceType, SubscriptionKind, SubscriptionState
from licensing.lifecycle import period_end_date
from licensing.models import PhoneNumber, Subscription
from partnerhub.accounts.choices import PartnerTier, Role
from tests.factories import assign, make_customer, make_partner, make_subscription, make_user


@pytest.fixture
def paid_world(db):
    """A tier 1 partner's paid Messaging + Calling subscription of Nordic Widgets that ended 10
    days ago and is suspended in its 60-day renewal period; two users hold its licenses."""
    partner = make_partner(name="Fjord Resellers", tier=PartnerTier.TIER_1)
    seller = make_user(org=partner, role=Role.SALES_ADMIN, email="sam@fjord.example")
    org = make_customer(name="Nordic Widgets", partner=partner)
    anna = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="anna@nordicwidgets.dk")
    bo = make_user(org=org, role=Role.USER, email="bo@nordicwidgets.dk")
    today = timezone.localdate()
    end = today - timedelta(days=10)
    paid = make_subscription(
        customer=org,
        partner=partner,
        kind=SubscriptionKind.PAID,
        state=SubscriptionState.SUSPENDED,
        start=end - timedelta(days=364),
        end=end,
        services={ServiceType.MESSAGING: 10, ServiceType.CALLING: 5},
    )
    Subscription.objects.filter(pk=paid.pk).update(
        period_end_date=period_end_date(kind=SubscriptionKind.PAID, end_date=end)
    )
    paid.refresh_from_db()
    for user in (anna, bo):
        assign(user=user, subscription=paid, service_type=ServiceType.MESSAGING)
    assign(user=bo, subscription=paid, service_type=ServiceType.CALLING)
    PhoneNumber.objects.create(org=org, number="+4511112222", user=bo, subscription=paid)
    return {"partner": partner, "seller": seller, "org": org, "anna": anna, "bo": bo, "paid": paid}


@pytest.fixture
def mm_trial(db):
    """The finding's case: a Meetings + Messaging trial, 5 users holding Messaging."""
    partner = make_partner(name="Fjord Resellers", tier=PartnerTier.TIER_1)
    seller = make_user(org=partner, role=Role.SALES_ADMIN, email="sam@fjord.example")
    org = make_customer(name="Nordic Widgets", partner=partner)
    admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="anna@nordicwidgets.dk")
    users = [admin] + [make_user(org=org, role=Role.USER) for _ in range(4)]
    trial = make_subscription(
        customer=org,
        partner=partner,
        kind=SubscriptionKind.TRIAL,
        services={ServiceType.MEETINGS: 5, ServiceType.MESSAGING: 5},
    )
    for user in users:
        assign(user=user, subscription=trial, service_type=ServiceType.MESSAGING)
    assign(user=admin, subscription=trial, service_type=ServiceType.MEETINGS)
    return {"partner": partner, "seller": seller, "org": org, "trial": trial, "users": users}
