"""Reads of users and their licenses, shaped for Control Hub's pages (fixed query counts)."""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from partnerhub.accounts.models import Membership, Organization, User

from .choices import ServiceType
from .models import License, PhoneNumber


def _licenses_prefetch() -> Prefetch:
    return Prefetch(
        "licenses",
        queryset=License.objects.select_related("service__subscription").order_by(
            "service__subscription__start_date", "service__type"
        ),
    )


def org_users(
    *,
    org: Organization,
    search: str = "",
    service_type: str = "",
    subscription_id: int | None = None,
    unlicensed: bool = False,
) -> QuerySet[User]:
    """The users of an org for the user list: filtered, with their role, calling profile,
    licenses (with subscription) and numbers. A page costs the same queries whatever its size:
    one for the rows, one per prefetch."""
    role = Membership.objects.filter(user=OuterRef("pk"), org=org).values("role")[:1]
    qs = (
        User.objects.filter(org=org)
        .select_related("calling_profile")
        .annotate(org_role=Subquery(role))
        .prefetch_related(
            _licenses_prefetch(),
            Prefetch("phone_numbers", queryset=PhoneNumber.objects.order_by("number")),
        )
        .order_by("email")
    )
    if search:
        qs = qs.filter(
            Q(email__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(calling_profile__extension=search)
            | Q(phone_numbers__number__icontains=search)
        ).distinct()
    if service_type in ServiceType.values:
        qs = qs.filter(licenses__service_type=service_type)
    if subscription_id is not None:
        qs = qs.filter(licenses__service__subscription_id=subscription_id)
    if service_type or subscription_id is not None:
        qs = qs.distinct()
    if unlicensed:
        qs = qs.filter(licenses__isnull=True)
    return qs


def org_user(*, org: Organization, pk: int) -> User:
    """One user of the org with everything the user page shows; another org's user raises
    ``User.DoesNotExist`` (the view turns it into a 404)."""
    return org_users(org=org).get(pk=pk)
