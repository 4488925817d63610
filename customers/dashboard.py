"""The partner's dashboard (issue 16): totals and the numbers that need attention, each a link
to the filtered customer list, and a 12-week chart of trial ends and predicted deletions.

Every number, and the trial ends and predicted deletions per week, are ONE aggregate over the
partner's rows of the list's read model (``licensing.CustomerRow``), with the same conditions as
the list's filters (so each link leads to exactly that many customers) and the same forecast
columns as the deletion forecast. A fixed number of queries whatever the number of customers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q

from licensing.choices import SubscriptionStatus
from partnerhub.accounts.models import Organization
from partnerhub.core.listview import summary_cache_key

from .lifecycle import NO_SIGNIN_DAYS
from .selectors import (
    NEARING,
    customer_list_rows,
    rows_quiet_since,
    rows_with_subscription_status,
    rows_with_trial_ending,
)

logger = logging.getLogger(__name__)
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


DASHBOARD_TTL = 600  # seconds; a change to the partner's rows makes it stale at once


def partner_dashboard(*, partner: Organization, today: date, now: datetime) -> Dashboard:
    """The numbers, cached per partner like the list's count band: the key carries the
    partner's summary version, which every committed change to its rows bumps
    (``licensing.readmodel``), so only the activity-based number can be up to
    ``DASHBOARD_TTL`` old. A cache that is down only costs the count."""
    key = summary_cache_key("customers", partner.pk, "dashboard", today.isoformat())
    try:
        counts = cache.get(key)
    except Exception:  # the cache is down: count without it
        logger.warning("Dashboard cache unavailable; counting without it", exc_info=True)
        key, counts = "", None
    if counts is None:
        counts = _dashboard_counts(partner=partner, today=today, now=now)
        if key:
            try:
                cache.set(key, counts, DASHBOARD_TTL)
            except Exception:
                logger.warning("Could not cache the dashboard", exc_info=True)
    counts = dict(counts)
    weeks = [
        Week(today + timedelta(weeks=n), counts.pop(f"trials_{n}"), counts.pop(f"deletions_{n}"))
        for n in range(CHART_WEEKS)
    ]
    return Dashboard(
        counts=counts,
        deletions_30=counts.pop("deletions_within_30"),
        deletions_90=counts.pop("deletions_within_90"),
        weeks=weeks,
    )


def _dashboard_counts(*, partner: Organization, today: date, now: datetime) -> dict[str, int]:
    aggregates: dict[str, Any] = {"total": Count("pk")}
    aggregates.update(
        {
            key: Count("pk", filter=condition)
            for key, condition in dashboard_conditions(today=today, now=now).items()
        }
    )
    # Per week, in the same query: trial ends (the nearest live trial's end) and predicted
    # deletions (the read model's forecast; an overdue one counts in the first week).
    for n in range(CHART_WEEKS):
        start, end = today + timedelta(weeks=n), today + timedelta(weeks=n + 1)
        aggregates[f"trials_{n}"] = Count(
            "pk", filter=Q(trial_end_date__gte=start, trial_end_date__lt=end)
        )
        deleted = (
            Q(deletion_on__lt=end) if n == 0 else Q(deletion_on__gte=start, deletion_on__lt=end)
        )
        aggregates[f"deletions_{n}"] = Count("pk", filter=deleted)
    for days in (30, 90):
        aggregates[f"deletions_within_{days}"] = Count(
            "pk", filter=Q(deletion_on__lte=today + timedelta(days=days))
        )
    row = customer_list_rows(partner=partner).aggregate(**aggregates)
    return {k: int(v or 0) for k, v in row.items()}
