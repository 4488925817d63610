"""Writes of subscriptions and services. Keyword-only, typed, atomic, audited."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone

from partnerhub.accounts.models import Organization, User
from partnerhub.accounts.services import audit_record, org_deletion_mark_clear

from .choices import (
    MeetingsEdition,
    ProvisioningStatus,
    ServiceType,
    SubscriptionKind,
    SubscriptionState,
)
from .models import Service, Subscription
from .readmodel import customer_rows_refresh


@dataclass(frozen=True)
class ServiceSpec:
    """What to create for one service of a new subscription."""

    type: str
    quantity: int
    provisioning_status: str = ProvisioningStatus.PROVISIONING
    edition: str = ""
    site_url: str = ""
    time_zone: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)


@transaction.atomic
def subscription_create(
    *,
    customer: Organization,
    kind: SubscriptionKind | str,
    start_date: date,
    end_date: date,
    services: list[ServiceSpec],
    partner: Organization | None = None,
    state: SubscriptionState | str = SubscriptionState.ACTIVE,
    reference: str = "",
    actor: User | None = None,
) -> Subscription:
    """Create a paid subscription or a trial with its services.

    D6: a new trial or subscription removes the org's deletion mark.
    """
    if not services:
        raise ValueError("A subscription carries at least one service.")
    subscription = Subscription.objects.create(
        customer=customer,
        partner=partner,
        kind=kind,
        state=state,
        start_date=start_date,
        end_date=end_date,
        reference=reference,
    )
    Service.objects.bulk_create(
        Service(
            subscription=subscription,
            type=ServiceType(spec.type),
            quantity=spec.quantity,
            provisioning_status=spec.provisioning_status,
            edition=spec.edition
            or (MeetingsEdition.STANDARD if spec.type == ServiceType.MEETINGS else ""),
            site_url=spec.site_url,
            time_zone=spec.time_zone,
        )
        for spec in services
    )
    org_deletion_mark_clear(org=customer, actor=actor)
    audit_record(
        action="subscription.create",
        actor=actor,
        org=customer,
        target=str(subscription.pk),
        details={"kind": str(kind), "services": [s.type for s in services]},
    )
    customer_rows_refresh(customer_ids=[customer.pk])
    return subscription


@transaction.atomic
def services_mark_provisioned(*, services: Iterable[Service], actor: User) -> int:
    """P1: support staff finish a manual provisioning: the services become *Provisioned* and
    their licenses can be assigned. When every service of a new trial is provisioned, the
    lifecycle owes its welcome email (T2). Services already provisioned are left alone."""
    now = timezone.now()
    done = 0
    customers: set[int] = set()
    for service in (
        Service.objects.select_for_update()
        .select_related("subscription__customer")
        .filter(pk__in=[s.pk for s in services])
        .exclude(provisioning_status=ProvisioningStatus.PROVISIONED)
    ):
        previous = service.provisioning_status
        Service.objects.filter(pk=service.pk).update(
            provisioning_status=ProvisioningStatus.PROVISIONED, provisioned_at=now
        )
        audit_record(
            action="service.provisioned",
            actor=actor,
            org=service.subscription.customer,
            target=str(service.pk),
            details={"service": service.type, "from": previous, "rule": "P1"},
        )
        done += 1
        customers.add(service.subscription.customer_id)
    customer_rows_refresh(customer_ids=customers)
    return done
