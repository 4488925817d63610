"""P1 + T2 end to end on the real task path: a new customer's trial provisions by itself, Calling
waits for a location entered in Control Hub, and the welcome email goes once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from licensing.calling import is_assignable
from licensing.choices import ProvisioningStatus, ServiceType
from licensing.models import Service
from licensing.provisioning import RELAY_GRACE, services_due_for_provisioning
from licensing.services import ServiceSpec
from licensing.tasks import provisioning_relay_task, service_provision_task
from partnerhub.accounts.models import AuditEntry, User
from partnerhub.core.models import OutboxEmail
from partnerhub.core.outbox import outbox_flush
from tests.factories import make_subscription, make_user
from trials.services import trial_start_new_customer
from trials.sweeps import trial_welcome_due

pytestmark = pytest.mark.django_db

LOCATION = {
    "calling-location_name": "Head office",
    "calling-address_line": "Storgatan 1",
    "calling-city": "Stockholm",
    "calling-postal_code": "111 22",
    "calling-country": "SE",
}


def run_worker(*, now) -> list[str]:
    """What the worker does with the services the relay finds due (the tick's view of it)."""
    return [
        service_provision_task(service_id) for service_id in services_due_for_provisioning(now=now)
    ]


def start_trial(world, services):
    return trial_start_new_customer(
        partner=world.partner,
        actor=world.sales_admin,
        company_name="Nordic Widgets",
        admin_email="admin@nordic.example",
        vertical="retail",
        country="SE",
        services=services,
        devices=[],
        length_days=30,
    )


def test_P1_T2_trial_provisions_calling_location_in_control_hub_then_one_welcome(client, world):
    trial = start_trial(
        world,
        [
            ServiceSpec(type=ServiceType.MESSAGING, quantity=10),
            ServiceSpec(type=ServiceType.CALLING, quantity=10),
        ],
    )
    statuses = dict(trial.services.values_list("type", "provisioning_status"))
    assert set(statuses.values()) == {ProvisioningStatus.PROVISIONING}

    # The task queued after commit, or the relay after a lost task: the worker runs it.
    assert sorted(run_worker(now=timezone.now() + RELAY_GRACE)) == [
        ProvisioningStatus.AWAITING_DETAILS,
        ProvisioningStatus.PROVISIONED,
    ]
    statuses = dict(trial.services.values_list("type", "provisioning_status"))
    assert statuses == {
        ServiceType.MESSAGING: ProvisioningStatus.PROVISIONED,
        ServiceType.CALLING: ProvisioningStatus.AWAITING_DETAILS,
    }
    assert not OutboxEmail.objects.filter(kind="trial_welcome").exists()
    # Licenses of the provisioned service can be assigned; Calling's not yet.
    assignable = {s.type: is_assignable(s) for s in trial.services.select_related("subscription")}
    assert assignable == {ServiceType.MESSAGING: True, ServiceType.CALLING: False}

    # The customer admin sees what Calling waits for, and enters the location.
    admin = User.objects.get(email="admin@nordic.example")
    client.force_login(admin)
    overview = client.get(reverse("controlhub:overview", kwargs={"org_pk": trial.customer_id}))
    assert "must finish the service&#x27;s set-up in Control Hub" in overview.content.decode()
    provision_url = reverse(
        "controlhub:trial_provision", kwargs={"org_pk": trial.customer_id, "pk": trial.pk}
    )
    assert provision_url in overview.content.decode()
    bad = client.post(provision_url, {**LOCATION, "calling-postal_code": "??", "calling-city": ""})
    assert bad.status_code == 400
    assert "Enter a postal code" in bad.content.decode()
    assert (
        trial.services.get(type=ServiceType.CALLING).provisioning_status
        == ProvisioningStatus.AWAITING_DETAILS
    )
    assert client.post(provision_url, LOCATION).status_code == 302
    calling = trial.services.get(type=ServiceType.CALLING)
    assert calling.provisioning_status == ProvisioningStatus.PROVISIONING
    assert calling.provisioning_details["city"] == "Stockholm"

    assert service_provision_task(calling.pk) == ProvisioningStatus.PROVISIONED
    # T2: the last service provisioned owed the welcome in the same transaction.
    assert OutboxEmail.objects.filter(kind="trial_welcome").count() == 1
    assert outbox_flush() == 1
    # Neither the hourly sweep nor a repeated task sends it again.
    trial_welcome_due(now=timezone.now())
    assert service_provision_task(calling.pk) == "skipped"
    assert outbox_flush() == 0
    welcome = [m for m in mail.outbox if m.to == ["admin@nordic.example"]]
    assert len(welcome) == 1
    assert welcome[0].alternatives
    assert "<html" in welcome[0].alternatives[0][0] or "<p" in welcome[0].alternatives[0][0]
    assert "http://testserver" in welcome[0].body
    audited = set(
        AuditEntry.objects.filter(target=str(calling.pk)).values_list("action", flat=True)
    )
    assert {
        "service.provisioning_attempt",
        "service.awaiting_details",
        "service.provisioning_details",
        "service.provisioning_step",
        "service.provisioned",
    } <= audited


def test_P1_plain_messaging_trial_provisions_by_itself_through_the_relay(world):
    trial = start_trial(world, [ServiceSpec(type=ServiceType.MESSAGING, quantity=5)])
    with time_machine.travel(timezone.now() + timedelta(minutes=3), tick=False):
        assert provisioning_relay_task() == 1  # queues the lost task again
        assert run_worker(now=timezone.now()) == [ProvisioningStatus.PROVISIONED]
    assert trial.services.get().provisioning_status == ProvisioningStatus.PROVISIONED
    assert OutboxEmail.objects.filter(kind="trial_welcome").count() == 1


# ---- the partner's side --------------------------------------------------------------------
def failed_service(world) -> Service:
    service = world.customer_trial.subscriptions.get().services.get()
    Service.objects.filter(pk=service.pk).update(
        provisioning_reason="The vendor could not set up Meetings for this organization."
    )
    return service


def detail_url(world) -> str:
    return reverse("customers:customer_detail", kwargs={"pk": world.customer_trial.pk})


def retry_url(world, service) -> str:
    return reverse(
        "customers:service_provisioning_retry",
        kwargs={"pk": world.customer_trial.pk, "service_pk": service.pk},
    )


def test_P1_partner_sees_the_failure_reason_and_retries(client, world):
    service = failed_service(world)
    client.force_login(world.sales_admin)
    page = client.get(detail_url(world)).content.decode()
    assert "The vendor could not set up Meetings for this organization." in page
    assert "contact support" in page
    assert retry_url(world, service) in page
    response = client.post(retry_url(world, service))
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.provisioning_status == ProvisioningStatus.PROVISIONING
    assert service_provision_task(service.pk) == ProvisioningStatus.PROVISIONED


def test_P1_T1_only_sales_roles_retry_and_another_partner_gets_404(client, world):
    service = failed_service(world)
    client.force_login(world.read_only)
    assert retry_url(world, service) not in client.get(detail_url(world)).content.decode()
    assert client.post(retry_url(world, service)).status_code == 403
    client.force_login(world.other_sales_admin)
    assert client.post(retry_url(world, service)).status_code == 404
    service.refresh_from_db()
    assert service.provisioning_status == ProvisioningStatus.FAILED


def test_P1_partner_marks_a_manual_partner_service_done(client, world):
    sub = make_subscription(
        customer=world.customer_paid,
        partner=world.partner,
        services={ServiceType.DEVICES: 3},
        status=ProvisioningStatus.MANUAL_PARTNER,
    )
    service = sub.services.get()
    url = reverse(
        "customers:service_manual_done",
        kwargs={"pk": world.customer_paid.pk, "service_pk": service.pk},
    )
    client.force_login(world.sales_full_admin)
    page = client.get(
        reverse("customers:customer_detail", kwargs={"pk": world.customer_paid.pk})
    ).content.decode()
    assert url in page
    assert "waits for the partner to finish it" in page
    assert client.post(url).status_code == 302
    service.refresh_from_db()
    assert service.provisioning_status == ProvisioningStatus.PROVISIONED
    # A second click is refused with a message, not a 500.
    assert client.post(url).status_code == 302


def test_P1_customer_list_cell_shows_meaning_and_next_step(client, world):
    client.force_login(world.sales_admin)
    page = client.get(reverse("customers:customer_list")).content.decode()
    assert 'title="The service ran into an error while being set up."' in page
    assert "The partner or support retries it; if it fails again, contact support." in page


def test_P1_support_retries_failed_services_from_the_admin(client, world):
    service = failed_service(world)
    staff = make_user(org=None, is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.post(
        reverse("admin:licensing_service_changelist"),
        {"action": "retry_provisioning", "_selected_action": [service.pk]},
    )
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.provisioning_status == ProvisioningStatus.PROVISIONING
    # The older action still finishes a manual provisioning.
    client.post(
        reverse("admin:licensing_service_changelist"),
        {"action": "mark_provisioned", "_selected_action": [service.pk]},
    )
    service.refresh_from_db()
    assert service.provisioning_status == ProvisioningStatus.PROVISIONED
