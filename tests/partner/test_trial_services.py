"""Trial services through their real path (T2–T10, T14), with time travel where dates matter."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from licensing.choices import (
    MeetingsEdition,
    ProvisioningStatus,
    ServiceType,
    SubscriptionKind,
    SubscriptionState,
)
from licensing.models import Service, Subscription
from licensing.services import ServiceSpec
from partnerhub.accounts.choices import PartnerAccess, Role
from partnerhub.accounts.models import AuditEntry, CustomerRelationship, Membership
from partnerhub.core.models import OutboxEmail
from tests.factories import make_customer, make_subscription, make_user
from trials.choices import ConsentStatus, DeviceType, ExtensionStatus
from trials.models import DeviceShipment, ExtensionRequest
from trials.services import (
    DeviceOrder,
    consent_cancel,
    consent_resend,
    extension_request_decide,
    trial_add_to_customer,
    trial_delete,
    trial_extend,
    trial_request_existing_org,
    trial_services_change,
    trial_start_new_customer,
)

pytestmark = pytest.mark.django_db
MSG = [ServiceSpec(type=ServiceType.MESSAGING, quantity=10)]


def start(world, **overrides):
    args = {
        "partner": world.partner,
        "actor": world.sales_admin,
        "company_name": "  New   Customer Ltd ",
        "admin_email": "Boss@NewCustomer.example",
        "vertical": "retail",
        "country": "SE",
        "services": MSG,
        "devices": [],
        "length_days": 30,
    }
    args.update(overrides)
    return trial_start_new_customer(**args)


def test_T2_new_customer_trial_creates_org_admin_relationship_and_provisioning(world):
    trial = start(
        world,
        services=[
            ServiceSpec(
                type=ServiceType.MEETINGS,
                quantity=5,
                edition=MeetingsEdition.ENTERPRISE,
                site_url="new.meetings.example",
                time_zone="Europe/Stockholm",
            ),
            ServiceSpec(type=ServiceType.DEVICES, quantity=2),
        ],
        devices=[DeviceOrder(device_type=DeviceType.DESK_PHONE, quantity=2)],
        length_days=60,
    )
    org = trial.customer
    assert org.name == "New Customer Ltd"
    assert org.data_region == "emea"  # Sweden → Europe (T2)
    assert trial.kind == SubscriptionKind.TRIAL
    assert trial.end_date == timezone.localdate() + timedelta(days=60)
    assert set(trial.services.values_list("provisioning_status", flat=True)) == {
        ProvisioningStatus.PROVISIONING
    }
    assert Membership.objects.get(org=org).user.email == "boss@newcustomer.example"
    assert CustomerRelationship.objects.get(customer=org).partner == world.partner
    shipment = DeviceShipment.objects.get(trial=trial)
    # T14: devices tracked by serial number, due back two weeks before the agreement ends
    assert shipment.devices.count() == 2
    assert shipment.return_due_date == trial.end_date - timedelta(days=14)
    assert AuditEntry.objects.filter(action="trial.start", org_id_value=org.pk).exists()


def test_T1_service_refuses_read_only_and_partner_full_admin(world):
    for who in (world.read_only, world.partner_full_admin, world.other_sales_admin):
        with pytest.raises(PermissionDenied):
            start(world, actor=who)


def test_T2_refuses_taken_email_site_and_second_shipment_of_a_type(world):
    with pytest.raises(ValidationError):
        start(world, admin_email="boss@paid.example")
    start(
        world,
        services=[
            ServiceSpec(
                type=ServiceType.MEETINGS,
                quantity=1,
                edition=MeetingsEdition.ENTERPRISE,
                site_url="taken.example",
                time_zone="UTC",
            )
        ],
    )
    with pytest.raises(ValidationError, match="taken"):
        start(
            world,
            admin_email="other@x.example",
            services=[
                ServiceSpec(
                    type=ServiceType.MEETINGS,
                    quantity=1,
                    edition=MeetingsEdition.ENTERPRISE,
                    site_url="taken.example",
                    time_zone="UTC",
                )
            ],
        )
    with pytest.raises(ValidationError, match="ships once"):
        start(
            world,
            admin_email="third@x.example",
            services=[ServiceSpec(type=ServiceType.DEVICES, quantity=2)],
            devices=[DeviceOrder("board", 1), DeviceOrder("board", 2)],
        )


@pytest.fixture
def existing(world):
    org = make_customer(name="Existing Org")
    full = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="full@existing.example")
    full2 = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="full2@existing.example")
    ro = make_user(org=org, role=Role.CUSTOMER_READ_ONLY, email="ro@existing.example")
    return org, full, full2, ro


def request(world, email, **kw):
    return trial_request_existing_org(
        partner=world.partner,
        actor=world.sales_admin,
        admin_email=email,
        services=kw.pop("services", MSG),
        devices=kw.pop("devices", []),
        length_days=30,
    )


def test_T3_consent_email_goes_to_the_full_admin_only(world, existing):
    org, full, _, _ = existing
    consent = request(world, full.email)
    assert sorted(OutboxEmail.objects.values_list("to_email", flat=True)) == [full.email]
    trial = consent.trial
    assert trial.state == SubscriptionState.PENDING
    assert set(trial.services.values_list("provisioning_status", flat=True)) == {
        ProvisioningStatus.PENDING_CONSENT
    }
    assert consent.expires_at == consent.requested_at + timedelta(days=10)
    # no access to the org before consent: no relationship yet
    assert not CustomerRelationship.objects.filter(partner=world.partner, customer=org).exists()


def test_T3_not_a_full_admin_the_email_also_goes_to_every_full_admin(world, existing):
    _org, full, full2, ro = existing
    request(world, ro.email)
    assert sorted(OutboxEmail.objects.values_list("to_email", flat=True)) == sorted(
        [ro.email, full.email, full2.email]
    )
    email = OutboxEmail.objects.get(to_email=ro.email)
    assert "Existing Org" in email.body_text
    assert "Acme Resellers" in email.subject


def test_T3_resend_owes_the_emails_again_and_cancel_takes_the_customer_off_the_list(
    client, world, existing
):
    _org, full, _, _ = existing
    consent = request(world, full.email)
    assert consent_resend(consent=consent, actor=world.sales_admin) == 1
    assert OutboxEmail.objects.filter(to_email=full.email).count() == 2
    client.force_login(world.sales_admin)
    assert "Existing Org" in client.get("/partner/customers/").content.decode()
    consent_cancel(consent=consent, actor=world.sales_admin)
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.CANCELLED
    assert Subscription.objects.get(pk=consent.trial_id).state == SubscriptionState.CANCELLED
    assert "Existing Org" not in client.get("/partner/customers/").content.decode()
    with pytest.raises(ValidationError):
        consent_resend(consent=consent, actor=world.sales_admin)


def test_T3_refuses_own_customer_unknown_email_and_a_second_request(world, existing):
    _, full, _, _ = existing
    with pytest.raises(ValidationError):
        request(world, "boss@paid.example")  # already our customer
    with pytest.raises(ValidationError):
        request(world, "nobody@nowhere.example")
    request(world, full.email)
    with pytest.raises(ValidationError):
        request(world, full.email)


def test_T4_only_services_not_bought_and_not_trialled_by_another_partner(world, existing):
    org, full, _, _ = existing
    make_subscription(customer=org, partner=None, services={ServiceType.MESSAGING: 5})
    make_subscription(
        customer=org,
        partner=world.other_partner,
        kind=SubscriptionKind.TRIAL,
        services={ServiceType.CALLING: 5},
    )
    for taken in (ServiceType.MESSAGING, ServiceType.CALLING):
        with pytest.raises(ValidationError, match="Already bought or trialled"):
            request(world, full.email, services=[ServiceSpec(type=taken, quantity=1)])
    consent = request(world, full.email, services=[ServiceSpec(type="meetings", quantity=1)])
    assert consent.trial.services.get().type == ServiceType.MEETINGS


def test_T5_trial_for_a_paid_customer_emails_every_admin(world):
    org = world.customer_paid
    make_user(org=org, role=Role.CUSTOMER_READ_ONLY, email="ro@paid.example")
    with pytest.raises(
        ValidationError, match="Already bought or trialled"
    ):  # Messaging is bought already
        trial_add_to_customer(
            partner=world.partner,
            actor=world.sales_admin,
            customer=org,
            services=MSG,
            devices=[],
            length_days=30,
        )
    trial = trial_add_to_customer(
        partner=world.partner,
        actor=world.sales_admin,
        customer=org,
        services=[ServiceSpec(type=ServiceType.MEETINGS, quantity=3)],
        devices=[],
        length_days=30,
    )
    assert trial.state == SubscriptionState.ACTIVE
    sent = OutboxEmail.objects.filter(kind="trial_started")
    assert sorted(sent.values_list("to_email", flat=True)) == [
        "boss@paid.example",
        "ro@paid.example",
    ]
    assert "Paid Co" in sent.first().body_text


def test_T8_add_and_remove_services(world):
    trial = start(world)
    trial_services_change(
        trial=trial,
        actor=world.sales_admin,
        add=[ServiceSpec(type=ServiceType.CALLING, quantity=5)],
        remove=[ServiceType.MESSAGING],
    )
    assert list(trial.services.values_list("type", flat=True)) == [ServiceType.CALLING]
    with pytest.raises(ValidationError, match="at least one"):
        trial_services_change(
            trial=trial, actor=world.sales_admin, add=[], remove=[ServiceType.CALLING]
        )
    trial_services_change(
        trial=trial,
        actor=world.sales_admin,
        add=[ServiceSpec(type=ServiceType.DEVICES, quantity=1)],
        remove=[],
        devices=[DeviceOrder(DeviceType.BOARD, 1)],
    )
    with pytest.raises(ValidationError, match="ships once"):
        trial_services_change(
            trial=trial,
            actor=world.sales_admin,
            add=[],
            remove=[],
            devices=[DeviceOrder(DeviceType.BOARD, 1)],
        )


def test_T6_extension_counts_from_today_and_may_shorten(world):
    with time_machine.travel(date(2026, 3, 1), tick=False):
        trial = start(world, length_days=90)  # ends 2026-05-30
    with time_machine.travel(date(2026, 3, 26), tick=False):  # 65 days left
        result = trial_extend(trial=trial, actor=world.sales_admin, days=30)
    assert result.end_date == date(2026, 4, 25)  # today + 30, not 65 + 30
    assert result.extension_request is None
    trial.refresh_from_db()
    assert trial.end_date == date(2026, 4, 25)


def test_T6_extension_reactivates_a_trial_in_its_grace_period(world):
    trial = start(world)
    Subscription.objects.filter(pk=trial.pk).update(
        state=SubscriptionState.SUSPENDED,
        end_date=timezone.localdate() - timedelta(days=2),
        start_date=timezone.localdate() - timedelta(days=32),
        period_end_date=timezone.localdate() + timedelta(days=28),
    )
    trial.refresh_from_db()
    trial_extend(trial=trial, actor=world.sales_admin, days=60)
    trial.refresh_from_db()
    assert trial.state == SubscriptionState.ACTIVE
    assert trial.period_end_date is None


def test_T7_every_device_trial_extension_is_a_request_support_decides(world):
    """T7, seed 002: "試用延伸一律由試用團隊核准" — trial extensions are always approved by the
    trial team. Before issue 10 only extensions past 120 days became requests; an extension
    inside the cap was applied at once."""
    staff = make_user(org=None, is_staff=True)
    with time_machine.travel(date(2026, 1, 1), tick=False):
        trial = start(
            world,
            services=[ServiceSpec(type=ServiceType.DEVICES, quantity=1)],
            devices=[DeviceOrder(DeviceType.HEADSET, 1)],
            length_days=90,
        )
    with time_machine.travel(date(2026, 3, 15), tick=False):
        result = trial_extend(trial=trial, actor=world.sales_admin, days=30)  # → Apr 14 < cap
        assert result.extension_request is not None
        trial.refresh_from_db()
        assert trial.end_date == date(2026, 4, 1)  # unchanged until support decides
        with pytest.raises(ValidationError):
            trial_extend(trial=trial, actor=world.sales_admin, days=30)
        with pytest.raises(PermissionDenied):
            extension_request_decide(
                extension_request=result.extension_request, actor=world.sales_admin, approve=True
            )
        decided = extension_request_decide(
            extension_request=result.extension_request, actor=staff, approve=True
        )
    assert decided.status == ExtensionStatus.APPROVED
    trial.refresh_from_db()
    assert trial.end_date == date(2026, 4, 14)
    shipment = DeviceShipment.objects.get(trial=trial)
    # T14: the agreement (EULA) date was fixed at shipment; the extension does not move it.
    assert shipment.agreement_end_date == date(2026, 4, 1)
    assert shipment.return_due_date == date(2026, 3, 18)


def test_T7_device_trial_cannot_go_past_120_days_in_all(world):
    with time_machine.travel(date(2026, 1, 1), tick=False):
        trial = start(
            world,
            services=[ServiceSpec(type=ServiceType.DEVICES, quantity=1)],
            devices=[DeviceOrder(DeviceType.HEADSET, 1)],
            length_days=90,
        )
    with (
        time_machine.travel(date(2026, 3, 15), tick=False),
        pytest.raises(ValidationError, match="at most 120 days"),
    ):
        trial_extend(trial=trial, actor=world.sales_admin, days=90)  # → June 13 > May 1
    assert not ExtensionRequest.objects.exists()


def test_T7_refused_extension_leaves_the_trial_alone(world):
    staff = make_user(org=None, is_staff=True)
    with time_machine.travel(date(2026, 1, 1), tick=False):
        trial = start(
            world,
            services=[ServiceSpec(type=ServiceType.DEVICES, quantity=1)],
            devices=[DeviceOrder(DeviceType.HEADSET, 1)],
            length_days=90,
        )
    with time_machine.travel(date(2026, 3, 15), tick=False):
        request_ = trial_extend(trial=trial, actor=world.sales_admin, days=30).extension_request
        extension_request_decide(extension_request=request_, actor=staff, approve=False)
    trial.refresh_from_db()
    assert trial.end_date == date(2026, 4, 1)


def test_T10_delete_cancels_the_trial_and_keeps_devices_tracked(world):
    trial = start(
        world,
        services=[ServiceSpec(type=ServiceType.DEVICES, quantity=1)],
        devices=[DeviceOrder(DeviceType.HEADSET, 1)],
    )
    trial_delete(trial=trial, actor=world.sales_admin)
    trial.refresh_from_db()
    assert trial.state == SubscriptionState.CANCELLED
    assert DeviceShipment.objects.get(trial=trial).devices.count() == 1
    with pytest.raises(ValidationError):
        trial_delete(trial=trial, actor=world.sales_admin)
    assert AuditEntry.objects.filter(action="trial.delete").exists()


def test_D6_starting_a_trial_removes_the_deletion_mark(world):
    org = world.customer_marked
    trial_add_to_customer(
        partner=world.partner,
        actor=world.sales_admin,
        customer=org,
        services=MSG,
        devices=[],
        length_days=30,
    )
    org.refresh_from_db()
    assert org.deletion_marked_at is None


def test_band_cache_is_cleared_by_a_trial_change(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.sales_admin)
    before = {i["key"]: i["count"] for i in client.get("/partner/customers/").context["summary"]}
    with django_capture_on_commit_callbacks(execute=True):
        trial_add_to_customer(
            partner=world.partner,
            actor=world.sales_admin,
            customer=world.customer_marked,
            services=MSG,
            devices=[],
            length_days=30,
        )
    after = {i["key"]: i["count"] for i in client.get("/partner/customers/").context["summary"]}
    assert after["to_be_deleted"] == before["to_be_deleted"] - 1
    assert after["trial_expiring_30"] == before["trial_expiring_30"] + 1


def test_services_are_never_saved_for_another_partners_trial(world):
    theirs = Subscription.objects.get(customer=world.other_customer)
    with pytest.raises(PermissionDenied):
        trial_extend(trial=theirs, actor=world.sales_admin, days=30)
    with pytest.raises(PermissionDenied):
        trial_delete(trial=theirs, actor=world.sales_admin)
    assert Service.objects.filter(subscription=theirs).count() == 1
    assert PartnerAccess.FULL_ADMIN  # enum still importable for readers


def test_T3_devices_wait_for_the_consent_then_ship_once(world, existing):
    from trials.services import trial_devices_ship

    _org, full, _, _ = existing
    consent = request(
        world,
        full.email,
        services=[ServiceSpec(type=ServiceType.DEVICES, quantity=3)],
        devices=[DeviceOrder(DeviceType.DESK_PHONE, 3)],
    )
    shipment = DeviceShipment.objects.get(trial=consent.trial)
    assert shipment.shipped_at is None
    assert shipment.devices.count() == 0
    assert trial_devices_ship(trial=consent.trial) == 3
    assert trial_devices_ship(trial=consent.trial) == 0
    shipment.refresh_from_db()
    assert shipment.shipped_at is not None
    assert shipment.devices.count() == 3
