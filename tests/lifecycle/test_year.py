"""`lifecycle_tick --now` walks the demo world (issue 2's `seed_demo`) plus a showcase of
timelines through a year of days with no error, and every kind of lifecycle email is owed."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from bench.year import showcase
from customers.models import DeletionHold, DeletionTombstone
from customers.readmodel_check import customer_rows_differences
from customers.sweeps import hold_release
from partnerhub.core.models import OutboxEmail

from .conftest import T0

pytestmark = pytest.mark.django_db

KINDS = {
    "deletion_warning",
    "deletion_batch_held",
    "trial_welcome",
    "trial_ending_soon",
    "trial_ends_today",
    "trial_services_removed",
    "consent_expired",
}


def test_a_year_of_daily_ticks_runs_clean_and_owes_every_kind_of_email(clock, settings, admin_user):
    settings.SUPPORT_EMAILS = ["support@hub.example"]
    call_command("seed_demo", stdout=StringIO())
    showcase(T0)
    for day in range(365):
        clock.go(day)
        if day == 62:
            for hold in DeletionHold.objects.filter(released_at__isnull=True):
                hold_release(hold=hold, user=admin_user)
        out = StringIO()
        call_command("lifecycle_tick", "--now", (T0 + timedelta(days=day)).isoformat(), stdout=out)
        assert "Lifecycle tick as of" in out.getvalue()
    kinds = Counter(OutboxEmail.objects.values_list("kind", flat=True))
    assert set(kinds) == KINDS
    assert kinds["deletion_batch_held"] == 1
    assert all(count >= 1 for count in kinds.values())
    assert DeletionTombstone.objects.filter(name="Old Bakery Srl").exists()
    assert DeletionTombstone.objects.filter(name__startswith="Ghost Org").count() == 60
    # The customer list's read model followed every change of the year (issue 11).
    assert customer_rows_differences() == []
