"""The partner's dashboard (issue 16): totals and the numbers that need attention, each a link
to the filtered customer list, and a 12-week chart of trial ends and predicted deletions.

The numbers and the trial ends per week are ONE aggregate over the partner's rows of the list's
read model (``licensing.CustomerRow``), with the same conditions as the list's filters, so each
link leads to exactly that many customers. The predicted deletions are the deletion forecast's
(``customers.forecast``), narrowed by the same read model. A fixed number of queries whatever
the number of customers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q

from licensing.choices import SubscriptionStatus
from partnerhub.accounts.models import Organization

from .forecast import deletion_forecast
from .lifecycle import NO_SIGNIN_DAYS, ForecastKind
from .selectors import (
    NEARING,
    customer_list_rows,
    rows_quiet_since,
    rows_with_subscription_status,
    rows_with_trial_ending,
)

CHART_WEEKS = 12


@dataclass(frozen=True)
class Week:
    start: date
    trial_ends: int
    deletions: int


@dataclass(frozen=True)
class Dashboard:
    counts: dict[str, int]
    deletions_30: int
    deletions_90: int
    weeks: list[Week]


def dashboard_conditions(*, today: date, now: datetime) -> dict[str, Q]:
    """Each number's condition on a ``CustomerRow``; the list's filters use the same ones."""
    status = rows_with_subscription_status
    return {
        "to_be_deleted": Q(deletion_marked_at__isnull=False),
        "trial_expiring_30": status(statuses=[SubscriptionStatus.TRIAL_EXPIRING_30]),
        "trial_expiring_60": status(
            statuses=[SubscriptionStatus.TRIAL_EXPIRING_30, SubscriptionStatus.TRIAL_EXPIRING_60]
        ),
        "trial_ending_90": rows_with_trial_ending(today=today, days=NEARING[-1]),
        "expiring_30": status(statuses=[SubscriptionStatus.EXPIRING_30]),
        "expiring_60": status(
            statuses=[SubscriptionStatus.EXPIRING_30, SubscriptionStatus.EXPIRING_60]
        ),
        "trial_expired": status(statuses=[SubscriptionStatus.TRIAL_EXPIRED]),
        "quiet_30": rows_quiet_since(since=now - timedelta(days=NO_SIGNIN_DAYS)),
    }


def partner_dashboard(*, partner: Organization, today: date, now: datetime) -> Dashboard:
    aggregates: dict[str, Any] = {"total": Count("pk")}
    aggregates.update(
        {
            key: Count("pk", filter=condition)
            for key, condition in dashboard_conditions(today=today, now=now).items()
        }
    )
    # Trial ends per week: the read model's nearest live trial end, counted in the same query.
    aggregates.update(
        {
            f"week_{n}": Count(
                "pk",
                filter=Q(
                    trial_end_date__gte=today + timedelta(weeks=n),
                    trial_end_date__lt=today + timedelta(weeks=n + 1),
                ),
            )
            for n in range(CHART_WEEKS)
        }
    )
    row = customer_list_rows(partner=partner).aggregate(**aggregates)
    counts = {k: int(v or 0) for k, v in row.items()}
    rows = deletion_forecast(partner=partner, now=now, days=CHART_WEEKS * 7)
    deletions = [r for r in rows if r.kind == ForecastKind.DELETION]
    per_week = Counter((r.on - today).days // 7 for r in deletions)
    weeks = [
        Week(today + timedelta(weeks=n), counts.pop(f"week_{n}"), per_week.get(n, 0))
        for n in range(CHART_WEEKS)
    ]
    return Dashboard(
        counts=counts,
        deletions_30=sum(1 for r in deletions if r.on <= today + timedelta(days=30)),
        deletions_90=sum(1 for r in deletions if r.on <= today + timedelta(days=90)),
        weeks=weeks,
    )
