"""Due-sweeps of subscriptions: suspension at the end (S1), removal at the end of the renewal or
grace period (S2, T12), calling stop and number release of Calling trials (T13).

Set-based and chunked; the "not yet done" state is the subscription's ``state`` and its
``ended_at`` / ``calling_stopped_at`` / ``numbers_released_at`` instants, so a late, repeated or
concurrent run does each thing once. Pure date rules are in ``licensing.lifecycle`` and
``trials.lifecycle`` terms (grace, number hold) are mirrored by the period end date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from partnerhub.accounts.choices import ContentKind
from partnerhub.accounts.models import ContentItem
from partnerhub.accounts.services import audit_bulk, deletion_recheck
from partnerhub.core.sweeps import CHUNK_SIZE, PkRange, SweepResult, lock_rows, within_range

from .choices import LICENSE_HOLDING_STATES, ServiceType, SubscriptionKind, SubscriptionState
from .lifecycle import GRACE_PERIOD_DAYS, period_end_date
from .models import CallingProfile, License, PhoneNumber, Service, Subscription
from .readmodel import customer_rows_refresh

NUMBER_HOLD_DAYS = 15  # T13 (trials.lifecycle.NUMBER_HOLD_DAYS; licensing may not import trials)


@dataclass(frozen=True)
class EndedSubscription:
    """A subscription whose period just ended, for whoever owes emails about it (T12)."""

    pk: int
    kind: str
    customer_id: int
    customer_name: str
    partner_id: int | None
    end_date: date


def _today(now: datetime) -> date:
    return now.date()


def subscriptions_due_for_suspension(*, today: date) -> QuerySet[Subscription]:
    """S1: active subscriptions whose last day has passed, oldest end first. The order is the
    ``(state, end_date)`` index's: unordered, a chunk's LIMIT let PostgreSQL expect to find its
    rows early in a sequential scan — and read every subscription when none was due (issue 11,
    half of the active ones look due to a planner that multiplies the two conditions)."""
    return Subscription.objects.filter(state=SubscriptionState.ACTIVE, end_date__lt=today).order_by(
        "end_date"
    )


def subscriptions_due_for_removal(*, today: date) -> QuerySet[Subscription]:
    """S2/T12: suspended subscriptions whose renewal or grace period has run out, in the
    ``(state, period_end_date)`` index's order (for the reason S1 gives: at 1M customers an
    unordered chunk read all 2.2M subscriptions sequentially)."""
    return Subscription.objects.filter(
        state=SubscriptionState.SUSPENDED, period_end_date__lte=today
    ).order_by("period_end_date")


def trials_due_for_number_release(*, today: date) -> QuerySet[Subscription]:
    """T13: Calling trials whose calling stopped and whose 15-day number hold is over (end date
    + 30 days of grace + 15 days <= today)."""
    return Subscription.objects.filter(
        kind=SubscriptionKind.TRIAL,
        calling_stopped_at__isnull=False,
        numbers_released_at__isnull=True,
        end_date__lte=today - timedelta(days=GRACE_PERIOD_DAYS + NUMBER_HOLD_DAYS),
    ).order_by()


def _locked_chunk(queryset: QuerySet[Subscription], seen: set[int]) -> list[Subscription]:
    rows = [
        sub
        for sub in lock_rows(
            queryset.only("pk", "kind", "end_date", "customer_id", "partner_id")[:CHUNK_SIZE]
        )
        if sub.pk not in seen
    ]
    seen.update(sub.pk for sub in rows)
    return rows


def _customer_names(rows: list[Subscription]) -> dict[int, str]:
    from partnerhub.accounts.models import Organization

    ids = {sub.customer_id for sub in rows}
    return dict(Organization.objects.filter(pk__in=ids).values_list("pk", "name"))


def subscriptions_suspend_due(*, now: datetime, within: PkRange | None = None) -> SweepResult:
    """S1: the day after its end date a subscription is suspended for its renewal period (paid,
    60 days) or grace period (trial, 30 days). One UPDATE per (kind, end date) in the chunk."""
    result = SweepResult(name="subscription_suspend", rule="S1")
    today = _today(now)
    seen: set[int] = set()
    while True:
        with transaction.atomic():
            rows = _locked_chunk(
                within_range(subscriptions_due_for_suspension(today=today), within), seen
            )
            if not rows:
                return result
            groups: dict[tuple[str, date], list[int]] = defaultdict(list)
            for sub in rows:
                groups[(sub.kind, sub.end_date)].append(sub.pk)
            for (kind, end_date), ids in groups.items():
                Subscription.objects.filter(pk__in=ids, state=SubscriptionState.ACTIVE).update(
                    state=SubscriptionState.SUSPENDED,
                    period_end_date=period_end_date(kind=kind, end_date=end_date),
                )
            customer_rows_refresh(customer_ids={s.customer_id for s in rows}, today=today)
            names = _customer_names(rows)
            audit_bulk(
                action="subscription.suspend",
                rows=((s.customer_id, names.get(s.customer_id, ""), str(s.pk)) for s in rows),
                at=now,
                details={"rule": "S1"},
            )
            result.add(f"{names.get(s.customer_id, '')}: subscription {s.pk}" for s in rows)


def subscriptions_remove(*, rows: list[Subscription], now: datetime) -> None:
    """S2 (T12, T13) for a chunk, inside the caller's transaction.

    Licenses are removed; the users' calling data goes with their Calling license (C2, T12: it
    cannot be recovered); Meetings site URLs are deleted; recordings are deleted in orgs left with
    no other Meetings service that still holds licenses; a Calling trial's calling stops (T13)
    and its numbers are kept 15 more days.
    """
    ids = [sub.pk for sub in rows]
    Subscription.objects.filter(pk__in=ids, state=SubscriptionState.SUSPENDED).update(
        state=SubscriptionState.ENDED, ended_at=now
    )
    deletion_recheck(org_ids=[sub.customer_id for sub in rows])
    calling_users = License.objects.filter(
        service__subscription_id__in=ids, service_type=ServiceType.CALLING
    ).values("user_id")
    CallingProfile.objects.filter(user_id__in=calling_users).delete()
    License.objects.filter(service__subscription_id__in=ids).delete()
    Service.objects.filter(subscription_id__in=ids, type=ServiceType.MEETINGS).exclude(
        site_url=""
    ).update(site_url="", edition="")
    meetings_orgs = set(
        Service.objects.filter(subscription_id__in=ids, type=ServiceType.MEETINGS).values_list(
            "subscription__customer_id", flat=True
        )
    )
    if meetings_orgs:
        still_meetings = Service.objects.filter(
            type=ServiceType.MEETINGS,
            subscription__customer_id=OuterRef("org_id"),
            subscription__state__in=LICENSE_HOLDING_STATES,
        )
        ContentItem.objects.filter(org_id__in=meetings_orgs, kind=ContentKind.RECORDING).exclude(
            Exists(still_meetings)
        ).delete()
    calling_trials = Service.objects.filter(
        subscription_id__in=ids,
        subscription__kind=SubscriptionKind.TRIAL,
        type=ServiceType.CALLING,
    ).values("subscription_id")
    Subscription.objects.filter(pk__in=calling_trials, calling_stopped_at__isnull=True).update(
        calling_stopped_at=now
    )
    customer_rows_refresh(customer_ids={sub.customer_id for sub in rows}, today=_today(now))


def subscriptions_end_due(
    *,
    now: datetime,
    on_ended: Callable[[list[EndedSubscription], datetime], int] | None = None,
    within: PkRange | None = None,
) -> SweepResult:
    """S2/T12/T13: at the end of the renewal or grace period, remove licenses and Meetings data.

    ``on_ended`` is called inside each chunk's transaction with what ended, so emails about it
    (T12's "you no longer have the trial services") are owed together with the change.
    """
    result = SweepResult(name="subscription_end", rule="S2")
    today = _today(now)
    seen: set[int] = set()
    while True:
        with transaction.atomic():
            rows = _locked_chunk(
                within_range(subscriptions_due_for_removal(today=today), within), seen
            )
            if not rows:
                return result
            subscriptions_remove(rows=rows, now=now)
            names = _customer_names(rows)
            audit_bulk(
                action="subscription.end",
                rows=((s.customer_id, names.get(s.customer_id, ""), str(s.pk)) for s in rows),
                at=now,
                details={"rule": "S2"},
            )
            if on_ended is not None:
                result.emails += on_ended(
                    [
                        EndedSubscription(
                            pk=s.pk,
                            kind=s.kind,
                            customer_id=s.customer_id,
                            customer_name=names.get(s.customer_id, ""),
                            partner_id=s.partner_id,
                            end_date=s.end_date,
                        )
                        for s in rows
                    ],
                    now,
                )
            result.add(f"{names.get(s.customer_id, '')}: subscription {s.pk}" for s in rows)


def trial_numbers_release_due(*, now: datetime, within: PkRange | None = None) -> SweepResult:
    """T13: 15 days after a Calling trial's calling stopped, its phone numbers are released."""
    result = SweepResult(name="trial_numbers_release", rule="T13")
    today = _today(now)
    seen: set[int] = set()
    while True:
        with transaction.atomic():
            rows = _locked_chunk(
                within_range(trials_due_for_number_release(today=today), within), seen
            )
            if not rows:
                return result
            ids = [s.pk for s in rows]
            PhoneNumber.objects.filter(subscription_id__in=ids).delete()
            Subscription.objects.filter(pk__in=ids, numbers_released_at__isnull=True).update(
                numbers_released_at=now
            )
            names = _customer_names(rows)
            audit_bulk(
                action="subscription.numbers_release",
                rows=((s.customer_id, names.get(s.customer_id, ""), str(s.pk)) for s in rows),
                at=now,
                details={"rule": "T13"},
            )
            result.add(f"{names.get(s.customer_id, '')}: trial {s.pk}" for s in rows)
