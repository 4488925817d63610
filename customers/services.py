"""Writes of the customers app: user activity (D5) and deleting an org for good (D4, D9, D10).

The lifecycle sweeps (issue 3) build on these; Control Hub's "delete now" (D9) calls
``org_delete`` directly.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from licensing.readmodel import (
    customer_rows_admin_signed_in,
    customer_rows_forget,
    customer_rows_refresh,
)
from partnerhub.accounts.access import ControlHubAction, controlhub_require
from partnerhub.accounts.choices import NotificationKind
from partnerhub.accounts.models import AuditEntry, CustomerRelationship, Organization, User
from partnerhub.accounts.notifications import Notice, notifications_owe_bulk
from partnerhub.accounts.services import audit_events_owe
from partnerhub.core.bulk_delete import UnsupportedCascade, cascade_delete, cascade_plan

from .choices import ActivityKind, DeletionReason
from .lifecycle import QUIET_DAYS_BEFORE_WARNING
from .models import ActivityEvent, DeletionTombstone
from .signin_rows import is_current_admin


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
    # Issue 16: activity moves the deletion forecast of a marked org only (an unmarked org's
    # countdown starts at its mark), so only then is its list row refreshed.
    if Organization.objects.filter(pk=org_id, deletion_marked_at__isnull=False).exists():
        customer_rows_refresh(customer_ids=[org_id])  # the admin sign-in with the rest
    elif kind == ActivityKind.CONTROL_HUB_SIGN_IN and is_current_admin(user=user, org_id=org_id):
        # Issue 16: an admin's sign-in is the rows' latest admin sign-in, if it is the latest.
        customer_rows_admin_signed_in(customer_id=org_id, at=at)
    return event


@transaction.atomic
def org_delete(
    *,
    org: Organization,
    reason: DeletionReason | str,
    actor: User | None = None,
    now: datetime | None = None,
) -> DeletionTombstone:
    """D4/D9/D10: delete the org and everything in it for good; keep only a tombstone."""
    return orgs_delete(orgs=[org], reason=reason, actor=actor, now=now)[0]


@transaction.atomic
def orgs_delete(
    *,
    orgs: list[Organization],
    reason: DeletionReason | str,
    actor: User | None = None,
    now: datetime | None = None,
) -> list[DeletionTombstone]:
    """D4/D9/D10: delete these orgs and everything in them for good; keep only tombstones.

    Users, their licenses and calling data, content (messages, files, recordings), activity,
    subscriptions and their services all go with the org. Audit rows keep the org's id and name
    as plain values and survive. Set-based (issue 11): one INSERT of the tombstones, one of the
    audit rows (written first, so an actor who deletes their own org is nulled with the rest),
    then one statement per dependent table for the whole batch (``cascade_delete``), instead of
    Django's collector loading every row of every org. A person (D9) must be allowed to.
    """
    for org in orgs:
        controlhub_require(actor, org, ControlHubAction.DELETE_ORG)
    now = now or timezone.now()
    if not orgs:
        return []
    tombstones = DeletionTombstone.objects.bulk_create(
        DeletionTombstone(
            org_id_value=org.pk,
            name=org.name,
            kind=org.kind,
            reason=DeletionReason(reason),
            deleted_at=now,
            marked_at=org.deletion_marked_at,
            warned_at=org.deletion_warned_at,
            deleted_by=str(actor) if actor else "system",
        )
        for org in orgs
    )
    AuditEntry.objects.bulk_create(
        AuditEntry(
            at=now,
            actor=actor,
            actor_label=str(actor) if actor else "system",
            action="org.delete",
            org_id_value=org.pk,
            org_name=org.name,
            details={"reason": str(reason), "rule": "D9" if actor else "D4"},
        )
        for org in orgs
    )
    # The customer.deleted webhook, owed while the relationships still say who manages it.
    audit_events_owe(
        "org.delete",
        [(org.pk, org.name, "") for org in orgs],
        now,
        {"reason": str(reason), "rule": "D9" if actor else "D4"},
    )
    if reason == DeletionReason.CUSTOMER_REQUEST:
        # D9: every partner managing the org hears it (the notice outlives the org, D10).
        names = {org.pk: org.name for org in orgs}
        notifications_owe_bulk(
            (
                Notice(
                    partner_id=partner_id,
                    kind=NotificationKind.ORG_DELETED,
                    key=f"org_deleted:{customer_id}",
                    link_path=reverse("customers:customer_list"),
                    customer_id=customer_id,
                    customer_name=names[customer_id],
                    context={"date": now.date()},
                )
                for customer_id, partner_id in CustomerRelationship.objects.filter(
                    customer_id__in=list(names)
                ).values_list("customer_id", "partner_id")
            ),
            now=now,
        )
    customer_rows_forget(org_ids=[org.pk for org in orgs])
    try:
        cascade_plan(Organization)
    except UnsupportedCascade:  # a relation the SQL plan cannot express: the collector can
        for org in orgs:
            org.delete()
    else:
        cascade_delete(Organization, [org.pk for org in orgs])
    return tombstones
