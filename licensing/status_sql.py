"""P2/P3 in SQL, so the customer list's read model (``licensing.readmodel``) and its filters
compute exactly what the pure rules of ``licensing.lifecycle`` say.

``subscription_status_expression`` mirrors ``subscription_status`` (P3) and
``provisioning_rank_expression`` the urgency order ``PROVISIONING_URGENCY`` (P2).
tests/partner/test_status_sql.py keeps SQL and Python equal on every boundary.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Case, CharField, IntegerField, Q, Value, When

from .choices import ServiceType, SubscriptionKind, SubscriptionState, SubscriptionStatus
from .lifecycle import (
    EXPIRING_LATER_DAYS,
    EXPIRING_SOON_DAYS,
    PROVISIONING_URGENCY,
    subscription_status,
)

# P3 statuses in the order a sort puts first what needs most attention.
SUBSCRIPTION_STATUS_ORDER: tuple[str, ...] = (
    SubscriptionStatus.TRIAL_EXPIRED,
    SubscriptionStatus.CANCELLED,
    SubscriptionStatus.TRIAL_EXPIRING_30,
    SubscriptionStatus.EXPIRING_30,
    SubscriptionStatus.TRIAL_EXPIRING_60,
    SubscriptionStatus.EXPIRING_60,
    SubscriptionStatus.TRIAL_ACTIVE,
    SubscriptionStatus.ACTIVE,
)
# Sorting by the services column groups customers by the set they hold: the service shown first
# (Meetings) is the most significant bit, so a descending sort puts Meetings customers first.
SERVICE_BITS: dict[str, int] = {
    t: 1 << (len(ServiceType.values) - 1 - i) for i, t in enumerate(ServiceType.values)
}
# P4 "at least one": a bit per P3 status (by rank) and per P2 status (by urgency).
STATUS_BITS: dict[str, int] = {s: 1 << i for i, s in enumerate(SUBSCRIPTION_STATUS_ORDER)}
PROVISIONING_BITS: dict[str, int] = {s: 1 << i for i, s in enumerate(PROVISIONING_URGENCY)}


_STATUS_RANK: dict[str, int] = {s: i for i, s in enumerate(SUBSCRIPTION_STATUS_ORDER)}


def subscription_status_rank(*, kind: str, state: str, end_date: date, today: date) -> int | None:
    """``subscription_status_rank_expression`` for one subscription in Python (the pure rule's
    status as its rank), for code that computes read-model rows without asking the database."""
    status = subscription_status(kind=kind, state=state, end_date=end_date, today=today)
    return None if status is None else _STATUS_RANK[status]


def _status_case(*, today: date, prefix: str, out: dict[str, Any], output_field: Any) -> Case:
    kind, state, end = f"{prefix}kind", f"{prefix}state", f"{prefix}end_date"
    trial = Q(**{kind: SubscriptionKind.TRIAL})
    soon = today + timedelta(days=EXPIRING_SOON_DAYS)
    later = today + timedelta(days=EXPIRING_LATER_DAYS)
    S, St = SubscriptionStatus, SubscriptionState

    def by_kind(trial_status: str, paid_status: str, condition: Q) -> list[When]:
        return [
            When(condition & trial, then=Value(out[trial_status])),
            When(condition, then=Value(out[paid_status])),
        ]

    return Case(
        When(Q(**{state: St.CONVERTED}), then=Value(None)),
        When(
            Q(**{state: St.CANCELLED}) & trial & Q(**{f"{end}__lt": today}),
            then=Value(out[S.TRIAL_EXPIRED]),
        ),
        When(Q(**{state: St.CANCELLED}), then=Value(out[S.CANCELLED])),
        *by_kind(
            S.TRIAL_EXPIRED,
            S.CANCELLED,
            Q(**{f"{end}__lt": today}) | Q(**{f"{state}__in": [St.SUSPENDED, St.ENDED]}),
        ),
        *by_kind(S.TRIAL_EXPIRING_30, S.EXPIRING_30, Q(**{f"{end}__lte": soon})),
        *by_kind(S.TRIAL_EXPIRING_60, S.EXPIRING_60, Q(**{f"{end}__lte": later})),
        When(trial, then=Value(out[S.TRIAL_ACTIVE])),
        default=Value(out[S.ACTIVE]),
        output_field=output_field,
    )


def subscription_status_expression(*, today: date, prefix: str = "") -> Case:
    """P3 in SQL, over a Subscription's ``kind``, ``state`` and ``end_date`` (``prefix`` reaches
    them through a relation). Mirrors ``licensing.lifecycle.subscription_status`` branch by branch;
    a converted trial has no status (NULL)."""
    return _status_case(
        today=today,
        prefix=prefix,
        out={s: str(s) for s in SubscriptionStatus.values},
        output_field=CharField(),
    )


def subscription_status_rank_expression(*, today: date, prefix: str = "") -> Case:
    """P3 as a number in ``SUBSCRIPTION_STATUS_ORDER`` (0 needs most attention), for sorting."""
    return _status_case(
        today=today,
        prefix=prefix,
        out={s: i for i, s in enumerate(SUBSCRIPTION_STATUS_ORDER)},
        output_field=IntegerField(),
    )


def provisioning_rank_expression(*, prefix: str = "") -> Case:
    """P2 in SQL: a service's provisioning status as its urgency (0 = failed, most urgent)."""
    return Case(
        *[
            When(**{f"{prefix}provisioning_status": status}, then=Value(rank))
            for rank, status in enumerate(PROVISIONING_URGENCY)
        ],
        output_field=IntegerField(),
    )


def subscription_status_q(*, status: str, today: date) -> Q:
    """P3 as a condition on the columns (``kind``, ``state``, ``end_date``), so the database can
    use the (state, end_date) index. Mirrors ``subscription_status``; tests check all three
    forms agree on every boundary."""
    S, St = SubscriptionStatus, SubscriptionState
    trial = Q(kind=SubscriptionKind.TRIAL)
    live = Q(state__in=[St.PENDING, St.ACTIVE])
    soon = today + timedelta(days=EXPIRING_SOON_DAYS)
    later = today + timedelta(days=EXPIRING_LATER_DAYS)
    ended = ~Q(state__in=[St.CANCELLED, St.CONVERTED]) & (
        Q(end_date__lt=today) | Q(state__in=[St.SUSPENDED, St.ENDED])
    )
    cancelled_trial_past = Q(state=St.CANCELLED) & trial & Q(end_date__lt=today)
    by_status = {
        S.TRIAL_EXPIRED: cancelled_trial_past | (trial & ended),
        S.CANCELLED: (Q(state=St.CANCELLED) & ~cancelled_trial_past) | (~trial & ended),
        S.TRIAL_EXPIRING_30: trial & live & Q(end_date__gte=today, end_date__lte=soon),
        S.EXPIRING_30: ~trial & live & Q(end_date__gte=today, end_date__lte=soon),
        S.TRIAL_EXPIRING_60: trial & live & Q(end_date__gt=soon, end_date__lte=later),
        S.EXPIRING_60: ~trial & live & Q(end_date__gt=soon, end_date__lte=later),
        S.TRIAL_ACTIVE: trial & live & Q(end_date__gt=later),
        S.ACTIVE: ~trial & live & Q(end_date__gt=later),
    }
    return by_status[SubscriptionStatus(status)]
