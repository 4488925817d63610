"""T2, T3, T11–T13 with S1–S2: trial timelines walked day by day through the lifecycle tick."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from customers.tick import consent_expiry_tick
from licensing.choices import (
    MeetingsEdition,
    ProvisioningStatus,
    ServiceType,
    SubscriptionKind,
    SubscriptionState,
)
from licensing.models import CallingProfile, License, PhoneNumber, Service
from partnerhub.accounts.choices import ContentKind, Role
from partnerhub.accounts.models import ContentItem, CustomerRelationship
from partnerhub.core.models import OutboxEmail
from tests.factories import (
    assign,
    listed_facts_changed,
    make_customer,
    make_partner,
    make_subscription,
    make_user,
)
from trials.choices import ConsentStatus
from trials.lifecycle import consent_expires_at
from trials.models import ConsentRequest

pytestmark = pytest.mark.django_db


def _kinds_for(email: str) -> list[str]:
    return list(
        OutboxEmail.objects.filter(to_email=email)
        .order_by("created_at")
        .values_list("kind", flat=True)
    )


@pytest.fixture
def calling_trial(clock):
    clock.go(0)
    partner = make_partner(name="Nordic Resell")
    sales = make_user(org=partner, role=Role.SALES_ADMIN, email="sales@nordic.example")
    pfa = make_user(org=partner, role=Role.PARTNER_FULL_ADMIN, email="boss@nordic.example")
    org = make_customer(name="Trial Town A/S", partner=partner)
    full = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="full@town.example")
    ro = make_user(org=org, role=Role.CUSTOMER_READ_ONLY, email="ro@town.example")
    plain = make_user(org=org, role=Role.USER, email="plain@town.example")
    trial = make_subscription(
        customer=org,
        partner=partner,
        kind=SubscriptionKind.TRIAL,
        start=clock.at(-23).date(),
        end=clock.at(7).date(),
        services={ServiceType.CALLING: 5, ServiceType.MEETINGS: 5},
    )
    # Started 23 days ago: its T2 welcome is long past.
    type(trial).objects.filter(pk=trial.pk).update(created=clock.at(-40))
    Service.objects.filter(subscription=trial, type=ServiceType.MEETINGS).update(
        edition=MeetingsEdition.ENTERPRISE,
        site_url="town.example.meet",
        time_zone="Europe/Copenhagen",
    )
    assign(user=plain, subscription=trial, service_type=ServiceType.CALLING)
    assign(user=plain, subscription=trial, service_type=ServiceType.MEETINGS)
    PhoneNumber.objects.create(org=org, number="+4570000001", user=plain, subscription=trial)
    ContentItem.objects.create(org=org, author=plain, kind=ContentKind.RECORDING, title="standup")
    ContentItem.objects.create(org=org, author=plain, kind=ContentKind.MESSAGE, title="hi")
    return {
        "partner": partner,
        "sales": sales,
        "pfa": pfa,
        "org": org,
        "full": full,
        "ro": ro,
        "plain": plain,
        "trial": trial,
    }


def test_T11_T12_T13_trial_timeline(clock, calling_trial):
    w = calling_trial
    trial = w["trial"]

    clock.tick(0)  # 7 days before the end
    for person in ("full", "ro", "sales", "pfa"):
        assert _kinds_for(w[person].email) == ["trial_ending_soon"], person
    assert _kinds_for(w["plain"].email) == []
    soon = next(m for m in mail.outbox if w["full"].email in m.to)
    assert "Trial Town A/S" in soon.subject
    assert f"http://testserver/control-hub/{w['org'].pk}/buy/" in soon.body  # the Buy page
    partner_mail = next(m for m in mail.outbox if w["sales"].email in m.to)
    assert "/control-hub/" not in partner_mail.body  # partners get the customer, not Buy
    assert f"http://testserver/partner/customers/{w['org'].pk}/" in partner_mail.body

    clock.walk(1, 6)
    assert OutboxEmail.objects.filter(kind="trial_ending_soon").count() == 4

    clock.tick(7)  # the end day
    assert OutboxEmail.objects.filter(kind="trial_ends_today").count() == 4
    trial.refresh_from_db()
    assert trial.state == SubscriptionState.ACTIVE

    clock.tick(8)  # S1: suspended for the 30-day grace period
    trial.refresh_from_db()
    assert trial.state == SubscriptionState.SUSPENDED
    assert trial.period_end_date == clock.at(37).date()
    assert License.objects.filter(service__subscription=trial).count() == 2  # kept, suspended

    clock.walk(9, 36)
    trial.refresh_from_db()
    assert trial.state == SubscriptionState.SUSPENDED
    assert not OutboxEmail.objects.filter(kind="trial_services_removed").exists()

    clock.tick(37)  # T12/S2: grace over; T13: calling stops
    trial.refresh_from_db()
    assert trial.state == SubscriptionState.ENDED
    assert trial.calling_stopped_at == clock.at(37)
    assert not License.objects.filter(service__subscription=trial).exists()
    assert not CallingProfile.objects.filter(user=w["plain"]).exists()
    assert Service.objects.get(subscription=trial, type=ServiceType.MEETINGS).site_url == ""
    assert list(ContentItem.objects.filter(org=w["org"]).values_list("kind", flat=True)) == [
        ContentKind.MESSAGE  # recordings go (S2), messages stay
    ]
    removed = OutboxEmail.objects.filter(kind="trial_services_removed")
    assert sorted(removed.values_list("to_email", flat=True)) == sorted(
        [w["full"].email, w["ro"].email, w["plain"].email]
    )
    assert "Calling" in removed.first().body_text
    assert PhoneNumber.objects.filter(subscription=trial).exists()  # kept 15 more days

    clock.walk(38, 51)
    assert PhoneNumber.objects.filter(subscription=trial).exists()
    clock.tick(52)  # T13: released 15 days after calling stopped
    trial.refresh_from_db()
    assert not PhoneNumber.objects.filter(org=w["org"]).exists()
    assert trial.numbers_released_at == clock.at(52)
    clock.walk(53, 60)
    assert OutboxEmail.objects.filter(kind="trial_services_removed").count() == 3


def test_T11_a_late_tick_still_sends_the_end_day_notice_once(clock, calling_trial):
    clock.tick(9)  # nobody ran the tick on days 0–8
    assert OutboxEmail.objects.filter(kind="trial_ends_today").count() == 4
    assert OutboxEmail.objects.filter(kind="trial_ending_soon").count() == 0
    clock.tick(10)
    assert OutboxEmail.objects.filter(kind="trial_ends_today").count() == 4


def test_T6_extended_trial_gets_fresh_notices_for_its_new_end(clock, calling_trial):
    trial = calling_trial["trial"]
    clock.tick(0)
    trial.end_date = clock.at(30).date()  # T6 extension (the trials service does this)
    trial.save(update_fields=["end_date"])
    listed_facts_changed(trial.customer_id)
    clock.walk(1, 23)
    assert OutboxEmail.objects.filter(kind="trial_ending_soon").count() == 8


def test_S3_converted_trial_keeps_its_licenses(clock, calling_trial):
    trial = calling_trial["trial"]
    clock.walk(0, 10)
    trial.state = SubscriptionState.CONVERTED
    trial.save(update_fields=["state"])
    listed_facts_changed(trial.customer_id)
    clock.walk(11, 60)
    assert License.objects.filter(service__subscription=trial).count() == 2
    assert not OutboxEmail.objects.filter(kind="trial_services_removed").exists()


def _consent_world(clock, *, other_live: bool = False):
    clock.go(0)
    partner = make_partner(name="Asker Partners")
    make_user(org=partner, role=Role.SALES_ADMIN, email="sales@asker.example")
    org = make_customer(name="Existing Org", partner=partner)
    make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="owner@existing.example")
    trial = make_subscription(
        customer=org,
        partner=partner,
        kind=SubscriptionKind.TRIAL,
        state=SubscriptionState.PENDING,
        status=ProvisioningStatus.PENDING_CONSENT,
    )
    if other_live:
        make_subscription(customer=org, partner=partner)
    request = ConsentRequest.objects.create(
        trial=trial,
        partner=partner,
        customer=org,
        admin_email="owner@existing.example",
        requested_at=clock.at(0),
        expires_at=consent_expires_at(requested_at=clock.at(0)),
    )
    return partner, org, trial, request


def test_T3_unanswered_consent_expires_after_10_days_and_customer_leaves_the_list(clock):
    partner, org, trial, request = _consent_world(clock)
    clock.go(9.99)
    consent_expiry_tick(now=clock.at(9.99))
    request.refresh_from_db()
    assert request.status == ConsentStatus.PENDING

    clock.go(10)
    report = consent_expiry_tick(now=clock.at(10))
    assert report.results[0].count == 1
    request.refresh_from_db()
    trial.refresh_from_db()
    assert request.status == ConsentStatus.EXPIRED
    assert trial.state == SubscriptionState.CANCELLED
    assert not CustomerRelationship.objects.filter(partner=partner, customer=org).exists()
    assert list(OutboxEmail.objects.values_list("kind", "to_email")) == [
        ("consent_expired", "sales@asker.example")
    ]
    # Nothing left to expire; the org now holds no licenses and is marked by the daily tick (D1).
    clock.tick(11)
    org.refresh_from_db()
    assert org.deletion_marked_at is not None
    assert OutboxEmail.objects.filter(kind="consent_expired").count() == 1


def test_T3_customer_stays_on_the_list_when_the_partner_has_another_live_subscription(clock):
    partner, org, _trial, request = _consent_world(clock, other_live=True)
    clock.tick(10)
    request.refresh_from_db()
    assert request.status == ConsentStatus.EXPIRED
    assert CustomerRelationship.objects.filter(partner=partner, customer=org).exists()


def test_T2_welcome_email_once_every_service_is_provisioned(clock):
    clock.go(0)
    partner = make_partner()
    org = make_customer(name="Brand New Ltd", partner=partner)
    admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="admin@brandnew.example")
    trial = make_subscription(
        customer=org,
        partner=partner,
        kind=SubscriptionKind.TRIAL,
        services={ServiceType.MEETINGS: 5, ServiceType.MESSAGING: 5},
        status=ProvisioningStatus.PROVISIONING,
    )
    consent_expiry_tick(now=clock.at(0))
    assert not OutboxEmail.objects.filter(kind="trial_welcome").exists()
    Service.objects.filter(subscription=trial, type=ServiceType.MEETINGS).update(
        provisioning_status=ProvisioningStatus.PROVISIONED
    )
    listed_facts_changed(trial.customer_id)
    clock.go(0.1)
    consent_expiry_tick(now=clock.at(0.1))
    assert not OutboxEmail.objects.filter(kind="trial_welcome").exists()  # Messaging not yet
    Service.objects.filter(subscription=trial).update(
        provisioning_status=ProvisioningStatus.PROVISIONED
    )
    listed_facts_changed(trial.customer_id)
    clock.go(0.2)
    consent_expiry_tick(now=clock.at(0.2))
    clock.walk(1, 3)
    welcome = OutboxEmail.objects.get(kind="trial_welcome")
    assert welcome.to_email == admin.email
    assert "Brand New Ltd" in welcome.subject
    assert "http://testserver/login/" in welcome.body_text
    assert "Meetings" in welcome.body_text
    assert "Messaging" in welcome.body_text


def test_T2_no_welcome_for_a_trial_added_to_an_existing_customer(clock):
    clock.go(0)
    org = make_customer()
    make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN)
    make_subscription(customer=org, start=clock.at(-100).date())
    clock.go(1)
    make_subscription(customer=org, kind=SubscriptionKind.TRIAL)  # T5, its own email
    clock.walk(1, 3)
    assert not OutboxEmail.objects.filter(kind="trial_welcome").exists()


def test_T11_recipients_include_every_admin_of_the_managing_partner_only(clock, calling_trial):
    other = make_partner(name="Other Partner")
    make_user(org=other, role=Role.PARTNER_FULL_ADMIN, email="x@other.example")
    clock.tick(0)
    assert not OutboxEmail.objects.filter(to_email="x@other.example").exists()
    assert timedelta(days=7) == calling_trial["trial"].end_date - clock.at(0).date()


def test_T11_end_notice_missed_by_a_long_outage_goes_out_in_the_grace_period(clock, calling_trial):
    """Before issue 10 the end-day notice was lost when ticks stopped for more than 3 days
    around the end date (END_NOTICE_LATE_DAYS), although the trial could still be bought."""
    trial = calling_trial["trial"]
    clock.tick(7 + 20)  # nobody ran the tick from day 0 to 20 days after the end (day 7)
    notices = OutboxEmail.objects.filter(kind="trial_ends_today")
    assert notices.count() == 4  # 2 customer admins + 2 partner admins
    notice = notices.get(to_email="full@town.example")
    # Worded for the real date: it ended, it does not "end today".
    end = trial.end_date
    assert "ended on" in notice.subject
    assert "ends today" not in notice.subject
    assert "ended on" in notice.body_text
    assert str(end.year) in notice.subject
    clock.tick(7 + 21)
    assert notices.count() == 4


def test_T11_no_end_notice_once_the_grace_period_is_over(clock, calling_trial):
    clock.tick(7 + 30)  # grace over: the trial cannot be bought any more
    assert not OutboxEmail.objects.filter(kind="trial_ends_today").exists()
