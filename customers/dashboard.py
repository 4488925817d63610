"""The partner's dashboard (issue 16): totals and the numbers that need attention, each a link
to the filtered customer list, and a 12-week chart of trial ends and predicted deletions.

Every number is counted over the partner's rows of the list's read model
(``licensing.CustomerRow``) with the condition of the list filter its link opens
(``dashboard_conditions``; the filters in ``customers.filters`` call the same selectors), so
each link leads to exactly that many customers. The deletions are the deletion forecast's
columns.

Speed (the Speed section of issue 16): four statements, each reading one index range of the
partner's rows and none reading the table, so a cold dashboard costs about what the list's
count band does at 100,000 customers:

* the rows grouped by their P3 status bits (``crow_sub_bits_idx``): the total and every status
  number, summed here with the same masks as the status filter;
* one statement of scalar counts, each an index range: marked for deletion (a partial index),
  low license assignment (``licenses_used_percent`` under the threshold), over the license
  limit (a partial index), and no admin sign-in (never, or before the cut-off: two ranges);
* trial ends per day over the next 90 days (``crow_trial_end_idx``), summed into weeks;
* predicted deletions per day up to 90 days out (``crow_deletion_on_idx``), summed into weeks.

The numbers are cached per partner and day (``partner_dashboard``) until the partner's rows
change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.db.models import Count, IntegerField, Q, QuerySet, Subquery

from licensing.choices import SubscriptionStatus
from licensing.lifecycle import EXPIRING_LATER_DAYS, EXPIRING_SOON_DAYS
from licensing.models import CustomerRow
from partnerhub.accounts.models import Organization
from partnerhub.core.listview import summary_cache_key

from .lifecycle import NO_SIGNIN_DAYS
from .selectors import (
    NEARING,
    customer_list_rows,
    low_assignment_percent,
    no_signin_cutoff,
    rows_over_license_limit,
    rows_with_low_assignment,
    rows_with_subscription_status,
    rows_with_trial_ending,
    rows_without_admin_signin,
    rows_without_admin_signin_parts,
    subscription_status_mask,
)

logger = logging.getLogger(__name__)
CHART_WEEKS = 12
TRIAL_HORIZON = NEARING[-1]  # days: "trials ending within 90 days"
DELETION_HORIZONS = (30, 90)  # days: the deletions expected within 30 and 90 days
S = SubscriptionStatus
# The numbers that are P3 statuses: each the customers with at least one of these statuses
# (the list's ``subscription_status`` filter, the same statuses ticked).
STATUS_NUMBERS: dict[str, list[str]] = {
    "trial_expiring_30": [S.TRIAL_EXPIRING_30],
    "trial_expiring_60": [S.TRIAL_EXPIRING_30, S.TRIAL_EXPIRING_60],
    "expiring_30": [S.EXPIRING_30],
    "expiring_60": [S.EXPIRING_30, S.EXPIRING_60],
    "trial_expired": [S.TRIAL_EXPIRED],
}
# The days the dashboard's sentences name, handed to the template (a period is said once).
DAYS = {
    "soon": EXPIRING_SOON_DAYS,
    "later": EXPIRING_LATER_DAYS,
    "trials": TRIAL_HORIZON,
    "signin": NO_SIGNIN_DAYS,
    "deletions_soon": DELETION_HORIZONS[0],
    "deletions_later": DELETION_HORIZONS[1],
}


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
    low_assignment_percent: int


def dashboard_conditions(*, today: date, now: datetime) -> dict[str, Q]:
    """Each number's condition on a ``CustomerRow``: the list filter its link opens uses the
    same selector (tests count the list through each link)."""
    conditions = {
        "to_be_deleted": Q(deletion_marked_at__isnull=False),
        **{
            key: rows_with_subscription_status(statuses=statuses)
            for key, statuses in STATUS_NUMBERS.items()
        },
        "trial_ending_90": rows_with_trial_ending(today=today, days=TRIAL_HORIZON),
        "low_assignment": rows_with_low_assignment(percent=low_assignment_percent()),
        "over_limit": rows_over_license_limit(),
        "no_admin_signin": rows_without_admin_signin(since=no_signin_cutoff(now)),
    }
    return conditions


DASHBOARD_TTL = 600  # seconds; a change to the partner's rows makes it stale at once


def dashboard_cache_key(*, partner: Organization, today: date) -> str:
    """Where one partner's numbers of one day are cached: the key carries the partner's summary
    version, which every committed change to its rows bumps (``licensing.readmodel``)."""
    return summary_cache_key(
        "customers", partner.pk, "dashboard", today.isoformat(), low_assignment_percent()
    )


def partner_dashboard(*, partner: Organization, today: date, now: datetime) -> Dashboard:
    """The numbers, cached per partner like the list's count band. Only the sign-in number can
    be up to ``DASHBOARD_TTL`` old: an admin's sign-in does not make the cache stale (it would
    recount a large partner's numbers at every sign-in of one of its customers' admins), and
    neither does the clock moving the cut-off. A cache that is down only costs the count."""
    key = dashboard_cache_key(partner=partner, today=today)
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
        low_assignment_percent=low_assignment_percent(),
    )


class CountOf(Subquery):
    """``COUNT(*)`` of a queryset's rows as a scalar subquery (a plain count of an index range;
    a grouped ``COUNT(id)``, Django's usual form, costs SQLite two to three times as much)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()


def _scalar_counts(
    *, partner: Organization, rows: QuerySet[CustomerRow], conditions: dict[str, Q]
) -> dict[str, int]:
    """Several counts of the partner's ``rows`` in one statement: a scalar subquery each, so
    each reads its own index range (one aggregate of many filtered counts reads every row and
    tests each condition on it)."""
    subqueries = {
        key: CountOf(rows.filter(condition).order_by().values("pk"))
        for key, condition in conditions.items()
    }
    found = (
        Organization.objects.filter(pk=partner.pk)
        .order_by()
        .annotate(**subqueries)
        .values(*subqueries)
        .first()
    )
    return {key: int((found or {}).get(key) or 0) for key in conditions}


def _per_day(rows: QuerySet[CustomerRow], column: str) -> Iterable[tuple[date, int]]:
    return rows.values(column).annotate(n=Count("pk")).values_list(column, "n").order_by()


def _dashboard_counts(*, partner: Organization, today: date, now: datetime) -> dict[str, int]:
    rows = customer_list_rows(partner=partner)
    counts: dict[str, int] = {}
    # 1. The rows grouped by their status bits: the total and each status number.
    by_bits = list(
        rows.values("subscription_bits")
        .annotate(n=Count("pk"))
        .values_list("subscription_bits", "n")
        .order_by()
    )
    counts["total"] = sum(n for _bits, n in by_bits)
    for key, statuses in STATUS_NUMBERS.items():
        mask = subscription_status_mask(statuses)
        counts[key] = sum(n for bits, n in by_bits if bits & mask)
    # 2. The numbers that are one index range each (no admin sign-in: two disjoint ranges).
    never, before = rows_without_admin_signin_parts(since=no_signin_cutoff(now))
    scalar = _scalar_counts(
        partner=partner,
        rows=rows,
        conditions={
            "to_be_deleted": Q(deletion_marked_at__isnull=False),
            "low_assignment": rows_with_low_assignment(percent=low_assignment_percent()),
            "over_limit": rows_over_license_limit(),
            "signin_never": never,
            "signin_before": before,
        },
    )
    counts["no_admin_signin"] = scalar.pop("signin_never") + scalar.pop("signin_before")
    counts.update(scalar)
    # 3. Trial ends per day (the nearest live trial's end), within 90 days and per week.
    trials = [0] * CHART_WEEKS
    counts["trial_ending_90"] = 0
    for day, n in _per_day(
        rows.filter(rows_with_trial_ending(today=today, days=TRIAL_HORIZON)), "trial_end_date"
    ):
        counts["trial_ending_90"] += n
        week = (day - today).days // 7
        if week < CHART_WEEKS:
            trials[week] += n
    # 4. Predicted deletions per day (the read model's forecast; an overdue one counts in the
    # first week), within 30 and 90 days and per week.
    deletions = [0] * CHART_WEEKS
    for days in DELETION_HORIZONS:
        counts[f"deletions_within_{days}"] = 0
    horizon = today + timedelta(days=max(DELETION_HORIZONS))
    for day, n in _per_day(rows.filter(deletion_on__lte=horizon), "deletion_on"):
        for days in DELETION_HORIZONS:
            if day <= today + timedelta(days=days):
                counts[f"deletions_within_{days}"] += n
        week = max((day - today).days, 0) // 7
        if week < CHART_WEEKS:
            deletions[week] += n
    for n in range(CHART_WEEKS):
        counts[f"trials_{n}"] = trials[n]
        counts[f"deletions_{n}"] = deletions[n]
    return counts
