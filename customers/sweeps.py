"""Due-sweeps of the automatic deletion of unused organizations (D1, D3, D4, D6).

Each sweep selects the orgs that are due as of ``now`` with set-based queries (dates plus the
"not yet done" state kept on ``Organization``), acts in chunks with bulk updates and writes one
audit row per change. Run late, twice or twice at once, they do the right thing (see
``partnerhub.core.sweeps``). The pure rules live in ``customers.lifecycle``.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import CombinedExpression
from django.urls import reverse
from django.utils import timezone

from licensing.choices import LICENSE_HOLDING_STATES
from licensing.models import Subscription
from licensing.readmodel import customer_rows_refresh
from partnerhub.accounts.choices import NotificationKind, OrgKind, Role
from partnerhub.accounts.models import CustomerRelationship, Membership, Organization, User
from partnerhub.accounts.notifications import Notice, notifications_owe_bulk
from partnerhub.accounts.services import audit_bulk
from partnerhub.core.clock import business_date
from partnerhub.core.outbox import outbox_key
from partnerhub.core.sweeps import (
    CHUNK_SIZE,
    OwedEmail,
    PkRange,
    SweepResult,
    chunks,
    emails_owe_bulk,
    lock_rows,
    sweep_lock,
    within_range,
)

from .choices import DeletionReason, DeletionStage
from .lifecycle import (
    DAYS_FROM_WARNING_TO_DELETION,
    QUIET_DAYS_BEFORE_WARNING,
    deletion_due_at,
    deletion_stage,
    is_markable,
)
from .models import DeletionHold
from .services import orgs_delete

logger = logging.getLogger(__name__)

# A released hold lets its orgs through the safety limit for this long (the next daily ticks).
HOLD_RELEASE_VALID = timedelta(days=7)


# --- selections ---------------------------------------------------------------------------


def _holds_licenses() -> Exists:
    """D1: a subscription that still holds licenses (pending, active, or suspended in its
    renewal/grace period)."""
    return Exists(
        Subscription.objects.filter(customer=OuterRef("pk"), state__in=LICENSE_HOLDING_STATES)
    )


def _manages_customers() -> Exists:
    """D1: a partner org that manages customers is never marked."""
    return Exists(CustomerRelationship.objects.filter(partner=OuterRef("pk")))


def orgs_due_for_mark_recheck() -> QuerySet[Organization]:
    """D1 candidates: orgs whose mark must be decided again (new, or a subscription of theirs
    ended or was cancelled, or a customer relationship went): the ``deletion_recheck`` flag
    kept by the services, read through its partial index. Everything else has not changed
    since the last tick decided it."""
    return Organization.objects.filter(deletion_recheck=True).order_by("pk")


def orgs_due_for_unmark(*, reason: str | None = None) -> QuerySet[Organization]:
    """D6 (and D1 no longer holding): marked orgs that got a trial or subscription, or — a
    partner — a customer. ``reason`` ("holds" or "manages") selects one half: each half alone
    is a semi-join PostgreSQL runs as index probes per marked org; the OR of both made it hash
    every subscription of the database (issue 11, measured at 1M customers)."""
    marked = Organization.objects.filter(deletion_marked_at__isnull=False).order_by()
    if reason == "holds":
        return marked.filter(_holds_licenses())
    # Only a partner manages customers (D1): naming the kind lets PostgreSQL probe the few
    # marked partners instead of hashing every customer relationship (issue 11, at 1M).
    manages = Q(kind=OrgKind.PARTNER) & _manages_customers()
    if reason == "manages":
        return marked.filter(manages)
    return marked.filter(_holds_licenses() | manages)


def _quiet_since_warning() -> CombinedExpression:
    """The instant a current warning counted its 30 quiet days from (warning_is_current)."""
    return F("deletion_warned_at") - timedelta(days=QUIET_DAYS_BEFORE_WARNING)


def orgs_due_for_deletion_warning(*, now: datetime) -> QuerySet[Organization]:
    """D3: marked orgs with no current warning, quiet for 30 days counted from the later of the
    mark and the last activity (customers.lifecycle.warning_due_at <= now)."""
    cutoff = now - timedelta(days=QUIET_DAYS_BEFORE_WARNING)
    return (
        Organization.objects.filter(deletion_marked_at__lte=cutoff)
        .filter(Q(last_activity_at__isnull=True) | Q(last_activity_at__lte=cutoff))
        # No current warning (customers.lifecycle.warning_is_current, D5).
        .filter(Q(deletion_warned_at__isnull=True) | Q(last_activity_at__gt=_quiet_since_warning()))
        .order_by()
    )


def orgs_due_for_deletion(*, now: datetime) -> QuerySet[Organization]:
    """D4: marked orgs whose warning is current (no activity since) and 30 days old."""
    cutoff = now - timedelta(days=DAYS_FROM_WARNING_TO_DELETION)
    return (
        Organization.objects.filter(
            deletion_marked_at__isnull=False, deletion_warned_at__lte=cutoff
        )
        # The warning is current: no activity in the 30 days before it or since (D5).
        .filter(Q(last_activity_at__isnull=True) | Q(last_activity_at__lte=_quiet_since_warning()))
        .order_by()
    )


def deletion_batch_limit(*, org_count: int) -> int:
    """Safety valve: the most orgs one tick may delete: max(50, 5% of all orgs) by default."""
    return max(settings.DELETION_BATCH_MIN, math.ceil(settings.DELETION_BATCH_FRACTION * org_count))


# --- sweeps -------------------------------------------------------------------------------


def _chunked_sweep(
    *,
    result: SweepResult,
    select: Callable[[], QuerySet[Organization]],
    act: Callable[[list[Organization], datetime], None],
    now: datetime,
) -> SweepResult:
    """Run ``act`` on locked chunks of ``select()`` until nothing is due. Each chunk is its own
    transaction; ``select`` is re-evaluated inside it, so rows another tick finished meanwhile
    are no longer picked."""
    seen: set[int] = set()
    while True:
        with transaction.atomic():
            rows = [
                org
                for org in lock_rows(select().only("pk", "name", "kind")[:CHUNK_SIZE])
                if org.pk not in seen
            ]
            if not rows:
                return result
            seen.update(org.pk for org in rows)
            act(rows, now)


RECHECK_CHUNK = 5000


def deletion_mark_due(*, now: datetime, within: PkRange | None = None) -> SweepResult:
    """D1: mark every org that holds no licenses (and, a partner, manages no customers).

    Only flagged orgs are decided (``orgs_due_for_mark_recheck``), in one statement per chunk
    that locks them (SKIP LOCKED) and says whether each holds licenses or manages customers.
    A change that is not committed yet flags its org with an UPDATE after it changed the
    subscription or relationship: either that change holds the org's lock (the chunk skips the
    org, still flagged), or it waits for the chunk and flags the org again after it — the next
    tick decides once more. The mark records
    ``now``: a tick that runs late marks late, which only gives the org more time.
    """
    result = SweepResult(name="deletion_mark", rule="D1")
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = list(
                lock_rows(
                    within_range(orgs_due_for_mark_recheck(), within)
                    .filter(pk__gt=last_pk)
                    .annotate(holds=_holds_licenses(), manages=_manages_customers())
                ).values_list("pk", "name", "kind", "deletion_marked_at", "holds", "manages")[
                    :RECHECK_CHUNK
                ]
            )
            if not rows:
                return result
            last_pk = rows[-1][0]
            marked = [
                (pk, name)
                for pk, name, kind, marked_at, holds, manages in rows
                if marked_at is None
                and is_markable(
                    holds_licenses=holds,
                    is_partner=kind == OrgKind.PARTNER,
                    manages_customers=manages,
                )
            ]
            Organization.objects.filter(pk__in=[row[0] for row in rows]).update(
                deletion_recheck=False
            )
            if not marked:
                continue
            marked_ids = [pk for pk, _name in marked]
            Organization.objects.filter(pk__in=marked_ids, deletion_marked_at__isnull=True).update(
                deletion_marked_at=now
            )
            customer_rows_refresh(customer_ids=marked_ids, today=business_date(now))
            audit_bulk(
                action="org.deletion_mark",
                rows=((pk, name, "") for pk, name in marked),
                at=now,
                details={"rule": "D1"},
            )
            _partners_told(
                [Organization(pk=pk, name=name) for pk, name in marked],
                kind=NotificationKind.DELETION_MARKED,
                at=now,
                date=None,
            )
            result.add(name for _pk, name in marked)


def deletion_unmark_due(*, now: datetime, within: PkRange | None = None) -> SweepResult:
    """D6: an org that got a trial or subscription (or, a partner, a customer) loses its mark and
    any warning. ``subscription_create`` clears it at once; this catches every other path."""
    result = SweepResult(name="deletion_unmark", rule="D6")

    def act(rows: list[Organization], at: datetime) -> None:
        Organization.objects.filter(pk__in=[org.pk for org in rows]).update(
            deletion_marked_at=None, deletion_warned_at=None
        )
        customer_rows_refresh(customer_ids=[org.pk for org in rows], today=business_date(at))
        audit_bulk(
            action="org.deletion_unmark",
            rows=((org.pk, org.name, "") for org in rows),
            at=at,
            details={"rule": "D6"},
        )
        result.add(org.name for org in rows)

    for reason in ("holds", "manages"):

        def select(reason: str = reason) -> QuerySet[Organization]:
            return within_range(orgs_due_for_unmark(reason=reason), within)

        _chunked_sweep(
            result=result,
            select=select,
            act=act,
            now=now,
        )
    return result


def _partners_told(rows: list[Organization], *, kind: str, at: datetime, date: Any) -> None:
    """D8: the partners managing these orgs see the mark or the warning in their feed (no
    email: only the org's own full admins are emailed, D3). Keyed by the instant, so a fresh
    mark or warning after a reset is a fresh notice."""
    by_org: dict[int, list[int]] = defaultdict(list)
    for customer_id, partner_id in CustomerRelationship.objects.filter(
        customer_id__in=[org.pk for org in rows]
    ).values_list("customer_id", "partner_id"):
        by_org[customer_id].append(partner_id)
    notifications_owe_bulk(
        (
            Notice(
                partner_id=partner_id,
                kind=kind,
                key=f"{kind}:{org.pk}:{at.isoformat()}",
                link_path=reverse("customers:customer_detail", kwargs={"pk": org.pk}),
                customer_id=org.pk,
                customer_name=org.name,
                context={"date": date} if date else {},
            )
            for org in rows
            for partner_id in by_org.get(org.pk, [])
        ),
        now=at,
    )


# D3: "every full admin of the org": a customer's full admins; a partner org's full admins.
FULL_ADMIN_ROLES = (Role.CUSTOMER_FULL_ADMIN, Role.PARTNER_FULL_ADMIN)


def _full_admins(org_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """D3/D8: every active full admin of each org, as (email, language)."""
    admins: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for org_id, email, language in (
        Membership.objects.filter(
            org_id__in=org_ids, role__in=FULL_ADMIN_ROLES, user__is_active=True
        )
        .order_by("org_id", "user__email")
        .values_list("org_id", "user__email", "user__language")
    ):
        admins[org_id].append((email, language))
    return admins


def deletion_warn_due(*, now: datetime, within: PkRange | None = None) -> SweepResult:
    """D3: after 30 quiet days, record the warning and owe every full admin an email naming the
    deletion date (30 days from now). The email key carries that date, so a fresh warning after
    a reset (D5) is a new email and a repeated tick is not."""
    result = SweepResult(name="deletion_warn", rule="D3")

    def act(rows: list[Organization], at: datetime) -> None:
        ids = [org.pk for org in rows]
        Organization.objects.filter(pk__in=ids).update(deletion_warned_at=at)
        # Issue 16: the list's forecast now counts from this warning (D4).
        customer_rows_refresh(customer_ids=ids, today=timezone.localdate(at))
        deletion_at = deletion_due_at(warned_at=at)
        admins = _full_admins(ids)
        result.emails += emails_owe_bulk(
            OwedEmail(
                key=outbox_key("deletion_warning", email, org.pk, deletion_at.date().isoformat()),
                kind="deletion_warning",
                to=email,
                template="deletion_warning",
                context={
                    "org_name": org.name,
                    "org_pk": org.pk,
                    "deletion_date": deletion_at.date(),
                    "warned_date": at.date(),
                },
                org_id=org.pk,
                language=language or None,
            )
            for org in rows
            for email, language in admins.get(org.pk, [])
        )
        _partners_told(rows, kind=NotificationKind.DELETION_WARNED, at=at, date=deletion_at.date())
        audit_bulk(
            action="org.deletion_warn",
            rows=((org.pk, org.name, "") for org in rows),
            at=at,
            details={"rule": "D3", "deletion_date": deletion_at.date().isoformat()},
        )
        result.add(f"{org.name} (deletion on {deletion_at.date().isoformat()})" for org in rows)

    return _chunked_sweep(
        result=result,
        select=lambda: within_range(orgs_due_for_deletion_warning(now=now), within),
        act=act,
        now=now,
    )


def deletion_batch_decide(*, now: datetime, result: SweepResult) -> list[int]:
    """The safety valve, under a lock so two ticks decide one after the other.

    Orgs released by support staff (a hold released in the last 7 days) may go; the rest may go
    only if they are no more than the limit. Otherwise none of the rest is deleted: a hold is
    filed (or the open one updated), an error is logged, and support staff are emailed once per
    hold.
    """
    with sweep_lock("deletion-batch"):
        # Sorted here, not in SQL: ORDER BY id would make SQLite walk the whole table in id
        # order instead of reading the warned orgs through their partial index.
        due_ids = sorted(orgs_due_for_deletion(now=now).values_list("pk", flat=True))
        if not due_ids:
            return []
        released: set[int] = set()
        for org_ids in DeletionHold.objects.filter(
            released_at__isnull=False, released_at__gte=now - HOLD_RELEASE_VALID
        ).values_list("org_ids", flat=True):
            released.update(int(pk) for pk in org_ids)
        covered = [pk for pk in due_ids if pk in released]
        rest = [pk for pk in due_ids if pk not in released]
        limit = deletion_batch_limit(org_count=Organization.objects.count())
        if len(rest) <= limit:
            return due_ids
        hold = DeletionHold.objects.filter(released_at__isnull=True).order_by("-pk").first()
        if hold is None:
            hold = DeletionHold.objects.create(
                tick_at=now, due_count=len(rest), limit=limit, org_ids=rest, created_at=now
            )
        else:
            DeletionHold.objects.filter(pk=hold.pk).update(
                tick_at=now, due_count=len(rest), limit=limit, org_ids=rest
            )
        logger.error(
            "Deletion batch held: %d orgs are due for deletion, more than the limit of %d. "
            "None of them was deleted; support staff can release hold %d in the admin.",
            len(rest),
            limit,
            hold.pk,
        )
        result.emails += emails_owe_bulk(
            OwedEmail(
                key=outbox_key("deletion_batch_held", email, hold.pk),
                kind="deletion_batch_held",
                to=email,
                template="deletion_batch_held",
                context={
                    "due_count": len(rest),
                    "limit": limit,
                    "hold_pk": hold.pk,
                    "tick_at": now,
                },
            )
            for email in settings.SUPPORT_EMAILS
        )
        result.items.insert(0, f"HELD: {len(rest)} orgs over the limit of {limit} (hold {hold.pk})")
        return covered


def _still_due(org: Organization, *, holding: set[int], managing: set[int], now: datetime) -> bool:
    """D4 re-check inside the batch's transaction: the countdown says deletion is due (no
    activity arrived since the warning) and D1 still holds (no licenses, no customers)."""
    stage = deletion_stage(
        marked_at=org.deletion_marked_at,
        warned_at=org.deletion_warned_at,
        last_activity_at=org.last_activity_at,
        now=now,
    )
    if stage != DeletionStage.DELETION_DUE:
        return False
    return is_markable(
        holds_licenses=org.pk in holding,
        is_partner=org.is_partner,
        manages_customers=org.pk in managing,
    )


DELETE_CHUNK = 200


def orgs_delete_due(*, org_ids: list[int], now: datetime) -> list[Organization]:
    """D4 for one batch, in the caller's transaction: lock the orgs, re-check each (fresh
    statements after the locks see every change committed before them), delete those still
    due in one set-based pass (``orgs_delete``). Returns the deleted orgs."""
    orgs = list(
        lock_rows(Organization.objects.filter(pk__in=org_ids).order_by()).only(
            "pk",
            "name",
            "kind",
            "deletion_marked_at",
            "deletion_warned_at",
            "last_activity_at",
        )
    )
    ids = [org.pk for org in orgs]
    if not ids:
        return []
    holding = set(
        Subscription.objects.filter(
            customer_id__in=ids, state__in=LICENSE_HOLDING_STATES
        ).values_list("customer_id", flat=True)
    )
    managing = set(
        CustomerRelationship.objects.filter(partner_id__in=ids).values_list("partner_id", flat=True)
    )
    doomed = [org for org in orgs if _still_due(org, holding=holding, managing=managing, now=now)]
    orgs_delete(orgs=doomed, reason=DeletionReason.UNUSED, now=now)
    return doomed


def deletion_due(*, now: datetime, org_ids: list[int] | None = None) -> SweepResult:
    """D4/D10: delete every org warned 30+ days ago with no activity since, keeping a tombstone
    and an audit row each. Batches of orgs are locked, re-checked and deleted in one
    transaction each; a batch that fails is retried org by org, so one org that cannot be
    deleted keeps no other alive. The safety limit may hold the batch back
    (``deletion_batch_decide``); ``org_ids`` (a fan-out chunk) are ids it already let through."""
    result = SweepResult(name="deletion", rule="D4")
    if org_ids is None:
        org_ids = deletion_batch_decide(now=now, result=result)
    for batch in chunks(org_ids, DELETE_CHUNK):
        try:
            with transaction.atomic():
                deleted = orgs_delete_due(org_ids=list(batch), now=now)
        except Exception:
            logger.warning("Deleting a batch of %d orgs failed; retrying one by one.", len(batch))
            deleted = []
            for org_id in batch:
                try:
                    with transaction.atomic():
                        deleted.extend(orgs_delete_due(org_ids=[org_id], now=now))
                except Exception:
                    # Its transaction rolled back; it stays due and the next tick tries again.
                    logger.exception(
                        "Deleting org %s failed; it will be retried next tick.", org_id
                    )
        result.add(f"{org.name} (#{org.pk})" for org in deleted)
    return result


def hold_release(*, hold: DeletionHold, user: User) -> bool:
    """Support staff release a held batch; the next tick deletes its orgs that are still due."""

    from partnerhub.accounts.services import audit_record

    with transaction.atomic():
        released = DeletionHold.objects.filter(pk=hold.pk, released_at__isnull=True).update(
            released_at=timezone.now(), released_by=user
        )
        if released:
            audit_record(
                action="deletion_hold.release",
                actor=user,
                target=str(hold.pk),
                details={"due_count": hold.due_count, "limit": hold.limit},
            )
    return bool(released)
