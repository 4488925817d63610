"""The deletion forecast's columns of the customer list's read model (issue 16): for each
customer org, the day it would be warned (D3) and deleted (D4) if nothing happens, and why.

``licensing.readmodel`` gathers the facts of the customers it refreshes, rebuilds, advances or
checks, and calls :func:`forecast_columns` (registered by ``customers.apps``), so the columns
are kept by the services in the same transaction as every other column of the row, and the
dates are ``customers.lifecycle.org_forecast``'s: one source with the timeline and the sweeps.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import IntEnum
from typing import Any

from django.utils import timezone

from licensing.choices import SubscriptionState
from licensing.readmodel import NO_FORECAST, ForecastFacts
from trials.choices import ConsentStatus
from trials.models import ConsentRequest

from .lifecycle import ForecastKind, OrgFacts, SubscriptionFacts, org_forecast


class ForecastWhy(IntEnum):
    """What leads to the warning and deletion (the forecast's reason sentence)."""

    NONE = 0
    LICENSES_RUN_OUT = 1  # its last licenses run out and nothing new is bought
    HOLDS_NONE = 2  # it holds no licenses (not marked yet)
    HOLDS_NONE_QUIET = 3  # marked, and nobody has used it since


def why_of(facts: OrgFacts) -> ForecastWhy:
    if facts.subscriptions:
        return ForecastWhy.LICENSES_RUN_OUT
    if facts.marked_at is None:
        return ForecastWhy.HOLDS_NONE
    return ForecastWhy.HOLDS_NONE_QUIET


def _instant(today: date) -> datetime:
    # Every date the forecast stores is the same whatever the instant of the day it is computed
    # at (an overdue step counts from today), so a day other than today uses its noon.
    now = timezone.now()
    return now if now.date() == today else datetime.combine(today, time(12), tzinfo=UTC)


def forecast_columns(facts: dict[int, ForecastFacts], today: date) -> dict[int, dict[str, Any]]:
    """The forecast columns of each customer org (one query, for open consent deadlines, only
    when one of them has a trial waiting for consent)."""
    now = _instant(today)
    pending = [
        sub[0]
        for f in facts.values()
        for sub in f.subscriptions
        if sub[2] == SubscriptionState.PENDING
    ]
    deadlines: dict[int, datetime] = {}
    if pending:
        deadlines = dict(
            ConsentRequest.objects.filter(
                trial_id__in=pending, status=ConsentStatus.PENDING
            ).values_list("trial_id", "expires_at")
        )
    out: dict[int, dict[str, Any]] = {}
    for pk, f in facts.items():
        org = OrgFacts(
            subscriptions=tuple(
                SubscriptionFacts(
                    pk=s_pk,
                    kind=kind,
                    state=state,
                    end_date=end,
                    period_end=period_end,
                    consent_expires_at=deadlines.get(s_pk),
                )
                for s_pk, kind, state, end, period_end in f.subscriptions
            ),
            marked_at=f.org["deletion_marked_at"],
            warned_at=f.org["deletion_warned_at"],
            last_activity_at=f.org["last_activity_at"],
        )
        warning = deletion = None
        floats = False
        for p in org_forecast(org, now):
            if p.kind == ForecastKind.WARNING:
                warning = p.on
                floats = floats or p.on <= today
            elif p.kind == ForecastKind.DELETION:
                deletion = p.on
            elif p.kind == ForecastKind.MARK:
                floats = floats or p.on <= today
        if deletion is None:
            out[pk] = NO_FORECAST
            continue
        out[pk] = {
            "warning_on": warning,
            "deletion_on": deletion,
            "forecast_why": int(why_of(org)),
            "forecast_floats": floats,
        }
    return out
