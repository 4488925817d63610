"""Issue 16: every date the timeline predicts on day 0 came true on the tick it named, or was
cancelled by an event the org's timeline names (D1, D3, D4, S1, S2, T3, T11, T12).

The predictions come from ``customers.lifecycle.org_forecast`` — the same rules the sweeps apply
— and a year of daily ticks over the demo world plus the year showcase checks them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from bench.year import showcase
from customers.choices import ActivityKind
from customers.lifecycle import ForecastKind, Prediction, org_forecast
from customers.models import DeletionHold
from customers.services import activity_record
from customers.sweeps import hold_release
from customers.timeline import ACTIVITY, org_facts, org_timeline, past_events
from licensing.models import Subscription
from partnerhub.accounts.models import AuditEntry, Organization, User
from partnerhub.core.models import OutboxEmail
from trials.services import trial_extend

from .conftest import T0

pytestmark = pytest.mark.django_db

DAYS = 365

# What doing the predicted thing leaves behind: an audit action, or an owed email's kind.
DONE_BY_AUDIT = {
    ForecastKind.SUSPENSION: "subscription.suspend",
    ForecastKind.REMOVAL: "subscription.end",
    ForecastKind.CONSENT_EXPIRY: "consent.expire",
    ForecastKind.MARK: "org.deletion_mark",
    ForecastKind.WARNING: "org.deletion_warn",
    ForecastKind.DELETION: "org.delete",
}
DONE_BY_EMAIL = {
    ForecastKind.TRIAL_ENDING_SOON: "trial_ending_soon",
    ForecastKind.TRIAL_ENDS: "trial_ends_today",
}

SUBSCRIPTION_CHANGES = {
    "trial.extend",
    "trial.extension_approve",
    "trial.convert",
    "trial.delete",
    "subscription.renew",
    "subscription.take_over",
    "subscription.cancel",
    "trial.consent_accept",
    "trial.consent_decline",
    "trial.consent_cancel",
}
NEW_LICENSES = {"subscription.create", "trial.start", "org.deletion_unmark"} | SUBSCRIPTION_CHANGES
CANCELLED_BY = {
    ForecastKind.TRIAL_ENDING_SOON: SUBSCRIPTION_CHANGES,
    ForecastKind.TRIAL_ENDS: SUBSCRIPTION_CHANGES,
    ForecastKind.SUSPENSION: SUBSCRIPTION_CHANGES,
    ForecastKind.REMOVAL: SUBSCRIPTION_CHANGES,
    ForecastKind.CONSENT_EXPIRY: SUBSCRIPTION_CHANGES,
    ForecastKind.MARK: NEW_LICENSES,
    ForecastKind.WARNING: NEW_LICENSES | {ACTIVITY},
    ForecastKind.DELETION: NEW_LICENSES | {ACTIVITY},
}


def tick_of(due_at: datetime) -> int:
    """The day of the first daily tick at or after ``due_at``."""
    return max(0, math.ceil((due_at - T0) / timedelta(days=1)))


def test_every_prediction_of_day_0_came_true_or_was_cancelled_by_a_named_event(
    clock, settings, admin_user
):
    settings.SUPPORT_EMAILS = ["support@hub.example"]
    call_command("seed_demo", stdout=StringIO())
    showcase(T0)
    clock.go(0)
    predicted: dict[int, list[Prediction]] = {}
    names: dict[int, str] = {}
    for org in Organization.objects.all():
        facts, _partners = org_facts(org=org)
        predicted[org.pk] = org_forecast(facts, T0)
        names[org.pk] = org.name
    assert sum(len(p) for p in predicted.values()) > 100
    # Two things people do on day 3, each cancelling predictions the timeline must then name:
    # a sign-in in a quiet org (D5) and a trial extended by 90 days (T6).
    warned_ids = [
        pk for pk, ps in predicted.items() if any(p.kind == ForecastKind.WARNING for p in ps)
    ]
    quiet_user = User.objects.filter(org_id__in=warned_ids, is_active=True).order_by("pk").first()
    assert quiet_user is not None
    lakeside = Subscription.objects.get(customer__name="Lakeside Dental ApS", kind="trial")
    sara = User.objects.get(email="sara.sales@fjorddigital.example")
    for day in range(DAYS):
        if day == 3:
            clock.go(3)
            activity_record(user=quiet_user, kind=ActivityKind.APP_SIGN_IN, at=clock.at(3))
            trial_extend(trial=lakeside, actor=sara, days=90, today=clock.at(3).date())
        if day == 62:  # as in test_year: support staff release the held batch
            for hold in DeletionHold.objects.filter(released_at__isnull=True):
                hold_release(hold=hold, user=admin_user)
        clock.tick(day)

    done: dict[tuple[int, str], list[int]] = defaultdict(list)
    for org_id, action, at in AuditEntry.objects.filter(at__gte=T0).values_list(
        "org_id_value", "action", "at"
    ):
        done[(org_id, action)].append(tick_of(at))
    for org_id, kind, at in OutboxEmail.objects.values_list("org_id", "kind", "created_at"):
        done[(org_id, kind)].append(tick_of(at))
    held = {int(pk) for hold in DeletionHold.objects.all() for pk in hold.org_ids}
    alive = {org.pk: org for org in Organization.objects.all()}
    checked = came_true = cancelled = 0
    problems: list[str] = []
    for org_id, predictions in predicted.items():
        # What the org's timeline names — read by id, so a deleted org's history counts too.
        if org_id in alive:
            named_events = org_timeline(org=alive[org_id], now=clock.at(DAYS)).past_actions
        else:
            named_events = {e.action for e in past_events(org_id=org_id)}
        for p in predictions:
            day = tick_of(p.due_at)
            if day >= DAYS:
                continue  # beyond the year walked
            checked += 1
            action = DONE_BY_AUDIT.get(p.kind) or DONE_BY_EMAIL[p.kind]
            days_done = done.get((org_id, action), [])
            if day in days_done or (
                p.kind == ForecastKind.DELETION and org_id in held and days_done
            ):
                came_true += 1  # a held deletion goes once the hold is released
                continue
            # Not done that day: an event up to that tick cancelled it, and the timeline names it.
            causes = {
                a
                for (o, a), ds in done.items()
                if o == org_id and a in CANCELLED_BY[p.kind] and any(d <= day for d in ds)
            }
            activity = alive[org_id].last_activity_at if org_id in alive else None
            if activity is not None and activity > T0:
                causes.add(ACTIVITY)
            named = causes & named_events
            if named:
                cancelled += 1
                continue
            problems.append(f"{names[org_id]}: {p.kind} on day {day} (done on {days_done})")
    print(f"forecast year: {checked} checked, {came_true} came true, {cancelled} cancelled")
    assert not problems, "\n".join(problems[:30])
    assert checked > 100
    assert came_true > 50
    assert cancelled >= 3  # the sign-in's warning and deletion, the trial's end and more
    kinds = {p.kind for ps in predicted.values() for p in ps if tick_of(p.due_at) < DAYS}
    assert kinds >= {
        ForecastKind.TRIAL_ENDING_SOON,
        ForecastKind.TRIAL_ENDS,
        ForecastKind.SUSPENSION,
        ForecastKind.REMOVAL,
        ForecastKind.CONSENT_EXPIRY,
        ForecastKind.MARK,
        ForecastKind.WARNING,
        ForecastKind.DELETION,
    }
