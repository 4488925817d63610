"""Support staff enter orders in the Django admin; saving goes through order_place (W1)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from licensing.choices import OrderPurpose, OrderStatus, ServiceType
from licensing.models import Order
from licensing.orders import OrderLineSpec, order_place
from partnerhub.accounts.models import AuditEntry
from partnerhub.core.models import OutboxEmail
from tests.factories import listed_facts_changed, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = make_user(
        org=None, email="support@partnerhub.example", is_staff=True, is_superuser=True
    )
    client.force_login(staff)
    return client


def inline(prefix: str = "lines", rows: list[tuple[str, str]] | None = None) -> dict[str, str]:
    rows = rows or []
    data = {
        f"{prefix}-TOTAL_FORMS": str(max(len(rows), 2)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, (service, quantity) in enumerate(rows):
        data[f"{prefix}-{i}-service_type"] = service
        data[f"{prefix}-{i}-quantity"] = quantity
    return data


def test_W1_staff_order_in_admin_is_placed_through_the_service(staff_client):
    response = staff_client.post(
        reverse("admin:licensing_order_add"),
        {
            "purpose": OrderPurpose.CUSTOMER_SELF,
            "provisioning_contact_email": "buyer@newco.example",
            "term_months": "12",
            **inline(rows=[("meetings", "25"), ("messaging", "25")]),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    order = Order.objects.get()
    assert order.number.startswith("ORD-")
    assert order.link_expires_at is not None
    assert order.lines.count() == 2
    assert (
        OutboxEmail.objects.filter(kind="order_setup_link", to_email="buyer@newco.example").count()
        == 1
    )
    assert AuditEntry.objects.filter(action="order.place", target=order.number).exists()
    change = staff_client.get(reverse("admin:licensing_order_change", args=[order.pk]))
    assert change.status_code == 200


def test_W1_admin_order_without_lines_is_a_form_error(staff_client):
    response = staff_client.post(
        reverse("admin:licensing_order_add"),
        {
            "purpose": OrderPurpose.CUSTOMER_SELF,
            "provisioning_contact_email": "buyer@newco.example",
            "term_months": "12",
            **inline(),
        },
    )
    assert response.status_code == 200
    assert b"at least one service" in response.content
    assert not Order.objects.exists()


def test_T12_admin_refuses_a_trial_that_cannot_convert_with_a_message(staff_client, trial_world):
    trial = trial_world["trial"]
    trial.state = "cancelled"
    trial.save()
    listed_facts_changed(trial.customer_id)
    response = staff_client.post(
        reverse("admin:licensing_order_add"),
        {
            "purpose": OrderPurpose.PARTNER_FOR_CUSTOMER,
            "trial": str(trial.pk),
            "provisioning_contact_email": "anna@nordicwidgets.dk",
            "term_months": "12",
            **inline(rows=[("messaging", "10")]),
        },
    )
    assert response.status_code == 200
    assert b"can no longer be converted" in response.content
    assert not Order.objects.exists()


def test_W1_resend_action_sends_a_new_link(staff_client):
    order = order_place(
        lines=[OrderLineSpec(service_type=ServiceType.CALLING, quantity=3)],
        provisioning_contact_email="buyer@newco.example",
    )
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        response = staff_client.post(
            reverse("admin:licensing_order_changelist"),
            {"action": "resend_setup_link", "_selected_action": [str(order.pk)]},
        )
    assert response.status_code == 302
    assert OutboxEmail.objects.filter(kind="order_setup_link").count() == 2
    assert AuditEntry.objects.filter(action="order.link_resend").exists()


def test_admin_cancel_action(staff_client):
    order = order_place(
        lines=[OrderLineSpec(service_type=ServiceType.CALLING, quantity=3)],
        provisioning_contact_email="buyer@newco.example",
    )
    staff_client.post(
        reverse("admin:licensing_order_changelist"),
        {"action": "cancel_orders", "_selected_action": [str(order.pk)]},
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_admin_order_pages_render(staff_client):
    assert staff_client.get(reverse("admin:licensing_order_add")).status_code == 200
    assert staff_client.get(reverse("admin:licensing_order_changelist")).status_code == 200
