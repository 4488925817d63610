"""The admin sign-in column of the customer list's read model (issue 16): for each customer
org, the latest Control Hub sign-in of one of its current, active customer admins — what the
dashboard's "no admin sign-in" counts, unlike the deletion countdown, which any user's activity
restarts (D5, ``Organization.last_activity_at``).

``licensing.readmodel`` calls :func:`admin_signins` (registered by ``customers.apps``) for the
customers it refreshes, rebuilds, advances or checks, so the column is recomputed from the
evidence (``ActivityEvent``) and today's roles; ``customers.services.activity_record`` moves it
forward on each sign-in of an admin.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, Max

from partnerhub.accounts.choices import CUSTOMER_ADMIN_ROLES
from partnerhub.accounts.models import Membership, User

from .choices import ActivityKind
from .models import ActivityEvent

CHUNK = 2000  # customers per IN (...) list


def admin_signins(customer_ids: list[int]) -> dict[int, datetime]:
    """{customer id: the latest Control Hub sign-in of an admin it has now}, one query per
    2,000 customers. A person who is no longer an admin (or is deactivated) no longer counts;
    one made an admin counts with the Control Hub sign-ins they have."""
    found: dict[int, datetime] = {}
    for start in range(0, len(customer_ids), CHUNK):
        chunk = customer_ids[start : start + CHUNK]
        found.update(
            ActivityEvent.objects.filter(
                org_id__in=chunk,
                kind=ActivityKind.CONTROL_HUB_SIGN_IN,
                user__is_active=True,
                user__memberships__org_id=F("org_id"),
                user__memberships__role__in=CUSTOMER_ADMIN_ROLES,
            )
            .values("org_id")
            .annotate(at=Max("at"))
            .values_list("org_id", "at")
            .order_by()
        )
    return found


def is_current_admin(*, user: User, org_id: int) -> bool:
    """Whether this person counts for the org's admin sign-in (an active customer admin)."""
    return bool(user.is_active) and (
        Membership.objects.filter(user=user, org_id=org_id, role__in=CUSTOMER_ADMIN_ROLES).exists()
    )
