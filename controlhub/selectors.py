"""Reads for Control Hub's pages, each shaped for one page (fixed query counts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _

from customers.lifecycle import planned_deletion_at
from licensing.choices import (
    LICENSE_HOLDING_STATES,
    SubscriptionKind,
    SubscriptionState,
    SubscriptionStatus,
)
from licensing.lifecycle import subscription_status
from licensing.models import License, Service, Subscription
from partnerhub.accounts.models import CustomerRelationship, Organization
from trials.choices import ConsentStatus
from trials.models import ConsentRequest


def deletion_planned_at(*, org: Organization, now: datetime) -> datetime | None:
    """D2: while the org is marked, the date its admins see in the banner; None otherwise."""
    if org.deletion_marked_at is None:
        return None
    return planned_deletion_at(
        marked_at=org.deletion_marked_at,
        warned_at=org.deletion_warned_at,
        last_activity_at=org.last_activity_at,
        now=now,
    )


@dataclass(frozen=True)
class LicenseTag:
    """S1/T11: the tag shown beside a subscription's licenses, and the date that matters."""

    css: str
    label: str
    date: date | None
    note: str


def license_tag(*, subscription: Subscription, today: date) -> LicenseTag | None:
    """T11: a trial past its end shows *Expired* (usable again only if converted before its
    grace ends, T12); S1: a paid subscription in its renewal period shows *Suspended* until the
    day the licenses are removed."""
    ended = subscription.state in (SubscriptionState.SUSPENDED, SubscriptionState.ENDED) or (
        subscription.state == SubscriptionState.ACTIVE and subscription.end_date < today
    )
    if not ended:
        return None
    if subscription.kind == SubscriptionKind.TRIAL:
        return LicenseTag(
            "tag-danger",
            str(_("Expired")),
            subscription.end_date,
            str(_("Grace period ends")) if subscription.period_end_date else "",
        )
    return LicenseTag(
        "tag-warn",
        str(_("Suspended")),
        subscription.end_date,
        str(_("Renew before")) if subscription.period_end_date else "",
    )


def org_subscriptions(*, org: Organization, live_only: bool = False) -> QuerySet[Subscription]:
    """The org's subscriptions with their partner and services; each service carries
    ``assigned`` (licenses in use). Three queries."""
    services = Service.objects.annotate(assigned=Count("licenses")).order_by("type")
    qs = (
        Subscription.objects.filter(customer=org)
        .select_related("partner")
        .prefetch_related(Prefetch("services", queryset=services))
        .order_by("-end_date", "pk")
    )
    if live_only:
        qs = qs.filter(state__in=LICENSE_HOLDING_STATES)
    return qs


@dataclass
class SubscriptionRow:
    subscription: Subscription
    status: SubscriptionStatus | None
    tag: LicenseTag | None


def subscription_rows(*, org: Organization, today: date) -> list[SubscriptionRow]:
    """P3 status and the S1/T11 tag for each subscription of the org."""
    return [
        SubscriptionRow(
            subscription=sub,
            status=subscription_status(
                kind=sub.kind, state=sub.state, end_date=sub.end_date, today=today
            ),
            tag=license_tag(subscription=sub, today=today),
        )
        for sub in org_subscriptions(org=org)
    ]


def managing_partners(*, org: Organization) -> QuerySet[CustomerRelationship]:
    return (
        CustomerRelationship.objects.filter(customer=org)
        .select_related("partner")
        .order_by("partner__name")
    )


def pending_consents(*, org: Organization, now: datetime) -> QuerySet[ConsentRequest]:
    """T3: trial requests still waiting for a full admin's answer."""
    return (
        ConsentRequest.objects.filter(
            customer=org, status=ConsentStatus.PENDING, expires_at__gt=now
        )
        .select_related("partner", "trial", "requested_by")
        .prefetch_related("trial__services")
        .order_by("requested_at")
    )


def user_license_rows(
    *, licenses: list[License], today: date
) -> list[tuple[License, LicenseTag | None]]:
    """A user's licenses with the S1/T11 tag of their subscription (already prefetched)."""
    return [
        (lic, license_tag(subscription=lic.service.subscription, today=today)) for lic in licenses
    ]


def services_with_use(services: dict[int, Service]) -> dict[int, Service]:
    """Sets ``assigned`` (licenses in use) on each service, for "used / available" (one
    query)."""
    counts = dict(
        License.objects.filter(service__in=list(services))
        .values("service_id")
        .annotate(n=Count("id"))
        .values_list("service_id", "n")
    )
    for pk, service in services.items():
        service.assigned = counts.get(pk, 0)  # type: ignore[attr-defined]
    return services
