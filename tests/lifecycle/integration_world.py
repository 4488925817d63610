"""Builds a small world for the integration test, in a process of its own (run through
``manage.py shell``), against the database named by DATABASE_URL."""

from __future__ import annotations

import json
from datetime import timedelta

from django.utils import timezone

from licensing.choices import SubscriptionKind
from partnerhub.accounts.choices import Role
from partnerhub.accounts.models import Organization
from tests.factories import make_customer, make_partner, make_subscription, make_user


def build() -> None:
    now = timezone.now()
    # Two orgs due for the D3 warning (marked 31 days ago, quiet).
    for i in range(2):
        org = make_customer(name=f"Warn Me {i}")
        make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email=f"warn{i}@int.example")
        Organization.objects.filter(pk=org.pk).update(deletion_marked_at=now - timedelta(days=31))
    # Three orgs due for deletion (D4), warned 31 days ago.
    for i in range(3):
        org = make_customer(name=f"Delete Me {i}")
        make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email=f"gone{i}@int.example")
        Organization.objects.filter(pk=org.pk).update(
            deletion_marked_at=now - timedelta(days=62), deletion_warned_at=now - timedelta(days=31)
        )
    # A trial ending in 7 days (T11): one customer admin, one partner admin.
    partner = make_partner(name="Integration Partner")
    make_user(org=partner, role=Role.SALES_ADMIN, email="sales@int.example")
    org = make_customer(name="Trial Org", partner=partner)
    make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="trial-admin@int.example")
    sub = make_subscription(
        customer=org,
        partner=partner,
        kind=SubscriptionKind.TRIAL,
        start=timezone.localdate() - timedelta(days=23),
        end=timezone.localdate() + timedelta(days=7),
    )
    type(sub).objects.filter(pk=sub.pk).update(
        created=now - timedelta(days=40)
    )  # welcomed long ago


def state() -> None:
    from customers.models import DeletionTombstone
    from partnerhub.core.models import OutboxEmail

    print(
        "STATE "
        + json.dumps(
            {
                "tombstones": DeletionTombstone.objects.count(),
                "owed": OutboxEmail.objects.count(),
                "unsent": OutboxEmail.objects.filter(sent_at__isnull=True).count(),
                "keys": sorted(OutboxEmail.objects.values_list("key", flat=True)),
            }
        )
    )
