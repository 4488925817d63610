"""Writes of the customers app: user activity (D5) and deleting an org for good (D4, D9, D10).

The lifecycle sweeps (issue 3) build on these; Control Hub's "delete now" (D9) calls
``org_delete`` directly.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from partnerhub.accounts.access import ControlHubAction, controlhub_require
from partnerhub.accounts.choices import NotificationKind
from partnerhub.accounts.models import CustomerRelationship, Organization, User
from partnerhub.accounts.notifications import Notice, notifications_owe_bulk
from partnerhub.accounts.services import audit_record

from .choices import ActivityKind, DeletionReason
from .lifecycle import QUIET_DAYS_BEFORE_WARNING
from .models import ActivityEvent, DeletionTombstone


@transaction.atomic
def activity_record(
    *, user: User, kind: ActivityKind | str, at: datetime | None = None, source: str = "partnerhub"
) -> ActivityEvent | None:
    """D5: record one user activity in the user's org and restart its deletion countdown.

    ``at`` is when it happened (an outside system may report it late). A warning sent at or
    before the activity is voided, so a fresh 30 quiet days lead to a fresh warning. Support
    staff with no org have no countdown: returns None.
    """
    org_id = user.org_id
    if org_id is None:
        return None
    at = at or timezone.now()
    event = ActivityEvent.objects.create(
        org_id=org_id, user=user, kind=ActivityKind(kind), at=at, source=source
    )
    # Keep the latest instant: a late report of an older activity must not move it back.
    Organization.objects.filter(pk=org_id, last_activity_at__isnull=True).update(
        last_activity_at=at
    )
    Organization.objects.filter(pk=org_id, last_activity_at__lt=at).update(last_activity_at=at)
    # D5: the activity voids a warning that counted on quiet days it falls in (at or after the
    # warning, or in the 30 days before it when reported late): warned_at_after_activity.
    Organization.objects.filter(
        pk=org_id, deletion_warned_at__lt=at + timedelta(days=QUIET_DAYS_BEFORE_WARNING)
    ).update(deletion_warned_at=None)
    return event


@transaction.atomic
def org_delete(
    *,
    org: Organization,
    reason: DeletionReason | str,
    actor: User | None = None,
    now: datetime | None = None,
) -> DeletionTombstone:
    """D4/D9/D10: delete the org and everything in it for good; keep only a tombstone.

    Users, their licenses and calling data, content (messages, files, recordings), activity,
    subscriptions and their services all go with the org (database cascades). Audit rows keep
    the org's id and name as plain values and survive. A person (D9) must be allowed to.
    """
    controlhub_require(actor, org, ControlHubAction.DELETE_ORG)
    now = now or timezone.now()
    tombstone = DeletionTombstone.objects.create(
        org_id_value=org.pk,
        name=org.name,
        kind=org.kind,
        reason=DeletionReason(reason),
        deleted_at=now,
        marked_at=org.deletion_marked_at,
        warned_at=org.deletion_warned_at,
        deleted_by=str(actor) if actor else "system",
    )
    audit_record(
        action="org.delete",
        actor=actor,
        org=org,
        at=now,
        details={"reason": str(reason), "rule": "D9" if actor else "D4"},
    )
    if reason == DeletionReason.CUSTOMER_REQUEST:
        # D9: every partner managing the org hears it (the notice outlives the org, D10).
        notifications_owe_bulk(
            (
                Notice(
                    partner_id=partner_id,
                    kind=NotificationKind.ORG_DELETED,
                    key=f"org_deleted:{org.pk}",
                    link_path=reverse("customers:customer_list"),
                    customer_id=org.pk,
                    customer_name=org.name,
                    context={"date": now.date()},
                )
                for partner_id in CustomerRelationship.objects.filter(customer=org).values_list(
                    "partner_id", flat=True
                )
            ),
            now=now,
        )
    org.delete()
    return tombstone
