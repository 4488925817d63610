"""T1/T9: the partner's conversion page and order page; tenants never leak."""

from __future__ import annotations

import pytest
from django.urls import reverse

from licensing.choices import OrderStatus, SubscriptionKind
from licensing.models import Order
from partnerhub.accounts.choices import PartnerTier, Role
from partnerhub.core.models import OutboxEmail
from tests.factories import make_customer, make_partner, make_subscription, make_user

pytestmark = pytest.mark.django_db


def convert_url(trial) -> str:
    return reverse("licensing:trial_convert", kwargs={"trial_pk": trial.pk})


def test_T9_convert_page_prefills_every_trial_service_and_the_partner_as_contact(
    client, trial_world
):
    """T9 (seed 002): the partner is suggested as provisioning contact, so that every service
    converts correctly; the order starts with every trial service."""
    client.force_login(trial_world["seller"])
    page = client.get(convert_url(trial_world["trial"]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Nordic Widgets" in body
    assert 'value="sam@fjord.example"' in body
    assert 'name="qty_messaging" value="10"' in body
    assert 'name="qty_calling" value="5"' in body


def test_T9_partner_places_the_order_from_the_convert_page(client, trial_world):
    client.force_login(trial_world["seller"])
    response = client.post(
        convert_url(trial_world["trial"]),
        {
            "provisioning_contact_email": "anna@nordicwidgets.dk",
            "term_months": "24",
            "qty_messaging": "12",
            "qty_calling": "5",
            "qty_meetings": "0",
        },
    )
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("licensing:order_detail", kwargs={"order_pk": order.pk})
    assert order.trial == trial_world["trial"]
    assert order.term_months == 24
    assert order.placed_by == trial_world["seller"]
    assert OutboxEmail.objects.filter(to_email="anna@nordicwidgets.dk").exists()
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert order.number in detail.content.decode()
    # The partner can send a fresh link.
    resend = client.post(reverse("licensing:order_link_resend", kwargs={"order_pk": order.pk}))
    assert resend.status_code == 302


def test_T9_convert_page_needs_a_quantity(client, trial_world):
    client.force_login(trial_world["seller"])
    response = client.post(
        convert_url(trial_world["trial"]),
        {"provisioning_contact_email": "anna@nordicwidgets.dk", "term_months": "12"},
    )
    assert response.status_code == 400
    assert b"at least one license" in response.content
    assert not Order.objects.exists()


def test_T9_tier_2_partner_is_told_to_use_its_distributor(client):
    partner = make_partner(name="Second Tier", tier=PartnerTier.TIER_2)
    seller = make_user(org=partner, role=Role.SALES_FULL_ADMIN)
    org = make_customer(name="Tiny Co", partner=partner)
    trial = make_subscription(customer=org, partner=partner, kind=SubscriptionKind.TRIAL)
    client.force_login(seller)
    page = client.get(convert_url(trial))
    assert page.status_code == 200
    assert b"distributor" in page.content
    assert b"Place order" not in page.content
    refused = client.post(
        convert_url(trial),
        {"provisioning_contact_email": "a@tiny.example", "term_months": "12", "qty_messaging": "3"},
    )
    assert refused.status_code == 400
    assert b"distributor" in refused.content
    assert not Order.objects.exists()


@pytest.mark.parametrize("role", [Role.PARTNER_READ_ONLY, Role.PARTNER_FULL_ADMIN])
def test_T1_only_sales_admins_convert(client, trial_world, role):
    user = make_user(org=trial_world["partner"], role=role)
    client.force_login(user)
    assert client.get(convert_url(trial_world["trial"])).status_code == 403


def test_tenant_another_partners_trial_and_order_are_404(client, trial_world):
    other = make_partner(name="Other Partner")
    outsider = make_user(org=other, role=Role.SALES_ADMIN)
    client.force_login(trial_world["seller"])
    client.post(
        convert_url(trial_world["trial"]),
        {
            "provisioning_contact_email": "a@nordicwidgets.dk",
            "term_months": "12",
            "qty_messaging": "2",
            "qty_calling": "1",
        },
    )
    order = Order.objects.get()
    client.force_login(outsider)
    assert client.get(convert_url(trial_world["trial"])).status_code == 404
    detail = reverse("licensing:order_detail", kwargs={"order_pk": order.pk})
    assert client.get(detail).status_code == 404
    resend = reverse("licensing:order_link_resend", kwargs={"order_pk": order.pk})
    assert client.post(resend).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED


def test_convert_page_of_a_paid_subscription_is_404(client, trial_world):
    paid = make_subscription(customer=trial_world["org"], partner=trial_world["partner"])
    client.force_login(trial_world["seller"])
    assert client.get(convert_url(paid)).status_code == 404


def test_sign_in_required(client, trial_world):
    response = client.get(convert_url(trial_world["trial"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
