"""The beat schedule names real tasks, and the beat tasks run the same tick as the command."""

from __future__ import annotations

import pytest
import time_machine

from customers.tasks import consent_expiry_tick_task, lifecycle_tick_task
from partnerhub.accounts.models import Organization
from partnerhub.celery import app
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, name
    assert {"lifecycle-tick", "consent-expiry", "outbox-relay"} <= set(app.conf.beat_schedule)
    # The read model made the sort-order warming job unnecessary (issue 11).
    assert "customer-list-warm" not in app.conf.beat_schedule


def test_beat_task_runs_the_tick_on_the_minute():
    with time_machine.travel("2027-01-04 02:00:03.7+00:00", tick=False):
        org = make_customer()
        counts = lifecycle_tick_task()
    assert counts["deletion_mark"] == 1
    org.refresh_from_db()
    # Marks are kept on the minute, so tomorrow's 02:00:00.2 run sees a full day passed.
    assert org.deletion_marked_at.second == 0
    assert org.deletion_marked_at.microsecond == 0
    assert Organization.objects.count() == 1


def test_hourly_task_runs_consent_expiry_and_welcome():
    counts = consent_expiry_tick_task()
    assert set(counts) == {"consent_expire", "trial_welcome", "customer_rows_advance"}
