"""Reads about trials for the partner side (T3, T4, T7)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from licensing.choices import LICENSE_HOLDING_STATES, ServiceType, SubscriptionKind
from licensing.models import Service, Subscription
from partnerhub.accounts.choices import OrgKind
from partnerhub.accounts.models import CustomerRelationship, Organization

from .choices import ConsentStatus, ExtensionStatus
from .models import ConsentRequest, ExtensionRequest

HOLDING = [str(s) for s in LICENSE_HOLDING_STATES]


def partner_trials(*, partner: Organization) -> QuerySet[Subscription]:
    """Trials this partner manages (any state): the only trials its people may touch."""
    return Subscription.objects.filter(partner=partner, kind=SubscriptionKind.TRIAL)


def partner_trial(*, partner: Organization, customer: Organization) -> Subscription | None:
    """The partner's current trial of a customer (pending, active or in its grace period)."""
    return (
        partner_trials(partner=partner)
        .filter(customer=customer, state__in=HOLDING)
        .order_by("-start_date", "-pk")
        .first()
    )


def unavailable_service_types(
    *, customer: Organization, partner: Organization, exclude_trial: Subscription | None = None
) -> set[str]:
    """T4: services the customer has bought (from anyone), or that another partner — or this
    partner in another trial — is trialling for it."""
    holding = Service.objects.filter(
        subscription__customer=customer, subscription__state__in=HOLDING
    )
    bought = Q(subscription__kind=SubscriptionKind.PAID)
    trialled = Q(subscription__kind=SubscriptionKind.TRIAL)
    if exclude_trial is not None:
        trialled &= ~Q(subscription=exclude_trial)
    return set(holding.filter(bought | trialled).values_list("type", flat=True))


def available_service_types(
    *, customer: Organization, partner: Organization, exclude_trial: Subscription | None = None
) -> list[str]:
    """T4: what a trial of this partner may hold for this customer."""
    taken = unavailable_service_types(
        customer=customer, partner=partner, exclude_trial=exclude_trial
    )
    return [t for t in ServiceType.values if t not in taken]


def pending_consent(*, partner: Organization, customer: Organization) -> ConsentRequest | None:
    return ConsentRequest.objects.filter(
        partner=partner, customer=customer, status=ConsentStatus.PENDING
    ).first()


def partner_customers(*, partner: Organization) -> QuerySet[Organization]:
    """The customers on ``partner``'s list (every page and export starts here).

    A customer is on the list through a sales relationship, or while a trial request waits for
    its consent (T3: cancelling the request takes it off the list again). Written as EXISTS so
    SQLite and PostgreSQL can walk an index in the order of the page (name, created, region)
    and stop after one page.
    """
    related = CustomerRelationship.objects.filter(partner=partner, customer=OuterRef("pk"))
    pending = ConsentRequest.objects.filter(
        partner=partner, customer=OuterRef("pk"), status=ConsentStatus.PENDING
    )
    return Organization.objects.filter(kind=OrgKind.CUSTOMER).filter(
        Exists(related) | Exists(pending)
    )


def waiting_extension(*, trial: Subscription) -> ExtensionRequest | None:
    """T7: the trial's extension request still waiting for support staff, if any."""
    return ExtensionRequest.objects.filter(trial=trial, status=ExtensionStatus.PENDING).first()
