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


# T4/T5: why a service cannot go into this partner's new trial (the hint beside the box).
REASON_BOUGHT = "bought"
REASON_OWN_TRIAL = "own_trial"
REASON_OTHER_TRIAL = "other_trial"


def unavailable_service_reasons(
    *, customer: Organization, partner: Organization, exclude_trial: Subscription | None = None
) -> dict[str, str]:
    """T4: each service a new trial of ``partner`` may not hold, with the case that applies:
    bought already (from anyone), in a trial of this partner, or trialled by another partner.
    Bought wins over trialled; this partner's trial over another's."""
    holding = Service.objects.filter(
        subscription__customer=customer, subscription__state__in=HOLDING
    )
    if exclude_trial is not None:
        holding = holding.exclude(subscription=exclude_trial)
    rank = {REASON_BOUGHT: 0, REASON_OWN_TRIAL: 1, REASON_OTHER_TRIAL: 2}
    reasons: dict[str, str] = {}
    for service_type, kind, partner_id in holding.values_list(
        "type", "subscription__kind", "subscription__partner_id"
    ):
        if kind == SubscriptionKind.PAID:
            reason = REASON_BOUGHT
        elif partner_id == partner.pk:
            reason = REASON_OWN_TRIAL
        else:
            reason = REASON_OTHER_TRIAL
        if service_type not in reasons or rank[reason] < rank[reasons[service_type]]:
            reasons[service_type] = reason
    return reasons


def customer_services_held(*, customer: Organization) -> QuerySet[Service]:
    """T5: the services the customer already has (paid or trial, from any partner) and the
    partner that manages each, for the customer page and the add-trial page."""
    return (
        Service.objects.filter(subscription__customer=customer, subscription__state__in=HOLDING)
        .select_related("subscription__partner")
        .order_by("type", "subscription__kind", "pk")
    )


def waiting_extension(*, trial: Subscription) -> ExtensionRequest | None:
    """T7: the trial's extension request still waiting for support staff, if any."""
    return ExtensionRequest.objects.filter(trial=trial, status=ExtensionStatus.PENDING).first()
