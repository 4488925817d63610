"""D1–D6, D10: org timelines walked day by day through the lifecycle tick (DOMAIN.md examples)."""

from __future__ import annotations

import pytest
from django.core import mail

from customers.choices import ActivityKind
from customers.models import DeletionTombstone
from customers.services import activity_record
from licensing.choices import SubscriptionKind, SubscriptionState
from partnerhub.accounts.choices import Role
from partnerhub.accounts.models import AuditEntry, Organization
from tests.factories import make_customer, make_subscription, make_user

pytestmark = pytest.mark.django_db


def _warnings_to(email: str) -> list:
    return [m for m in mail.outbox if email in m.to and "will be deleted" in m.subject]


def test_D3_D4_quiet_30_days_email_quiet_30_days_deleted(clock):
    clock.go(0)
    org = make_customer(name="Quiet Fjord ApS")
    admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="admin@fjord.example")
    reader = make_user(org=org, role=Role.CUSTOMER_READ_ONLY, email="ro@fjord.example")

    report = clock.tick(0)
    org.refresh_from_db()
    assert org.deletion_marked_at == clock.at(0)  # D1: no licenses at all
    assert report.result("deletion_mark").count == 1

    clock.walk(1, 29)
    assert _warnings_to(admin.email) == []

    clock.tick(30)
    warnings = _warnings_to(admin.email)
    assert len(warnings) == 1  # D3: only full admins are emailed
    assert _warnings_to(reader.email) == []
    body = warnings[0].body
    assert "Quiet Fjord ApS" in body
    assert "March 5, 2027" in body  # day 60
    assert f"http://testserver/control-hub/{org.pk}/" in body
    assert warnings[0].alternatives
    assert "<html" in warnings[0].alternatives[0][0]

    clock.walk(31, 59)
    assert Organization.objects.filter(pk=org.pk).exists()
    assert len(_warnings_to(admin.email)) == 1  # never a second email for the same warning

    report = clock.tick(60)
    assert not Organization.objects.filter(pk=org.pk).exists()
    assert report.result("deletion").count == 1
    tomb = DeletionTombstone.objects.get(org_id_value=org.pk)  # D10
    assert tomb.name == "Quiet Fjord ApS"
    assert tomb.reason == "unused"
    assert AuditEntry.objects.filter(action="org.delete", org_id_value=org.pk).exists()


def test_D5_activity_on_day_45_restarts_countdown_and_a_second_warning_follows(clock):
    clock.go(0)
    org = make_customer(name="Second Chance AB")
    admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN)
    clock.walk(0, 30)
    assert len(_warnings_to(admin.email)) == 1

    clock.go(45)
    activity_record(user=admin, kind=ActivityKind.CONTROL_HUB_SIGN_IN)
    clock.walk(45, 74)  # 60 would have been the deletion day
    assert Organization.objects.filter(pk=org.pk).exists()
    assert len(_warnings_to(admin.email)) == 1

    clock.tick(75)  # 30 quiet days after the activity: a fresh warning (D5)
    warnings = _warnings_to(admin.email)
    assert len(warnings) == 2
    assert warnings[0].subject != warnings[1].subject  # a new deletion date

    clock.walk(76, 104)
    assert Organization.objects.filter(pk=org.pk).exists()
    clock.tick(105)
    assert not Organization.objects.filter(pk=org.pk).exists()


def test_D5_activity_reported_late_from_the_quiet_days_voids_the_warning(clock):
    clock.go(0)
    org = make_customer()
    admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN)
    user = make_user(org=org, role=Role.USER)
    clock.walk(0, 30)
    assert len(_warnings_to(admin.email)) == 1  # day 30, counting on quiet days 0-30
    # An outside system reports on day 40 a message sent on day 20: the warning was premature.
    clock.go(40)
    activity_record(user=user, kind=ActivityKind.MESSAGE, at=clock.at(20))
    org.refresh_from_db()
    assert org.deletion_warned_at is None
    # The countdown runs from day 20: a fresh warning on day 50, deletion on day 80, not 60.
    clock.walk(40, 79)
    assert Organization.objects.filter(pk=org.pk).exists()
    assert len(_warnings_to(admin.email)) == 2
    clock.walk(80, 80)
    assert not Organization.objects.filter(pk=org.pk).exists()


def test_D5_activity_reported_late_from_before_the_quiet_days_leaves_the_warning(clock):
    clock.go(0)
    org = make_customer()
    user = make_user(org=org, role=Role.USER)
    clock.go(5)
    activity_record(user=user, kind=ActivityKind.MESSAGE, at=clock.at(5))
    clock.walk(5, 35)  # warned on day 35, after 30 quiet days from day 5
    org.refresh_from_db()
    warned = org.deletion_warned_at
    assert warned is not None
    # Reported on day 40: a message from day 4, before those quiet days, changes nothing.
    clock.go(40)
    activity_record(user=user, kind=ActivityKind.MESSAGE, at=clock.at(4))
    org.refresh_from_db()
    assert org.deletion_warned_at == warned
    clock.walk(40, 65)
    assert not Organization.objects.filter(pk=org.pk).exists()


def test_D6_new_subscription_removes_the_mark_and_the_warning(clock):
    clock.go(0)
    org = make_customer()
    admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN)
    clock.walk(0, 35)
    org.refresh_from_db()
    assert org.deletion_warned_at is not None
    clock.go(36)
    make_subscription(customer=org, kind=SubscriptionKind.TRIAL)  # bypasses the service
    clock.tick(36)
    org.refresh_from_db()
    assert org.deletion_marked_at is None
    assert org.deletion_warned_at is None
    clock.walk(37, 70)
    assert Organization.objects.filter(pk=org.pk).exists()
    assert len(_warnings_to(admin.email)) == 1


def test_D1_an_org_whose_subscription_ends_is_marked_after_its_renewal_period(clock):
    clock.go(0)
    org = make_customer()
    sub = make_subscription(customer=org, start=clock.at(-300).date(), end=clock.at(5).date())
    clock.walk(0, 6)
    sub.refresh_from_db()
    assert sub.state == SubscriptionState.SUSPENDED  # S1: day after the end date
    org.refresh_from_db()
    assert org.deletion_marked_at is None  # D1: suspended licenses still count
    clock.walk(7, 65)
    sub.refresh_from_db()
    org.refresh_from_db()
    assert sub.state == SubscriptionState.ENDED  # S2: end + 60 days
    assert org.deletion_marked_at == clock.at(65)


def test_D1_partner_with_customers_is_not_marked(clock):
    from tests.factories import make_partner

    clock.go(0)
    partner = make_partner()
    make_customer(partner=partner)
    lonely = make_partner()
    clock.tick(0)
    partner.refresh_from_db()
    lonely.refresh_from_db()
    assert partner.deletion_marked_at is None
    assert lonely.deletion_marked_at is not None
