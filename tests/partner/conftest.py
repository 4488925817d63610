"""A small world for the partner-side tests: two partners, customers in every state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from licensing.choices import ProvisioningStatus, ServiceType, SubscriptionKind
from partnerhub.accounts.choices import PartnerTier, Role
from partnerhub.accounts.models import Organization, User
from tests.factories import make_customer, make_partner, make_subscription, make_user


@dataclass
class World:
    partner: Organization
    other_partner: Organization
    sales_admin: User
    sales_full_admin: User
    partner_full_admin: User
    read_only: User
    other_sales_admin: User
    customer_paid: Organization
    customer_trial: Organization
    customer_marked: Organization
    other_customer: Organization


@pytest.fixture
def world(db) -> World:
    today = timezone.localdate()
    partner = make_partner(name="Acme Resellers", tier=PartnerTier.TIER_1)
    other = make_partner(name="Rival Resellers")
    paid = make_customer(name="Paid Co", partner=partner)
    make_user(org=paid, role=Role.CUSTOMER_FULL_ADMIN, email="boss@paid.example")
    make_subscription(
        customer=paid,
        partner=partner,
        kind=SubscriptionKind.PAID,
        services={ServiceType.MESSAGING: 10, ServiceType.CALLING: 5},
    )
    trial = make_customer(name="Trial Co", partner=partner, country="US")
    make_user(org=trial, role=Role.CUSTOMER_FULL_ADMIN, email="admin@trial.example")
    make_subscription(
        customer=trial,
        partner=partner,
        kind=SubscriptionKind.TRIAL,
        start=today - timedelta(days=20),
        end=today + timedelta(days=10),
        services={ServiceType.MEETINGS: 10},
        status=ProvisioningStatus.FAILED,
    )
    marked = make_customer(
        name="Sleepy Co", partner=partner, deletion_marked_at=timezone.now() - timedelta(days=3)
    )
    other_customer = make_customer(name="Secret Co", partner=other)
    make_subscription(customer=other_customer, partner=other, kind=SubscriptionKind.TRIAL)
    return World(
        partner=partner,
        other_partner=other,
        sales_admin=make_user(org=partner, role=Role.SALES_ADMIN, email="sam@acme.example"),
        sales_full_admin=make_user(
            org=partner, role=Role.SALES_FULL_ADMIN, email="sue@acme.example"
        ),
        partner_full_admin=make_user(
            org=partner, role=Role.PARTNER_FULL_ADMIN, email="pat@acme.example"
        ),
        read_only=make_user(org=partner, role=Role.PARTNER_READ_ONLY, email="rob@acme.example"),
        other_sales_admin=make_user(org=other, role=Role.SALES_ADMIN, email="eve@rival.example"),
        customer_paid=paid,
        customer_trial=trial,
        customer_marked=marked,
        other_customer=other_customer,
    )


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The count band is cached per partner; ids repeat between tests, so start clean."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
