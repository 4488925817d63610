"""A world for the killed-worker test (``test_outbox_crash.py``), built in a process of its own
(through ``manage.py shell``) against the database named by DATABASE_URL."""

from __future__ import annotations

import json

from django.db import transaction

from partnerhub.core.models import OutboxEmail
from partnerhub.core.sweeps import OwedEmail, emails_owe_bulk

COUNT = 6


def build() -> None:
    # Owed the way a tick owes them: one transaction, delivery queued after commit.
    with transaction.atomic():
        emails_owe_bulk(
            OwedEmail(
                key=f"crash:{i}",
                kind="deletion_warning",
                to=f"crash{i}@int.example",
                template="deletion_warning",
                context={"org_name": f"Crash Org {i}", "org_pk": i, "deletion_date": "2027-03-05"},
            )
            for i in range(COUNT)
        )


def state() -> None:
    print(
        "STATE "
        + json.dumps(
            {
                "owed": OutboxEmail.objects.count(),
                "unsent": OutboxEmail.objects.filter(sent_at__isnull=True).count(),
            }
        )
    )
