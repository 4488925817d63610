"""Issue 10 findings on the partner side of trials: T3 dates from consent, T7 decisions told
to the partner, T10 deletion leaving a clean customer page, T14 returns and carriers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from licensing.choices import ServiceType, SubscriptionKind, SubscriptionState
from licensing.models import License, Subscription
from licensing.services import ServiceSpec
from partnerhub.accounts.choices import Role
from partnerhub.core.models import OutboxEmail
from tests.factories import assign, make_customer, make_subscription, make_user
from trials.choices import DeviceType, ExtensionStatus
from trials.consent import consent_accept
from trials.lifecycle import ReturnCarrier, device_return_state, return_carrier
from trials.models import Device, DeviceShipment
from trials.services import (
    DeviceOrder,
    devices_return,
    extension_request_decide,
    return_label_request,
    trial_delete,
    trial_extend,
    trial_request_existing_org,
    trial_start_new_customer,
)

pytestmark = pytest.mark.django_db


def _device_trial(world, *, country: str = "US", length: int = 60):
    return trial_start_new_customer(
        partner=world.partner,
        actor=world.sales_admin,
        company_name="Gadget Corp",
        admin_email="admin@gadget.example",
        vertical="retail",
        country=country,
        services=[ServiceSpec(type=ServiceType.DEVICES, quantity=2)],
        devices=[DeviceOrder(DeviceType.DESK_PHONE, 2)],
        length_days=length,
    )


# --- T3 -----------------------------------------------------------------------------------


def test_T3_trial_period_starts_when_the_customer_accepts_not_when_requested(world):
    """Seed 002: an admin must accept within 10 days before the trial can be provisioned; a
    request accepted on day 9 still gets its full 30 days (before: 21 days were left)."""
    org = make_customer(name="Existing Org")
    full = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="full@existing.example")
    with time_machine.travel(date(2026, 3, 1), tick=False):
        consent = trial_request_existing_org(
            partner=world.partner,
            actor=world.sales_admin,
            admin_email="full@existing.example",
            services=[ServiceSpec(type=ServiceType.MESSAGING, quantity=5)],
            devices=[],
            length_days=30,
        )
    with time_machine.travel(date(2026, 3, 10), tick=False):
        consent_accept(request=consent, by=full, grant_full_admin=False)
    trial = Subscription.objects.get(pk=consent.trial_id)
    assert trial.state == SubscriptionState.ACTIVE
    assert trial.start_date == date(2026, 3, 10)
    assert trial.end_date == date(2026, 4, 9)  # 30 days from the acceptance


# --- T7 -----------------------------------------------------------------------------------


def test_T7_partner_is_told_the_decision_by_email_and_on_the_customer_page(client, world):
    staff = make_user(org=None, is_staff=True)
    trial = _device_trial(world)
    request_ = trial_extend(trial=trial, actor=world.sales_admin, days=30).extension_request
    assert request_ is not None
    client.force_login(world.sales_admin)
    extend = client.get(reverse("trials:trial_extend", args=[trial.pk])).content.decode()
    # A waiting request is shown before the partner fills the form again.
    assert 'data-testid="waiting-request"' in extend
    assert 'name="days"' not in extend
    extension_request_decide(
        extension_request=request_, actor=staff, approve=False, note="Devices are due back."
    )
    # Issue 12: a partner notice: the requester and every other admin of the partner.
    email = OutboxEmail.objects.get(kind="extension_refused", to_email="sam@acme.example")
    assert "refused" in email.subject
    assert "Devices are due back." in email.body_text
    page = client.get(reverse("customers:customer_detail", args=[trial.customer_id]))
    body = page.content.decode()
    assert 'data-testid="extension-refused"' in body
    assert "Devices are due back." in body
    assert request_.__class__.objects.get().status == ExtensionStatus.REFUSED


# --- T10 ----------------------------------------------------------------------------------


def test_T10_deleted_trial_page_shows_no_days_left_and_no_provisioning(client, world):
    """Before issue 10 a deleted trial showed "Trial Cancelled · 30 days left" with every
    service Provisioning, and its licenses stayed."""
    trial = _device_trial(world, length=30)
    customer = trial.customer
    user = make_user(org=customer, role=Role.USER)
    assign(user=user, subscription=trial, service_type=ServiceType.DEVICES)
    trial_delete(trial=trial, actor=world.sales_admin)
    assert not License.objects.filter(service__subscription=trial).exists()
    client.force_login(world.sales_admin)
    body = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    article = body[body.index(f'data-subscription="{trial.pk}"') :]
    article = article[: article.index("</article>")]
    assert 'data-testid="trial-deleted"' in article
    assert "days left" not in article
    assert "Provisioning" not in article.replace("Provisioning status", "")
    assert "Licenses removed" in article
    # Shipped devices stay tracked until they are back (T14).
    assert 'data-testid="return-not_yet"' in body


# --- T14 ----------------------------------------------------------------------------------


def test_T14_agreement_date_is_fixed_at_shipment_and_emailed_to_the_customer_admin(world):
    with time_machine.travel(date(2026, 1, 1), tick=False):
        trial = _device_trial(world, length=60)
    shipment = DeviceShipment.objects.get(trial=trial)
    assert shipment.agreement_end_date == date(2026, 3, 2)
    email = OutboxEmail.objects.get(kind="device_agreement")
    assert email.to_email == "admin@gadget.example"
    assert "March 2, 2026" in email.subject
    for device in shipment.devices.all():
        assert device.serial_number in email.body_text
    assert "return label" in email.body_text  # US carrier guidance
    # Support extends the trial: the agreement date does not move.
    staff = make_user(org=None, is_staff=True)
    with time_machine.travel(date(2026, 2, 20), tick=False):
        request_ = trial_extend(trial=trial, actor=world.sales_admin, days=30).extension_request
        extension_request_decide(extension_request=request_, actor=staff, approve=True)
    shipment.refresh_from_db()
    trial.refresh_from_db()
    assert trial.end_date == date(2026, 3, 22)
    assert shipment.agreement_end_date == date(2026, 3, 2)


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (date(2026, 2, 15), "not_yet"),
        (date(2026, 2, 16), "due"),  # 14 days before the agreement ends: the window opens
        (date(2026, 3, 2), "due"),  # the agreement's last day
        (date(2026, 3, 3), "overdue"),
    ],
)
def test_T14_return_window_is_the_two_weeks_before_the_agreement_end(today, state):
    """Seed 002: returns are due within the two weeks before the EULA email's date, not the
    Control Hub expiry. Before issue 10 devices showed Overdue inside that window."""
    assert (
        device_return_state(agreement_end_date=date(2026, 3, 2), today=today, returned=False)
        == state
    )


def test_T14_customer_page_shows_devices_inside_the_window_as_due_not_overdue(client, world):
    with time_machine.travel(date(2026, 1, 1), tick=False):
        trial = _device_trial(world, length=60)
    client.force_login(world.sales_admin)
    with time_machine.travel(date(2026, 2, 25), tick=False):
        body = client.get(
            reverse("customers:customer_detail", args=[trial.customer_id])
        ).content.decode()
    assert 'data-testid="return-due"' in body
    assert "Overdue" not in body


def test_T14_returned_serials_must_match_the_shipment(world):
    trial = _device_trial(world)
    serials = list(
        Device.objects.filter(shipment__trial=trial).values_list("serial_number", flat=True)
    )
    with pytest.raises(ValidationError, match="not shipped for this trial: BOGUS-1"):
        devices_return(trial=trial, serial_numbers=[serials[0], "BOGUS-1"], actor=world.sales_admin)
    assert not Device.objects.filter(returned_at__isnull=False).exists()  # nothing recorded
    devices_return(trial=trial, serial_numbers=[serials[0].lower()], actor=world.sales_admin)
    assert Device.objects.filter(returned_at__isnull=False).count() == 1
    with pytest.raises(ValidationError, match="Already recorded"):
        devices_return(trial=trial, serial_numbers=[serials[0]], actor=world.sales_admin)


def test_T14_a_serial_of_another_customers_shipment_is_refused_on_the_page(client, world):
    trial = _device_trial(world)
    stranger = make_subscription(
        customer=world.customer_paid, partner=world.partner, kind=SubscriptionKind.TRIAL
    )
    foreign = DeviceShipment.objects.create(
        trial=stranger,
        device_type=DeviceType.BOARD,
        quantity=1,
        shipped_at=timezone.now(),
        agreement_end_date=timezone.localdate() + timedelta(days=30),
        return_due_date=timezone.localdate() + timedelta(days=16),
    )
    Device.objects.create(shipment=foreign, serial_number="BOA-FOREIGN-001")
    client.force_login(world.sales_admin)
    response = client.post(
        reverse("trials:devices_return", args=[trial.pk]),
        {"serial_numbers": "BOA-FOREIGN-001"},
        follow=True,
    )
    assert "not shipped for this trial: BOA-FOREIGN-001" in response.content.decode()
    assert not Device.objects.filter(returned_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("country", "region", "carrier"),
    [
        ("US", "amer", ReturnCarrier.LABEL_IN_BOX),
        ("CA", "amer", ReturnCarrier.DHL),
        ("DK", "emea", ReturnCarrier.DHL),
        ("GB", "emea", ReturnCarrier.DHL),
        ("AU", "apac", ReturnCarrier.EXPEDITORS),
        ("JP", "apac", ReturnCarrier.RMA_GUIDE),
        ("BR", "amer", ReturnCarrier.RMA_GUIDE),
    ],
)
def test_T14_carrier_follows_the_customers_country(country, region, carrier):
    assert return_carrier(country=country, data_region=region) == carrier


def test_T14_a_new_return_label_can_be_requested_in_the_US_only(world):
    us = _device_trial(world, country="US")
    assert return_label_request(trial=us, actor=world.sales_admin) == 1
    assert OutboxEmail.objects.filter(kind="return_label_request").count() == 1
    dk = trial_start_new_customer(
        partner=world.partner,
        actor=world.sales_admin,
        company_name="Dansk Gadget",
        admin_email="admin@dansk.example",
        vertical="retail",
        country="DK",
        services=[ServiceSpec(type=ServiceType.DEVICES, quantity=1)],
        devices=[DeviceOrder(DeviceType.BOARD, 1)],
        length_days=30,
    )
    with pytest.raises(ValidationError, match=r"United States only.*DHL"):
        return_label_request(trial=dk, actor=world.sales_admin)


def test_T3_T14_devices_ship_at_consent_with_the_agreement_date_of_the_started_trial(world):
    org = make_customer(name="Existing Org", country="AU")
    full = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="full@existing.example")
    with time_machine.travel(date(2026, 3, 1), tick=False):
        consent = trial_request_existing_org(
            partner=world.partner,
            actor=world.sales_admin,
            admin_email="full@existing.example",
            services=[ServiceSpec(type=ServiceType.DEVICES, quantity=1)],
            devices=[DeviceOrder(DeviceType.BOARD, 1)],
            length_days=30,
        )
    assert not OutboxEmail.objects.filter(kind="device_agreement").exists()
    with time_machine.travel(date(2026, 3, 9), tick=False):
        consent_accept(request=consent, by=full, grant_full_admin=True)
    shipment = DeviceShipment.objects.get(trial_id=consent.trial_id)
    assert shipment.agreement_end_date == date(2026, 4, 8)
    email = OutboxEmail.objects.get(kind="device_agreement")
    assert email.to_email == "full@existing.example"
    assert "Expeditors" in email.body_text  # Australia
