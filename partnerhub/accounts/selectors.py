"""Reads about organizations and people."""

from __future__ import annotations

from .choices import PARTNER_ROLES, Role
from .models import Membership, Organization, User


def partner_of(*, user: User) -> Organization | None:
    """The partner org a person works for, or None."""
    org = user.org
    return org if org is not None and org.is_partner else None


def role_in(*, user: User, org: Organization) -> str | None:
    """The role a person holds in an org, or None."""
    return Membership.objects.filter(user=user, org=org).values_list("role", flat=True).first()


def partner_admin_emails(*, partner: Organization) -> list[str]:
    """Every admin of a partner org (T11 notices go to all of them)."""
    return list(
        User.objects.filter(
            memberships__org=partner,
            memberships__role__in=PARTNER_ROLES,
            is_active=True,
        )
        .order_by("email")
        .values_list("email", flat=True)
    )


def customer_admin_emails(*, org: Organization, full_only: bool = False) -> list[str]:
    """The customer's admins: full admins only for D3, every admin for T5/T11."""
    roles = (
        [Role.CUSTOMER_FULL_ADMIN]
        if full_only
        else [Role.CUSTOMER_FULL_ADMIN, Role.CUSTOMER_READ_ONLY]
    )
    return list(
        User.objects.filter(memberships__org=org, memberships__role__in=roles, is_active=True)
        .order_by("email")
        .values_list("email", flat=True)
    )
