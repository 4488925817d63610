"""Issue 10's scenario: a trial is converted (T9), the paid subscription expires and is
suspended (S1), and the partner renews it inside the 60-day renewal period (S3). Every user
keeps their licenses and calling data throughout; nobody from support clicks anything."""

from __future__ import annotations

from datetime import timedelta

import pytest

from licensing.choices import ServiceType, SubscriptionKind, SubscriptionState
from licensing.lifecycle import RENEWAL_PERIOD_DAYS
from licensing.models import CallingProfile, License, PhoneNumber, Subscription
from licensing.orders import OrderLineSpec, order_place, order_setup_complete
from partnerhub.accounts.choices import PartnerTier, Role
from tests.factories import assign, make_customer, make_partner, make_subscription, make_user

pytestmark = pytest.mark.django_db


def _snapshot(org) -> dict[str, object]:
    """Who holds which license (by row id), and every user's calling data."""
    return {
        "licenses": sorted(
            License.objects.filter(user__org=org).values_list("pk", "user__email", "service_type")
        ),
        "calling": sorted(
            CallingProfile.objects.filter(user__org=org).values_list(
                "user__email", "extension", "voicemail_pin"
            )
        ),
        "numbers": sorted(PhoneNumber.objects.filter(org=org).values_list("number", "user__email")),
    }


def test_S1_S3_T9_conversion_expiry_suspension_renewal_keeps_every_user(clock):
    clock.go(0)
    partner = make_partner(name="Fjord Resellers", tier=PartnerTier.TIER_1)
    seller = make_user(org=partner, role=Role.SALES_ADMIN, email="sam@fjord.example")
    org = make_customer(name="Nordic Widgets", partner=partner)
    admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="anna@nordicwidgets.dk")
    users = [admin, *(make_user(org=org, role=Role.USER) for _ in range(3))]
    trial = make_subscription(
        customer=org,
        partner=partner,
        kind=SubscriptionKind.TRIAL,
        start=clock.at(0).date(),
        end=clock.at(30).date(),
        services={ServiceType.MESSAGING: 10, ServiceType.CALLING: 5},
    )
    for user in users:
        assign(user=user, subscription=trial, service_type=ServiceType.MESSAGING)
        assign(user=user, subscription=trial, service_type=ServiceType.CALLING)
    PhoneNumber.objects.create(org=org, number="+4533330001", user=users[1], subscription=trial)
    before = _snapshot(org)
    clock.tick(0)

    # T9: the partner converts with every trial service, itself as provisioning contact.
    clock.tick(20)
    order = order_place(
        lines=[
            OrderLineSpec(service_type=ServiceType.MESSAGING, quantity=10),
            OrderLineSpec(service_type=ServiceType.CALLING, quantity=5),
        ],
        provisioning_contact_email="sam@fjord.example",
        trial=trial,
        placed_by=seller,
    )
    result = order_setup_complete(
        order=order, org=org, company_name="Nordic Widgets", admin_email="anna@nordicwidgets.dk"
    )
    assert result.converted
    paid = Subscription.objects.get(pk=result.order.subscription_id)
    assert _snapshot(org) == before

    # The trial's own end passes without harm: its licenses live on the paid subscription.
    clock.tick(31)
    clock.tick(61)
    assert _snapshot(org) == before

    # S1: the paid subscription's last day passes; it is suspended for 60 days.
    end_day = (paid.end_date - clock.at(0).date()).days
    clock.tick(end_day)
    paid.refresh_from_db()
    assert paid.state == SubscriptionState.ACTIVE
    clock.tick(end_day + 1)
    paid.refresh_from_db()
    assert paid.state == SubscriptionState.SUSPENDED
    assert paid.period_end_date == paid.end_date + timedelta(days=RENEWAL_PERIOD_DAYS)
    assert _snapshot(org) == before  # suspended, not removed

    # S3: renewed on day 59 of the period, in place.
    clock.tick(end_day + 59)
    order_place(
        lines=[
            OrderLineSpec(service_type=ServiceType.MESSAGING, quantity=10),
            OrderLineSpec(service_type=ServiceType.CALLING, quantity=5),
        ],
        provisioning_contact_email="sam@fjord.example",
        renews=paid,
        placed_by=seller,
    )
    paid.refresh_from_db()
    assert paid.state == SubscriptionState.ACTIVE

    # The old period's end comes and goes: nothing is removed.
    clock.tick(end_day + RENEWAL_PERIOD_DAYS)
    clock.tick(end_day + RENEWAL_PERIOD_DAYS + 1)
    paid.refresh_from_db()
    assert paid.state == SubscriptionState.ACTIVE
    assert _snapshot(org) == before
    assert License.objects.filter(service__subscription=paid).count() == 8
