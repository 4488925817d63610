"""Issue 10's "done when": a new customer's life closes by itself — trial start, automatic
provisioning, the Calling location entered in Control Hub, the welcome email, conversion (T9),
expiry and suspension (S1), renewal (S3) — with every user keeping their licenses and calling
data, and no support click. Days pass through time_machine and the lifecycle tick."""

from __future__ import annotations

import pytest
from django.urls import reverse

from licensing.calling import is_assignable
from licensing.choices import ProvisioningStatus, ServiceType, SubscriptionState
from licensing.lifecycle import RENEWAL_PERIOD_DAYS
from licensing.models import CallingProfile, License, Subscription
from licensing.orders import OrderLineSpec, order_place, order_setup_complete
from licensing.provisioning import RELAY_GRACE, services_due_for_provisioning
from licensing.services import ServiceSpec
from licensing.tasks import service_provision_task
from partnerhub.accounts.choices import PartnerTier, Role
from partnerhub.accounts.models import AuditEntry, User
from partnerhub.core.models import OutboxEmail
from tests.factories import assign, make_partner, make_user
from trials.services import trial_start_new_customer

pytestmark = pytest.mark.django_db

LOCATION = {
    "calling-location_name": "Head office",
    "calling-address_line": "Storgatan 1",
    "calling-city": "Stockholm",
    "calling-postal_code": "111 22",
    "calling-country": "SE",
}
LINES = [
    OrderLineSpec(service_type=ServiceType.MESSAGING, quantity=10),
    OrderLineSpec(service_type=ServiceType.CALLING, quantity=10),
]


def _holdings(org_id: int) -> list[tuple[int, str, str]]:
    return sorted(
        License.objects.filter(user__org_id=org_id).values_list("pk", "user__email", "service_type")
    )


def test_a_new_customer_goes_from_trial_to_renewed_paid_with_no_support_click(client, clock):
    clock.go(0)
    partner = make_partner(name="Fjord Resellers", tier=PartnerTier.TIER_1)
    seller = make_user(org=partner, role=Role.SALES_ADMIN, email="sam@fjord.example")
    trial = trial_start_new_customer(
        partner=partner,
        actor=seller,
        company_name="Nordic Widgets",
        admin_email="admin@nordic.example",
        vertical="retail",
        country="SE",
        services=[
            ServiceSpec(type=ServiceType.MESSAGING, quantity=10),
            ServiceSpec(type=ServiceType.CALLING, quantity=10),
        ],
        devices=[],
        length_days=30,
    )
    org_id = trial.customer_id

    # P1: the worker provisions Messaging; Calling waits for a location in Control Hub.
    for service_id in services_due_for_provisioning(now=clock.at(0) + RELAY_GRACE):
        service_provision_task(service_id)
    admin = User.objects.get(email="admin@nordic.example")
    client.force_login(admin)
    provision_url = reverse("controlhub:trial_provision", kwargs={"org_pk": org_id, "pk": trial.pk})
    assert client.post(provision_url, LOCATION).status_code == 302
    calling = trial.services.get(type=ServiceType.CALLING)
    assert service_provision_task(calling.pk) == ProvisioningStatus.PROVISIONED
    assert OutboxEmail.objects.filter(kind="trial_welcome", to_email=admin.email).count() == 1
    assert all(is_assignable(s) for s in trial.services.select_related("subscription"))

    # Users get licenses; Calling users get calling data (C1).
    users = [admin, *(make_user(org=admin.org, role=Role.USER) for _ in range(3))]
    for user in users:
        assign(user=user, subscription=trial, service_type=ServiceType.MESSAGING)
        assign(user=user, subscription=trial, service_type=ServiceType.CALLING)
    holdings = _holdings(org_id)
    calling_data = sorted(
        CallingProfile.objects.filter(user__org_id=org_id).values_list("user_id", "voicemail_pin")
    )
    clock.tick(1)

    # T9: converted on day 25 with every service, the partner as provisioning contact.
    clock.tick(25)
    order = order_place(
        lines=LINES, provisioning_contact_email=seller.email, trial=trial, placed_by=seller
    )
    result = order_setup_complete(
        order=order, org=admin.org, company_name="Nordic Widgets", admin_email=admin.email
    )
    assert result.converted
    paid = Subscription.objects.get(pk=result.order.subscription_id)
    assert _holdings(org_id) == holdings

    # S1: the paid term runs out; its licenses are suspended for 60 days, not removed.
    end_day = (paid.end_date - clock.at(0).date()).days
    clock.tick(40)
    clock.tick(end_day + 1)
    paid.refresh_from_db()
    assert paid.state == SubscriptionState.SUSPENDED
    assert _holdings(org_id) == holdings

    # S3: the partner renews in the period's last days; everything stays in place.
    clock.tick(end_day + RENEWAL_PERIOD_DAYS - 2)
    order_place(lines=LINES, provisioning_contact_email=seller.email, renews=paid, placed_by=seller)
    clock.tick(end_day + RENEWAL_PERIOD_DAYS + 1)
    paid.refresh_from_db()
    assert paid.state == SubscriptionState.ACTIVE
    assert paid.end_date > clock.at(end_day + 300).date()
    assert _holdings(org_id) == holdings
    assert (
        sorted(
            CallingProfile.objects.filter(user__org_id=org_id).values_list(
                "user_id", "voicemail_pin"
            )
        )
        == calling_data
    )
    # Nobody from support acted: every audited change was the partner, the customer, the
    # worker or the tick.
    assert not AuditEntry.objects.filter(actor__is_staff=True).exists()
