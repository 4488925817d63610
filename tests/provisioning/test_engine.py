"""P1: the provisioning backend and engine — outcomes, faults, retries, claims, the relay."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from licensing.choices import (
    PROVISIONING_STATUS_HELP,
    MeetingsEdition,
    ProvisioningStatus,
    ServiceType,
    SubscriptionKind,
)
from licensing.models import Service
from licensing.provisioning import (
    CLAIM_TIMEOUT,
    RELAY_GRACE,
    EmbeddedVendorBackend,
    Outcome,
    ProvisioningRefused,
    ProvisioningRequest,
    _claim,
    service_details_submit,
    service_manual_done,
    service_provision,
    service_provisioning_retry,
    services_due_for_provisioning,
    services_mark_provisioned,
)
from licensing.services import ServiceSpec, subscription_create
from licensing.tasks import service_provision_task
from partnerhub.accounts.models import AuditEntry
from partnerhub.core.models import OutboxEmail
from tests.factories import listed_facts_changed, make_customer, make_subscription, make_user

from .backends import CountingBackend, vendor_calls

pytestmark = pytest.mark.django_db

LOCATION = {
    "location_name": "Head office",
    "address_line": "Main Street 1",
    "city": "Copenhagen",
    "postal_code": "1050",
    "country": "DK",
}


@pytest.fixture(autouse=True)
def _calls():
    vendor_calls.clear()
    CountingBackend.during = None
    yield
    CountingBackend.during = None


def request_for(service_type: str, **kw) -> ProvisioningRequest:
    args = {
        "service_id": 7,
        "service_type": service_type,
        "quantity": 5,
        "customer_id": 1,
        "customer_name": "Acme",
        "country": "DK",
        "attempt": 1,
    }
    args.update(kw)
    return ProvisioningRequest(**args)


def provisioning_service(world, service_type=ServiceType.MESSAGING) -> Service:
    sub = make_subscription(
        customer=world.customer_paid,
        partner=world.partner,
        kind=SubscriptionKind.PAID,
        services={service_type: 5},
        status=ProvisioningStatus.PROVISIONING,
    )
    return sub.services.get()


def status_of(service: Service) -> str:
    service.refresh_from_db()
    return service.provisioning_status


# ---- the embedded vendor ------------------------------------------------------------------
def test_P1_embedded_vendor_messaging_provisions_and_calling_needs_a_location():
    vendor = EmbeddedVendorBackend()
    assert vendor.provision(request_for(ServiceType.MESSAGING)).outcome == Outcome.PROVISIONED
    calling = vendor.provision(request_for(ServiceType.CALLING))
    assert calling.outcome == Outcome.NEEDS_DETAILS
    assert "emergency address" in calling.reason
    done = vendor.provision(request_for(ServiceType.CALLING, details=LOCATION))
    assert done.outcome == Outcome.PROVISIONED
    assert done.steps == ("location_created:Head office",)


def test_P1_embedded_vendor_creates_the_enterprise_meetings_site_first():
    result = EmbeddedVendorBackend().provision(
        request_for(
            ServiceType.MEETINGS,
            edition=MeetingsEdition.ENTERPRISE,
            site_url="acme.webex.example",
            time_zone="Europe/Copenhagen",
        )
    )
    assert result.outcome == Outcome.PROVISIONED
    assert result.steps == ("site_created:acme.webex.example",)


def test_P1_embedded_vendor_manual_types_and_no_failures_unless_set():
    vendor = EmbeddedVendorBackend({"manual": {"devices": "partner", "meetings": "vendor"}})
    assert vendor.provision(request_for(ServiceType.DEVICES)).outcome == Outcome.MANUAL_PARTNER
    assert vendor.provision(request_for(ServiceType.MEETINGS)).outcome == Outcome.MANUAL_VENDOR
    # failure_rate is 0 by default: a plain Messaging service always provisions.
    assert {
        EmbeddedVendorBackend().provision(request_for(ServiceType.MESSAGING, service_id=i)).outcome
        for i in range(500)
    } == {Outcome.PROVISIONED}


def test_P1_embedded_vendor_failure_share_is_seeded_and_reproducible():
    def outcomes(seed: int) -> list[str]:
        vendor = EmbeddedVendorBackend({"failure_rate": 0.3, "seed": seed})
        return [
            vendor.provision(request_for(ServiceType.MESSAGING, service_id=i)).outcome
            for i in range(200)
        ]

    first = outcomes(1)
    assert first == outcomes(1)  # the same seed, the same failures
    assert first != outcomes(2)
    share = first.count(Outcome.FAILED) / len(first)
    assert 0.2 < share < 0.4
    failed = EmbeddedVendorBackend({"failure_rate": 1.0}).provision(
        request_for(ServiceType.MESSAGING)
    )
    assert failed.outcome == Outcome.FAILED
    assert "could not set up Messaging" in failed.reason


# ---- the engine ---------------------------------------------------------------------------
def test_P1_engine_provisions_a_service_and_audits_each_step(world):
    service = provisioning_service(world)
    assert service_provision_task(service.pk) == ProvisioningStatus.PROVISIONED
    service.refresh_from_db()
    assert service.provisioning_status == ProvisioningStatus.PROVISIONED
    assert service.provisioned_at is not None
    assert service.provisioning_claimed_at is None
    actions = list(
        AuditEntry.objects.filter(target=str(service.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["service.provisioning_attempt", "service.provisioned"]
    # A second run (a duplicate task) does nothing.
    assert service_provision_task(service.pk) == "skipped"


def test_P1_engine_calling_waits_for_details_then_provisions(world):
    service = provisioning_service(world, ServiceType.CALLING)
    assert service_provision_task(service.pk) == ProvisioningStatus.AWAITING_DETAILS
    service.refresh_from_db()
    assert "emergency address" in service.provisioning_reason
    admin = make_user(org=world.customer_paid)
    service_details_submit(service=service, actor=admin, details=LOCATION)
    assert status_of(service) == ProvisioningStatus.PROVISIONING
    assert service_provision_task(service.pk) == ProvisioningStatus.PROVISIONED
    service.refresh_from_db()
    assert service.provisioning_details["location_name"] == "Head office"
    assert AuditEntry.objects.filter(
        action="service.provisioning_step", details__step="location_created:Head office"
    ).exists()


def test_P1_calling_details_are_validated_and_nothing_changes_when_missing(world):
    from django.core.exceptions import ValidationError

    service = provisioning_service(world, ServiceType.CALLING)
    service_provision_task(service.pk)
    with pytest.raises(ValidationError) as invalid:
        service_details_submit(
            service=service, actor=world.sales_admin, details={**LOCATION, "city": "  "}
        )
    assert "city" in invalid.value.message_dict
    assert status_of(service) == ProvisioningStatus.AWAITING_DETAILS


def test_P1_backend_that_raises_leaves_the_service_failed_with_a_reason(world, settings):
    settings.PROVISIONING_BACKEND = "tests.provisioning.backends.RaisingBackend"
    settings.PROVISIONING_MAX_ATTEMPTS = 1
    service = provisioning_service(world)
    assert service_provision(service_id=service.pk).outcome == ProvisioningStatus.FAILED
    service.refresh_from_db()
    assert service.provisioning_status == ProvisioningStatus.FAILED
    assert service.provisioned_at is None  # never half-provisioned
    assert service.provisioning_claimed_at is None
    assert "503" in service.provisioning_reason
    # The partner's admins are told, with the reason (issue 12 links it to the feed).
    failed = OutboxEmail.objects.filter(kind="provisioning_failed")
    assert sorted(failed.values_list("to_email", flat=True)) == [
        "pat@acme.example",
        "rob@acme.example",
        "sam@acme.example",
        "sue@acme.example",
    ]
    assert "503" in failed.first().body_text


def test_P1_backend_that_times_out_leaves_the_service_failed(world, settings):
    settings.PROVISIONING_BACKEND = "tests.provisioning.backends.HangingBackend"
    settings.PROVISIONING_MAX_ATTEMPTS = 1
    settings.PROVISIONING_TIMEOUT_SECONDS = 0.2
    service = provisioning_service(world)
    assert service_provision(service_id=service.pk).outcome == ProvisioningStatus.FAILED
    service.refresh_from_db()
    assert service.provisioning_status == ProvisioningStatus.FAILED
    assert "did not answer" in service.provisioning_reason


def test_P1_raising_backend_is_retried_with_exponential_backoff_then_failed(world, settings):
    settings.PROVISIONING_BACKEND = "tests.provisioning.backends.RaisingBackend"
    settings.PROVISIONING_MAX_ATTEMPTS = 3
    settings.PROVISIONING_RETRY_BASE_SECONDS = 30
    service = provisioning_service(world)
    delays = []
    for _attempt in range(2):
        run = service_provision(service_id=service.pk)
        assert run.outcome == "retry"
        delays.append(run.retry_in)
        service.refresh_from_db()
        assert service.provisioning_status == ProvisioningStatus.PROVISIONING
        assert service.provisioning_claimed_at is None
        assert service.provisioning_due_at > timezone.now()
    assert delays == [30, 60]
    # The relay leaves a service waiting for its backoff alone.
    assert service.pk not in services_due_for_provisioning(now=timezone.now())
    assert service_provision(service_id=service.pk).outcome == ProvisioningStatus.FAILED
    assert vendor_calls == [service.pk] * 3


def test_P1_two_workers_provision_one_service_once(world, settings):
    """A second worker starts while the first is inside the vendor call: it loses the claim
    and does nothing; the vendor is asked once."""
    settings.PROVISIONING_BACKEND = "tests.provisioning.backends.CountingBackend"
    settings.PROVISIONING_TIMEOUT_SECONDS = 0  # the vendor call in this thread, to interleave
    service = provisioning_service(world)
    second: list[str] = []
    CountingBackend.during = lambda request: second.append(
        service_provision(service_id=request.service_id).outcome
    )
    first = service_provision(service_id=service.pk)
    assert first.outcome == ProvisioningStatus.PROVISIONED
    assert second == ["skipped"]
    assert vendor_calls == [service.pk]
    assert AuditEntry.objects.filter(action="service.provisioned").count() == 1


def test_P1_claim_is_a_conditional_update_won_once(world):
    service = provisioning_service(world)
    now = timezone.now()
    assert _claim(service_id=service.pk, now=now) is True
    assert _claim(service_id=service.pk, now=now + timedelta(seconds=1)) is False
    # A claim left by a dead worker expires; the relay then finds the service.
    later = now + CLAIM_TIMEOUT + timedelta(seconds=1)
    assert service.pk in services_due_for_provisioning(now=later)
    assert _claim(service_id=service.pk, now=later) is True


def test_P1_a_late_answer_after_support_finished_it_is_dropped(world, settings):
    settings.PROVISIONING_BACKEND = "tests.provisioning.backends.CountingBackend"
    settings.PROVISIONING_TIMEOUT_SECONDS = 0
    staff = make_user(org=None, is_staff=True)
    service = provisioning_service(world, ServiceType.CALLING)
    CountingBackend.during = lambda request: services_mark_provisioned(
        services=[Service.objects.get(pk=request.service_id)], actor=staff
    )
    assert service_provision(service_id=service.pk).outcome == "skipped"
    # The vendor's "needs details" did not undo support's decision.
    assert status_of(service) == ProvisioningStatus.PROVISIONED


def test_P1_relay_picks_up_services_whose_task_was_lost(world):
    service = provisioning_service(world)
    now = timezone.now()
    Service.objects.filter(pk=service.pk).update(provisioning_due_at=now)
    assert service.pk not in services_due_for_provisioning(now=now)  # its task is on the way
    assert service.pk in services_due_for_provisioning(now=now + RELAY_GRACE)
    done = make_subscription(customer=world.customer_paid, partner=world.partner).services.get()
    assert done.pk not in services_due_for_provisioning(now=now + RELAY_GRACE)


def test_P1_new_subscriptions_queue_their_services_after_commit(
    world, django_capture_on_commit_callbacks
):
    customer = make_customer(partner=world.partner)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sub = subscription_create(
            customer=customer,
            partner=world.partner,
            kind=SubscriptionKind.PAID,
            start_date=timezone.localdate(),
            end_date=timezone.localdate() + timedelta(days=365),
            services=[
                ServiceSpec(type=ServiceType.MESSAGING, quantity=5),
                ServiceSpec(type=ServiceType.CALLING, quantity=5),
            ],
        )
    assert callbacks  # the queueing waits for the commit
    assert all(s.provisioning_due_at is not None for s in sub.services.all())


def test_P1_retry_and_manual_done_move_only_from_their_status(world):
    service = provisioning_service(world)
    with pytest.raises(ProvisioningRefused):
        service_provisioning_retry(service=service, actor=world.sales_admin)
    Service.objects.filter(pk=service.pk).update(
        provisioning_status=ProvisioningStatus.FAILED, provisioning_reason="boom"
    )
    service_provisioning_retry(service=service, actor=world.sales_admin)
    service.refresh_from_db()
    assert service.provisioning_status == ProvisioningStatus.PROVISIONING
    assert service.provisioning_reason == ""
    with pytest.raises(ProvisioningRefused):
        service_manual_done(service=service, actor=world.sales_admin)
    Service.objects.filter(pk=service.pk).update(
        provisioning_status=ProvisioningStatus.MANUAL_PARTNER
    )
    service_manual_done(service=service, actor=world.sales_admin)
    assert status_of(service) == ProvisioningStatus.PROVISIONED


def test_P1_every_status_has_a_meaning_and_a_next_step_without_rule_ids():
    assert set(PROVISIONING_STATUS_HELP) == set(ProvisioningStatus.values)
    for status, help in PROVISIONING_STATUS_HELP.items():
        for text in (str(help.meaning), str(help.next_step)):
            assert text, status
            assert not re.search(r"\b[DSPTWC]\d{1,2}\b", text), text
    # Seed 001: failed → contact support; awaiting details → a customer admin in Control Hub.
    assert "support" in str(PROVISIONING_STATUS_HELP[ProvisioningStatus.FAILED].next_step)
    assert "Control Hub" in str(
        PROVISIONING_STATUS_HELP[ProvisioningStatus.AWAITING_DETAILS].meaning
    )


@pytest.mark.django_db(transaction=True)
def test_P1_two_worker_threads_racing_on_a_server_database_provision_once(world, settings):
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite test databases live in one in-memory connection")
    settings.PROVISIONING_BACKEND = "tests.provisioning.backends.CountingBackend"
    CountingBackend.during = lambda request: time.sleep(0.3)  # the vendor takes its time
    service = provisioning_service(world)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker() -> None:
        barrier.wait()
        try:
            outcomes.append(service_provision(service_id=service.pk).outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(outcomes) == [ProvisioningStatus.PROVISIONED, "skipped"]
    assert vendor_calls == [service.pk]
    assert AuditEntry.objects.filter(action="service.provisioned").count() == 1


def test_P1_a_task_for_a_service_removed_meanwhile_does_nothing(world):
    service = provisioning_service(world)
    service.delete()
    listed_facts_changed(service.subscription.customer_id)
    assert service_provision_task(service.pk) == "skipped"
