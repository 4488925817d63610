"""The irreversible step: the safety limit, holds and their release, re-checks, dry runs."""

from __future__ import annotations

import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from customers.choices import ActivityKind
from customers.models import DeletionHold, DeletionTombstone
from customers.services import activity_record
from customers.sweeps import deletion_batch_limit, deletion_due
from customers.tick import lifecycle_tick
from partnerhub.accounts.choices import Role
from partnerhub.accounts.models import AuditEntry, Organization
from partnerhub.core.models import OutboxEmail
from tests.factories import make_customer, make_subscription, make_user

pytestmark = pytest.mark.django_db


def _doomed(clock, n: int) -> list[Organization]:
    """n orgs marked on day 0 and left quiet: warned on day 30, due for deletion on day 60."""
    clock.go(0)
    orgs = [make_customer(name=f"Doomed {i}") for i in range(n)]
    for org in orgs:
        make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN)
    clock.tick(0)
    clock.tick(30)
    return orgs


def test_deletion_batch_limit_is_the_larger_of_50_and_5_percent(settings):
    settings.DELETION_BATCH_MIN = 50
    settings.DELETION_BATCH_FRACTION = 0.05
    assert deletion_batch_limit(org_count=100) == 50
    assert deletion_batch_limit(org_count=1000) == 50
    assert deletion_batch_limit(org_count=1001) == 51
    assert deletion_batch_limit(org_count=100_000) == 5000


def test_D4_safety_limit_holds_the_whole_batch_emails_support_once_and_release_lets_it_go(
    clock, settings, caplog, client, admin_user
):
    settings.DELETION_BATCH_MIN = 2
    settings.DELETION_BATCH_FRACTION = 0.0
    settings.SUPPORT_EMAILS = ["support@hub.example", "oncall@hub.example"]
    orgs = _doomed(clock, 3)

    with caplog.at_level(logging.ERROR, logger="customers.sweeps"):
        report = clock.tick(60)
    assert Organization.objects.filter(pk__in=[o.pk for o in orgs]).count() == 3  # none deleted
    assert report.result("deletion").count == 0
    hold = DeletionHold.objects.get()
    assert hold.due_count == 3
    assert hold.limit == 2
    assert sorted(hold.org_ids) == sorted(o.pk for o in orgs)
    assert "Deletion batch held" in caplog.text
    held = OutboxEmail.objects.filter(kind="deletion_batch_held")
    assert sorted(held.values_list("to_email", flat=True)) == [
        "oncall@hub.example",
        "support@hub.example",
    ]
    assert f"/admin/customers/deletionhold/{hold.pk}/change/" in held.first().body_text

    clock.tick(61)  # still held: no new hold, no second email
    assert DeletionHold.objects.count() == 1
    assert OutboxEmail.objects.filter(kind="deletion_batch_held").count() == 2

    # Support staff release it in the Django admin (signed in now, after the time travel).
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:customers_deletionhold_changelist"),
        {"action": "release", "_selected_action": [hold.pk]},
    )
    assert response.status_code == 302
    assert response["Location"].endswith("/admin/customers/deletionhold/")
    hold.refresh_from_db()
    assert hold.released_at is not None
    assert AuditEntry.objects.filter(action="deletion_hold.release").exists()

    report = clock.tick(62)
    assert report.result("deletion").count == 3
    assert not Organization.objects.filter(pk__in=[o.pk for o in orgs]).exists()
    assert DeletionTombstone.objects.count() == 3


def test_D4_within_the_limit_deletes_all_due(clock, settings):
    settings.DELETION_BATCH_MIN = 3
    settings.DELETION_BATCH_FRACTION = 0.0
    _doomed(clock, 3)
    clock.tick(60)
    assert DeletionTombstone.objects.count() == 3
    assert not DeletionHold.objects.exists()


def test_D4_recheck_inside_the_transaction_spares_an_org_with_fresh_licenses(clock):
    (org,) = _doomed(clock, 1)
    clock.go(59)
    # A subscription appears without going through the service (so the mark stays, D6 missed):
    # the per-org re-check still refuses to delete an org that holds licenses.
    make_subscription(customer=org)
    clock.go(60)
    result = deletion_due(now=clock.at(60))
    assert result.count == 0
    assert Organization.objects.filter(pk=org.pk).exists()


def test_D7_no_flag_keeps_an_org_alive_only_activity_does(clock):
    (org,) = _doomed(clock, 1)
    user = make_user(org=org, role=Role.USER)
    clock.go(59.9)
    activity_record(user=user, kind=ActivityKind.TOKEN_REFRESH)
    clock.tick(60)
    assert Organization.objects.filter(pk=org.pk).exists()


def test_dry_run_reports_what_would_happen_and_changes_nothing(clock):
    orgs = _doomed(clock, 2)
    clock.go(60)
    report = lifecycle_tick(now=clock.at(60), dry_run=True)
    assert report.dry_run
    assert report.result("deletion").count == 2
    assert Organization.objects.filter(pk__in=[o.pk for o in orgs]).count() == 2
    assert not DeletionTombstone.objects.exists()
    assert "DRY RUN" in report.as_text()


def test_lifecycle_tick_command_dry_run_prints_orgs_to_mark_and_emails_owed(clock):
    clock.go(0)
    org = make_customer(name="Printed Org")
    make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN)
    out = StringIO()
    call_command("lifecycle_tick", "--now", "2027-01-04T02:00:00+00:00", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "DRY RUN" in text
    assert "deletion_mark" in text
    assert "Printed Org" in text
    org.refresh_from_db()
    assert org.deletion_marked_at is None

    out = StringIO()
    call_command("lifecycle_tick", "--now", "2027-01-04", stdout=out)
    org.refresh_from_db()
    assert org.deletion_marked_at is not None


def test_lifecycle_tick_command_refuses_a_bad_instant():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO-8601"):
        call_command("lifecycle_tick", "--now", "next tuesday")


def test_tick_twice_at_the_same_instant_does_nothing_the_second_time(clock):
    _doomed(clock, 2)
    clock.go(45)
    make_customer()
    first = lifecycle_tick(now=clock.at(45))
    assert first.result("deletion_mark").count == 1
    second = lifecycle_tick(now=clock.at(45))
    assert all(r.count == 0 and r.emails == 0 for r in second.results)


def test_dry_run_owes_the_same_emails_without_rendering_one(clock):
    """A dry run counts the emails the tick would owe (D3 warnings here) but renders none: it
    is rolled back and nobody reads them, and rendering thousands of them would hold the support
    console's dry-run page for minutes. The real tick then owes the same emails, rendered."""
    from django.test.signals import template_rendered

    clock.go(0)
    orgs = [make_customer(name=f"Quiet {i}") for i in range(3)]
    for org in orgs:
        make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN)
    clock.tick(0)  # D1 marks them
    emails_before = OutboxEmail.objects.count()
    rendered: list[str] = []

    def seen(sender, template, **kwargs):
        if template.name and template.name.startswith("emails/"):
            rendered.append(template.name)

    template_rendered.connect(seen)
    try:
        clock.go(30)
        dry = lifecycle_tick(now=clock.at(30), dry_run=True)
        assert dry.result("deletion_warn").count == 3
        assert dry.emails >= 3
        assert rendered == []
        assert OutboxEmail.objects.count() == emails_before

        real = clock.tick(30)
    finally:
        template_rendered.disconnect(seen)
    assert real.emails == dry.emails
    assert rendered  # the real tick renders what it owes
    warned = OutboxEmail.objects.order_by("-pk")[: real.emails]
    assert all("(dry run" not in e.subject and e.body_html for e in warned)
