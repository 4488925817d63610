"""Small builders for test data. They create rows directly (like factory_boy would); the code
under test is then exercised through its real services."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from django.utils import timezone

from licensing.choices import (
    MeetingsEdition,
    ProvisioningStatus,
    ServiceType,
    SubscriptionKind,
    SubscriptionState,
)
from licensing.models import CallingProfile, License, Service, Subscription
from licensing.readmodel import customer_rows_refresh
from partnerhub.accounts.choices import OrgKind, PartnerAccess, PartnerTier, Role
from partnerhub.accounts.lifecycle import region_for_country
from partnerhub.accounts.models import CustomerRelationship, Membership, Organization, User

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery"


def make_partner(
    *,
    name: str | None = None,
    tier: int = PartnerTier.TIER_1,
    certified: bool = True,
    country: str = "US",
) -> Organization:
    return Organization.objects.create(
        kind=OrgKind.PARTNER,
        name=name or f"Partner {next(_seq)}",
        country=country,
        data_region=region_for_country(country),
        partner_tier=tier,
        partner_certified=certified,
    )


def make_customer(
    *,
    name: str | None = None,
    country: str = "DK",
    partner: Organization | None = None,
    access: str = PartnerAccess.FULL_ADMIN,
    **fields,
) -> Organization:
    org = Organization.objects.create(
        kind=OrgKind.CUSTOMER,
        name=name or f"Customer {next(_seq)}",
        country=country,
        data_region=region_for_country(country),
        vertical="technology",
        **fields,
    )
    if partner is not None:
        CustomerRelationship.objects.create(partner=partner, customer=org, access=access)
    customer_rows_refresh(customer_ids=[org.pk])
    return org


def make_user(
    *,
    org: Organization | None,
    role: str | None = None,
    email: str | None = None,
    password: str = PASSWORD,
    language: str = "en",
    **fields,
) -> User:
    """A person; they read English unless the test names another language (``language=""``:
    one who never chose, so the org's country or the browser decides, issue 14)."""
    user = User.objects.create_user(
        email=email
        or f"user{next(_seq)}@{(org.name if org else 'staff').split()[0].lower()}.example",
        password=password,
        org=org,
        language=language,
        **fields,
    )
    if org is not None and role is not None:
        Membership.objects.create(user=user, org=org, role=role)
        customer_rows_refresh(customer_ids=[org.pk])
    return user


def make_subscription(
    *,
    customer: Organization,
    partner: Organization | None = None,
    kind: str = SubscriptionKind.PAID,
    state: str = SubscriptionState.ACTIVE,
    start: date | None = None,
    end: date | None = None,
    services: dict[str, int] | None = None,
    status: str = ProvisioningStatus.PROVISIONED,
) -> Subscription:
    today = timezone.localdate()
    start = start or today - timedelta(days=10)
    sub = Subscription.objects.create(
        customer=customer,
        partner=partner,
        kind=kind,
        state=state,
        start_date=start,
        end_date=end or start + timedelta(days=365 if kind == SubscriptionKind.PAID else 30),
        reference=f"SUB-{next(_seq)}",
    )
    for service_type, quantity in (services or {ServiceType.MESSAGING: 10}).items():
        extra = {}
        if service_type == ServiceType.MEETINGS:
            extra = {"edition": MeetingsEdition.STANDARD}
        Service.objects.create(
            subscription=sub,
            type=service_type,
            quantity=quantity,
            provisioning_status=status,
            **extra,
        )
    customer_rows_refresh(customer_ids=[customer.pk])
    return sub


def assign(*, user: User, subscription: Subscription, service_type: str) -> License:
    service = subscription.services.get(type=service_type)
    lic = License.objects.create(user=user, service=service, service_type=service_type)
    if service_type == ServiceType.CALLING:
        CallingProfile.objects.get_or_create(
            user=user, defaults={"extension": str(1000 + user.pk), "voicemail_pin": "4321"}
        )
    # The licenses assigned are on the customer list's rows (issue 16), as a service keeps them.
    customer_rows_refresh(customer_ids=[subscription.customer_id])
    return lic


ROLE = Role


def listed_facts_changed(*customers: Organization | int) -> None:
    """A test that changes a listed fact directly (standing in for a service, or for the vendor
    finishing a provisioning) refreshes the customer list's read model as the service would."""
    customer_rows_refresh(customer_ids=[c if isinstance(c, int) else c.pk for c in customers])
