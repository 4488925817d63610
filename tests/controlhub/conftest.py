"""Fixtures for Control Hub: one customer org with two paid subscriptions carrying Calling and
Messaging, a full admin, a read-only admin, and a user whose Calling license on the old
subscription carries calling data (C1)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from licensing.choices import ServiceType
from licensing.models import CallingProfile, License, PhoneNumber, Subscription
from partnerhub.accounts.choices import Role
from partnerhub.accounts.models import Organization, User
from tests.factories import assign, make_customer, make_partner, make_subscription, make_user


@dataclass
class World:
    partner: Organization
    org: Organization
    old: Subscription
    new: Subscription
    admin: User
    reader: User
    alice: User


def calling_snapshot(user: User) -> dict:
    """Everything C1 calls calling data, to compare before and after a move."""
    profile = CallingProfile.objects.get(user=user)
    return {
        "profile_pk": profile.pk,
        "extension": profile.extension,
        "voicemail_enabled": profile.voicemail_enabled,
        "voicemail_pin": profile.voicemail_pin,
        "call_settings": profile.call_settings,
        "numbers": sorted(PhoneNumber.objects.filter(user=user).values_list("number", flat=True)),
    }


def calling_service_of(user: User) -> Subscription:
    return License.objects.get(user=user, service_type=ServiceType.CALLING).service.subscription


@pytest.fixture
def world(db) -> World:
    partner = make_partner(name="Nordic Resellers")
    org = make_customer(name="Fjord Logistics", partner=partner)
    services = {ServiceType.CALLING: 10, ServiceType.MESSAGING: 10}
    old = make_subscription(customer=org, partner=partner, services=services)
    new = make_subscription(customer=org, partner=partner, services=services)
    admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="admin@fjord.example")
    reader = make_user(org=org, role=Role.CUSTOMER_READ_ONLY, email="reader@fjord.example")
    alice = make_user(org=org, role=Role.USER, email="alice@fjord.example", first_name="Alice")
    assign(user=alice, subscription=old, service_type=ServiceType.CALLING)
    assign(user=alice, subscription=old, service_type=ServiceType.MESSAGING)
    CallingProfile.objects.filter(user=alice).update(
        extension="2001",
        voicemail_pin="7391",
        call_settings={"forward_to": "+4520000000", "do_not_disturb": False},
    )
    PhoneNumber.objects.create(org=org, number="+4570101010", user=alice, subscription=old)
    PhoneNumber.objects.create(org=org, number="+4570101011", user=alice, subscription=old)
    return World(partner, org, old, new, admin, reader, alice)
