"""The deletion forecast (issue 16): the orgs that will be warned (D3) or deleted (D4) in the
next 7/30/60/90 days if nothing happens, with the date and the reason.

One source: each date is ``customers.lifecycle.org_forecast``'s, the rules the sweeps apply. SQL
only narrows the orgs to a superset of those that can be warned or deleted within the horizon
(an org holding licenses past it cannot: it is not even marked by then), so the forecast reads a
fixed number of queries whatever the number of customers.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from licensing.choices import LICENSE_HOLDING_STATES, SubscriptionState
from licensing.lifecycle import GRACE_PERIOD_DAYS
from licensing.models import CustomerRow, Subscription
from partnerhub.accounts.models import CustomerRelationship, Organization
from partnerhub.core.csvcells import csv_row
from trials.choices import ConsentStatus
from trials.models import ConsentRequest

from .forecast_rows import ForecastWhy, why_of
from .lifecycle import ForecastKind, OrgFacts, SubscriptionFacts, org_forecast
from .sweeps import deletion_batch_limit

HORIZONS = (7, 30, 60, 90)
SHORTEST = GRACE_PERIOD_DAYS  # the shortest period after an end date (a trial's, S1)
DEFAULT_HORIZON = 30


@dataclass(frozen=True)
class ForecastRow:
    org_id: int
    name: str
    kind: ForecastKind  # WARNING or DELETION
    on: date
    reason: str


def _licenses_past(horizon: date) -> Exists:
    """Some subscription keeps holding licenses after ``horizon``: the org is not marked by then
    (a conservative bound: the shortest period after an end date is a trial's 30 days)."""
    open_consent = ConsentRequest.objects.filter(trial=OuterRef("pk"), status=ConsentStatus.PENDING)
    holding = Subscription.objects.filter(customer=OuterRef("pk"), state__in=LICENSE_HOLDING_STATES)
    return Exists(
        holding.filter(
            Q(
                state=SubscriptionState.ACTIVE,
                end_date__gt=horizon - timedelta(days=GRACE_PERIOD_DAYS),
            )
            | Q(state=SubscriptionState.SUSPENDED, period_end_date__gt=horizon)
            | (Q(state=SubscriptionState.PENDING) & ~Exists(open_consent))
        )
    )


def candidate_orgs(*, partner: Organization | None, horizon: date) -> QuerySet[Organization]:
    orgs = Organization.objects.all()
    if partner is not None:
        orgs = orgs.filter(
            pk__in=CustomerRelationship.objects.filter(partner=partner).values("customer_id")
        )
    return (
        orgs.exclude(_licenses_past(horizon))
        .exclude(Exists(CustomerRelationship.objects.filter(partner=OuterRef("pk"))))
        .order_by()
    )


def deletion_forecast(
    *, partner: Organization | None, now: datetime, days: int
) -> list[ForecastRow]:
    """Warnings and deletions due within ``days`` of ``now``, soonest first: every row (the
    CSV). The pages read :func:`forecast_page` (the soonest rows and the counts)."""
    return forecast_page(partner=partner, now=now, days=days, limit=None).rows


@dataclass(frozen=True)
class ForecastPage:
    rows: list[ForecastRow]  # the soonest ``limit`` (all without a limit)
    total: int  # every row within the horizon
    deletions_per_day: dict[date, int]


def forecast_page(
    *, partner: Organization | None, now: datetime, days: int, limit: int | None
) -> ForecastPage:
    """The forecast read from the customer list's read model (``CustomerRow.warning_on`` and
    ``deletion_on``, kept by the services with ``org_forecast``'s dates): a partner's customers,
    or for support every customer on any list, plus the few orgs on no partner's list, whose
    dates ``org_forecast`` computes here. A fixed number of queries whatever the number of orgs:
    two for the soonest rows, one for the counts, one for the deletions per day (and, for
    support, three for the orgs on no list)."""
    today = now.date()
    last = (now + timedelta(days=days)).date()
    rows = (
        CustomerRow.objects.all()
        if partner is None
        else CustomerRow.objects.filter(partner=partner)
    )
    distinct = partner is None  # a customer on two partners' lists has two equal rows
    # Each count walks one date index over a range, index-only: (partner, date) for a partner,
    # (date, name, customer) for support, each customer counted once. (A DISTINCT subquery
    # instead made SQLite walk every row in customer order to count 3% of them.)
    warning_count = rows.filter(warning_on__lte=last).aggregate(
        n=Count("customer_id", distinct=distinct)
    )["n"]
    per_day: Counter[date] = Counter()
    for day, n in (
        rows.filter(deletion_on__lte=last)
        .values("deletion_on")
        .annotate(n=Count("customer_id", distinct=distinct))
        .values_list("deletion_on", "n")
        .order_by()
    ):
        if day is not None:  # the filter excludes none; the type does not know
            per_day[max(day, today)] += n
    counts = {"warnings": warning_count, "deletions": sum(per_day.values())}
    reasons: dict[tuple[ForecastKind, int], str] = {}  # translated once per call, not per row

    def reason(kind: ForecastKind, why: int) -> str:
        if (kind, why) not in reasons:
            reasons[kind, why] = _reason(ForecastWhy(why), kind)
        return reasons[kind, why]

    found: list[ForecastRow] = []
    for kind, column in (
        (ForecastKind.WARNING, "warning_on"),
        (ForecastKind.DELETION, "deletion_on"),
    ):
        picked = (
            rows.filter(**{f"{column}__lte": last})
            .order_by(column, "name_key", "customer_id")
            .values_list("customer_id", "customer__name", column, "forecast_why")
        )
        if distinct:
            picked = picked.distinct()
        if limit is not None:
            picked = picked[:limit]
        found.extend(
            ForecastRow(pk, name, kind, max(on, today), reason(kind, why))
            for pk, name, on, why in picked
        )
    total = counts["warnings"] + counts["deletions"]
    if partner is None:
        unlisted = _unlisted_forecast(now=now, days=days)
        found.extend(unlisted)
        total += len(unlisted)
        for r in unlisted:
            if r.kind == ForecastKind.DELETION:
                per_day[r.on] += 1
    found.sort(key=lambda r: (r.on, r.kind is not ForecastKind.DELETION, r.name))
    return ForecastPage(
        rows=found if limit is None else found[:limit],
        total=total,
        deletions_per_day=dict(per_day),
    )


def _unlisted_forecast(*, now: datetime, days: int) -> list[ForecastRow]:
    """Orgs on no partner's list (no read-model row): their dates from ``org_forecast``."""
    horizon_at = now + timedelta(days=days)
    # Those orgs first, through the partial index of the orgs on no list (few: partners and
    # direct customers; the read model keeps ``on_partner_list``), then the narrowing by
    # licenses on them only. (Probing the list for every org was half the support page.)
    unlisted = list(
        Organization.objects.filter(on_partner_list=False).order_by().values_list("pk", flat=True)
    )
    candidates = candidate_orgs(partner=None, horizon=horizon_at.date()).filter(pk__in=unlisted)
    orgs = list(
        candidates.values_list(
            "pk", "name", "kind", "deletion_marked_at", "deletion_warned_at", "last_activity_at"
        )
    )
    ids = [org[0] for org in orgs]
    subs: dict[int, list[tuple]] = defaultdict(list)
    for row in Subscription.objects.filter(
        customer_id__in=ids, state__in=LICENSE_HOLDING_STATES
    ).values_list("customer_id", "pk", "kind", "state", "end_date", "period_end_date"):
        subs[row[0]].append(row[1:])
    deadlines = dict(
        ConsentRequest.objects.filter(
            trial__customer_id__in=ids,
            trial__state=SubscriptionState.PENDING,
            status=ConsentStatus.PENDING,
        ).values_list("trial_id", "expires_at")
    )
    rows: list[ForecastRow] = []
    for pk, name, kind, marked_at, warned_at, activity in orgs:
        facts = OrgFacts(
            subscriptions=tuple(
                SubscriptionFacts(
                    pk=s_pk,
                    kind=s_kind,
                    state=state,
                    end_date=end,
                    period_end=period_end,
                    consent_expires_at=deadlines.get(s_pk),
                )
                for s_pk, s_kind, state, end, period_end in subs.get(pk, [])
            ),
            is_partner=kind == "partner",
            manages_customers=False,  # excluded in SQL
            marked_at=marked_at,
            warned_at=warned_at,
            last_activity_at=activity,
        )
        for p in org_forecast(facts, now):
            if (
                p.kind in (ForecastKind.WARNING, ForecastKind.DELETION)
                and p.on <= horizon_at.date()
            ):
                rows.append(ForecastRow(pk, name, p.kind, p.on, _reason(why_of(facts), p.kind)))
    return rows


def _reason(why: ForecastWhy, kind: ForecastKind) -> str:
    if why == ForecastWhy.LICENSES_RUN_OUT:
        text = _("Its last licenses run out and nothing new is bought")
    elif why == ForecastWhy.HOLDS_NONE:
        text = _("It holds no licenses")
    else:
        text = _("It holds no licenses and nobody has used it for 30 days")
    if kind == ForecastKind.DELETION:
        return _("%(why)s; no activity since the warning.") % {"why": text}
    return _("%(why)s.") % {"why": text}


@dataclass(frozen=True)
class ForecastDay:
    on: date
    deletions: int
    held: bool  # more than the safety limit: the tick would hold the batch


def deletions_by_day(
    per_day: dict[date, int], *, org_count: int, start: date, days: int
) -> list[ForecastDay]:
    """Expected deletions per day, and the days the deletion safety limit would hold a batch
    (``customers.sweeps.deletion_batch_limit``, the same limit the tick applies)."""
    limit = deletion_batch_limit(org_count=org_count)
    return [
        ForecastDay(on=day, deletions=per_day.get(day, 0), held=per_day.get(day, 0) > limit)
        for day in (start + timedelta(days=n) for n in range(days + 1))
    ]


def forecast_csv(rows: list[ForecastRow]) -> str:
    """The forecast as CSV, every cell through ``partnerhub.core.csvcells``."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Organization"), _("What"), _("Date"), _("Reason")])
    what = {  # translated once, not per row (a CSV of 90 days has every row)
        ForecastKind.DELETION: _("Deletion"),
        ForecastKind.WARNING: _("Deletion warning"),
    }
    for r in rows:
        writer.writerow(csv_row([r.name, what[r.kind], r.on.isoformat(), r.reason]))
    return out.getvalue()
