"""Writes of subscriptions and services. Keyword-only, typed, atomic, audited."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction

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
from .provisioning import services_mark_provisioned, services_provisioning_start
from .readmodel import customer_rows_refresh

__all__ = ["ServiceSpec", "services_mark_provisioned", "subscription_create"]


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


def subscription_reference_new(*, kind: str, start_date: date) -> str:
    """Every subscription gets a reference people can quote to support (issue 13): a prefix
    for its kind, its start date and six random hex digits (``TR-20261201-3F9A2C``)."""
    prefix = "TR" if kind == SubscriptionKind.TRIAL else "SUB"
    return f"{prefix}-{start_date:%Y%m%d}-{secrets.token_hex(3).upper()}"


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
        reference=reference or subscription_reference_new(kind=kind, start_date=start_date),
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
    # P1: what starts *Provisioning* goes to the vendor after commit.
    services_provisioning_start(
        services=subscription.services.filter(
            provisioning_status=ProvisioningStatus.PROVISIONING
        ).values_list("pk", flat=True)
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
