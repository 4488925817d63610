"""The partner's dashboard (issue 16): totals and the numbers that need attention, each a link
to the filtered customer list, and a 12-week chart of trial ends and predicted deletions.

A fixed number of queries: the count band (one query, ``customer_list_summary``), the 60-day
counts (one), trial ends per week (one) and the deletion forecast (four).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.db.models import Exists, OuterRef

from licensing.choices import SubscriptionKind, SubscriptionState, SubscriptionStatus
from licensing.models import Subscription
from partnerhub.accounts.models import Organization
from partnerhub.core.listview import SUMMARY_TTL, summary_cache_key

from .forecast import deletion_forecast
from .lifecycle import ForecastKind
from .selectors import (
    _count,
    customer_ids_with_subscription_status,
    customer_list_summary,
    partner_customers,
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


def partner_dashboard(*, partner: Organization, today: date, now: datetime) -> Dashboard:
    # The count band is the customer list's, from the same one-minute cache (cleared by every
    # trial change), so the dashboard and the list say the same numbers.
    key = summary_cache_key("customers", partner.pk, today)
    cached = cache.get(key)
    if cached is None:
        cached = customer_list_summary(partner=partner, today=today)
        cache.set(key, cached, SUMMARY_TTL)
    counts = dict(cached)
    mine = partner_customers(partner=partner)
    sixty = {
        key: _count(
            mine.filter(
                pk__in=customer_ids_with_subscription_status(
                    partner=partner, today=today, statuses=[status]
                )
            )
        )
        for key, status in (
            ("trial_expiring_60", SubscriptionStatus.TRIAL_EXPIRING_60),
            ("expiring_60", SubscriptionStatus.EXPIRING_60),
        )
    }
    row = Organization.objects.filter(pk=partner.pk).annotate(**sixty).values(*sixty).first()
    counts.update({k: int(v or 0) for k, v in (row or {}).items()})
    end = today + timedelta(weeks=CHART_WEEKS)
    trial_ends = Counter(
        (d - today).days // 7
        for d in Subscription.objects.filter(
            partner=partner,
            kind=SubscriptionKind.TRIAL,
            state=SubscriptionState.ACTIVE,
            end_date__gte=today,
            end_date__lt=end,
        )
        .filter(Exists(mine.filter(pk=OuterRef("customer_id"))))
        .values_list("end_date", flat=True)
    )
    rows = deletion_forecast(partner=partner, now=now, days=CHART_WEEKS * 7)
    deletions = [r for r in rows if r.kind == ForecastKind.DELETION]
    per_week = Counter((r.on - today).days // 7 for r in deletions)
    weeks = [
        Week(today + timedelta(weeks=n), trial_ends.get(n, 0), per_week.get(n, 0))
        for n in range(CHART_WEEKS)
    ]
    return Dashboard(
        counts=counts,
        deletions_30=sum(1 for r in deletions if r.on <= today + timedelta(days=30)),
        deletions_90=sum(1 for r in deletions if r.on <= today + timedelta(days=90)),
        weeks=weeks,
    )
