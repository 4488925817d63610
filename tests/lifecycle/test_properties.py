"""Property tests (Hypothesis) over random timelines of activity and (possibly skipped, late or
repeated) ticks:

* D3/D4/D5: an org is never deleted without a warning email at least 30 days before the
  deletion and no activity (known at deletion time) at or after that warning;
* the outbox: never two emails for one key, and a repeated tick owes nothing new;
* liveness: an org quiet long enough with daily ticks is deleted.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.choices import ActivityKind
from customers.models import DeletionTombstone
from customers.services import activity_record
from customers.tick import lifecycle_tick
from partnerhub.accounts.choices import Role
from partnerhub.accounts.models import AuditEntry, Organization
from partnerhub.core.models import OutboxEmail
from tests.factories import make_customer, make_user

from .conftest import T0

pytestmark = pytest.mark.django_db

HORIZON = 140  # days

# An activity: when it happened (fractional day) and how many days late it is reported.
activity = st.tuples(
    st.floats(min_value=0, max_value=HORIZON, allow_nan=False),
    st.integers(min_value=0, max_value=12),
    st.sampled_from(ActivityKind.values),
)
timeline = st.fixed_dictionaries(
    {
        # Days the tick runs (missed days are skipped ticks); some days run it twice.
        "tick_days": st.sets(st.integers(min_value=0, max_value=HORIZON), min_size=1),
        "twice": st.sets(st.integers(min_value=0, max_value=HORIZON), max_size=10),
        "tick_hour": st.floats(min_value=0, max_value=23.9),
        "activities": st.lists(activity, max_size=6),
    }
)


def _run(plan: dict) -> dict:
    """Play the timeline for one org; return what happened."""
    events: list[tuple[float, int, str, tuple]] = []
    for day in plan["tick_days"]:
        at = day + plan["tick_hour"] / 24
        events.append((at, 1, "tick", ()))
        if day in plan["twice"]:
            events.append((at, 2, "tick", ()))
    for happened, delay, kind in plan["activities"]:
        events.append((happened + delay, 0, "activity", (happened, kind)))
    events.sort()

    known_activity: list[tuple[float, float]] = []  # (reported at, happened at), days
    with time_machine.travel(T0, tick=False) as traveller:
        org = make_customer(name="Property Org")
        admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN)
        org_pk = org.pk
        for at, _order, what, args in events:
            now = T0 + timedelta(days=at)
            traveller.move_to(now)
            if what == "tick":
                before = OutboxEmail.objects.count()
                lifecycle_tick(now=now)
                # Repeating the tick at the same instant owes nothing and changes nothing.
                again = lifecycle_tick(now=now)
                assert all(r.count == 0 and r.emails == 0 for r in again.results)
                assert OutboxEmail.objects.count() >= before
            elif Organization.objects.filter(pk=org_pk).exists():
                happened, kind = args
                activity_record(user=admin, kind=kind, at=T0 + timedelta(days=happened))
                known_activity.append((at, happened))
    warnings = list(
        AuditEntry.objects.filter(action="org.deletion_warn", org_id_value=org_pk)
        .order_by("at")
        .values_list("at", flat=True)
    )
    emails = list(
        OutboxEmail.objects.filter(kind="deletion_warning", org_id=org_pk).values_list(
            "key", "created_at"
        )
    )
    tomb = DeletionTombstone.objects.filter(org_id_value=org_pk).first()
    return {
        "warnings": warnings,
        "emails": emails,
        "deleted_at": tomb.deleted_at if tomb else None,
        "activity": known_activity,
    }


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=timeline)
def test_D4_never_deleted_without_a_current_warning_30_days_before(plan):
    with transaction.atomic():
        outcome = _run(plan)
        transaction.set_rollback(True)

    keys = [key for key, _ in outcome["emails"]]
    assert len(keys) == len(set(keys))  # never two emails for one key
    # Every recorded warning owed exactly one email to the one full admin.
    assert len(outcome["emails"]) == len(outcome["warnings"])

    deleted_at = outcome["deleted_at"]
    if deleted_at is None:
        return
    assert outcome["warnings"], "deleted without any warning"
    warned_at = outcome["warnings"][-1]
    assert deleted_at - warned_at >= timedelta(days=30)
    warned_day = (warned_at - T0) / timedelta(days=1)
    deleted_day = (deleted_at - T0) / timedelta(days=1)
    for reported, happened in outcome["activity"]:
        if reported <= deleted_day:
            # D3/D5: 30 quiet days before the warning and 30 after it, as known at deletion.
            assert happened <= warned_day - 30, "deleted despite activity in the countdown"
    # The warning email went out when the warning was recorded.
    assert any(abs((created - warned_at).total_seconds()) < 1 for _, created in outcome["emails"])


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    quiet_from=st.integers(min_value=0, max_value=20),
    activities=st.lists(st.floats(min_value=0, max_value=20), max_size=4),
)
def test_D3_D4_a_quiet_org_with_daily_ticks_is_deleted_on_time(quiet_from, activities):
    """Liveness: after the last activity, 30 quiet days → warning, 30 more → deleted."""
    plan = {
        "tick_days": set(range(100)),
        "twice": set(),
        "tick_hour": 2.0,
        "activities": [(min(a, quiet_from), 0, "message") for a in activities],
    }
    with transaction.atomic():
        outcome = _run(plan)
        transaction.set_rollback(True)
    last = max([0.0] + [happened for _, happened in outcome["activity"]])
    assert outcome["deleted_at"] is not None
    deleted_day = (outcome["deleted_at"] - T0) / timedelta(days=1)
    assert 60 + last <= deleted_day <= 60 + last + 2  # within the daily tick's granularity
