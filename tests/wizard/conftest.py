"""Fixtures of the orders and setup-wizard tests (issue 6)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from licensing.choices import ServiceType, SubscriptionKind
from licensing.models import Order
from licensing.orders import OrderLineSpec, order_place
from partnerhub.accounts.choices import PartnerTier, Role
from partnerhub.core.models import OutboxEmail
from tests.factories import assign, make_customer, make_partner, make_subscription, make_user


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The W6 rate-limit counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


def setup_path(order: Order) -> str:
    """The path of the setup link owed to the order's provisioning contact (W1)."""
    email = OutboxEmail.objects.filter(
        kind="order_setup_link", to_email=order.provisioning_contact_email
    ).latest("created_at")
    match = re.search(r"https?://[^/\s]+(/setup/[^/\s]+/)", email.body_text)
    assert match, email.body_text
    return match.group(1)


@pytest.fixture
def trial_world(db):
    """A tier 1 partner running a Messaging + Calling trial for Nordic Widgets, whose full admin
    is anna@nordicwidgets.dk; two users hold trial licenses."""
    partner = make_partner(name="Fjord Resellers", tier=PartnerTier.TIER_1)
    seller = make_user(org=partner, role=Role.SALES_ADMIN, email="sam@fjord.example")
    org = make_customer(name="Nordic Widgets", partner=partner)
    anna = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="anna@nordicwidgets.dk")
    bo = make_user(org=org, role=Role.USER, email="bo@nordicwidgets.dk")
    today = timezone.localdate()
    trial = make_subscription(
        customer=org,
        partner=partner,
        kind=SubscriptionKind.TRIAL,
        start=today - timedelta(days=20),
        end=today + timedelta(days=10),
        services={ServiceType.MESSAGING: 10, ServiceType.CALLING: 5},
    )
    for user in (anna, bo):
        assign(user=user, subscription=trial, service_type=ServiceType.MESSAGING)
    assign(user=bo, subscription=trial, service_type=ServiceType.CALLING)
    return {
        "partner": partner,
        "seller": seller,
        "org": org,
        "anna": anna,
        "bo": bo,
        "trial": trial,
    }


def place_conversion(world, *, contact: str = "anna@nordicwidgets.dk") -> Order:
    return order_place(
        lines=[
            OrderLineSpec(service_type=ServiceType.MESSAGING, quantity=10),
            OrderLineSpec(service_type=ServiceType.CALLING, quantity=5),
        ],
        provisioning_contact_email=contact,
        trial=world["trial"],
        placed_by=world["seller"],
    )
