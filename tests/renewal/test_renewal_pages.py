"""The partner's renew page and the conversion page's confirmation (S3, T9), and support's
renewal in the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from licensing.choices import OrderStatus, SubscriptionState
from licensing.models import License, Order
from partnerhub.accounts.choices import PartnerTier, Role
from tests.factories import make_partner, make_user
from tests.wizard.test_admin import inline

pytestmark = pytest.mark.django_db


def renew_url(sub) -> str:
    return reverse("licensing:subscription_renew", kwargs={"subscription_pk": sub.pk})


def test_S3_customer_page_shows_the_suspended_subscription_with_its_deadline_and_renew(
    client, paid_world
):
    paid = paid_world["paid"]
    client.force_login(paid_world["seller"])
    body = client.get(
        reverse("customers:customer_detail", args=[paid_world["org"].pk])
    ).content.decode()
    assert 'data-testid="suspended"' in body
    assert 'data-testid="renewal-deadline"' in body
    assert renew_url(paid) in body


def test_S3_partner_renews_from_the_renew_page(client, paid_world):
    paid = paid_world["paid"]
    client.force_login(paid_world["seller"])
    page = client.get(renew_url(paid))
    assert page.status_code == 200
    assert b'name="qty_messaging" value="10"' in page.content
    assert b'data-testid="renew-deadline"' in page.content
    response = client.post(
        renew_url(paid),
        {
            "provisioning_contact_email": "sam@fjord.example",
            "term_months": "12",
            "qty_messaging": "10",
            "qty_calling": "5",
        },
    )
    assert response.status_code == 302
    paid.refresh_from_db()
    assert paid.state == SubscriptionState.ACTIVE
    assert License.objects.filter(service__subscription=paid).count() == 3


def test_S3_renew_page_refuses_an_order_that_drops_licenses_and_changes_nothing(client, paid_world):
    paid = paid_world["paid"]
    client.force_login(paid_world["seller"])
    response = client.post(
        renew_url(paid),
        {
            "provisioning_contact_email": "sam@fjord.example",
            "term_months": "12",
            "qty_messaging": "1",
            "qty_calling": "0",
        },
    )
    assert response.status_code == 400
    assert b"Messaging: 2 users hold a license" in response.content
    assert b"Calling is left out" in response.content
    paid.refresh_from_db()
    assert paid.state == SubscriptionState.SUSPENDED
    assert not Order.objects.exists()


def test_S3_tier_2_partner_is_sent_to_its_distributor_on_the_customer_page(client, paid_world):
    paid_world["partner"].partner_tier = PartnerTier.TIER_2
    paid_world["partner"].save(update_fields=["partner_tier"])
    client.force_login(paid_world["seller"])
    body = client.get(
        reverse("customers:customer_detail", args=[paid_world["org"].pk])
    ).content.decode()
    assert 'data-testid="tier2-renew"' in body
    assert renew_url(paid_world["paid"]) not in body


def test_tenant_another_partners_subscription_renew_page_is_404(client, paid_world):
    other = make_partner(name="Other")
    client.force_login(make_user(org=other, role=Role.SALES_ADMIN))
    assert client.get(renew_url(paid_world["paid"])).status_code == 404


def test_T9_convert_page_lists_the_users_losing_a_left_out_service_and_asks_to_confirm(
    client, mm_trial
):
    trial = mm_trial["trial"]
    url = reverse("licensing:trial_convert", kwargs={"trial_pk": trial.pk})
    client.force_login(mm_trial["seller"])
    data = {
        "provisioning_contact_email": "sam@fjord.example",
        "term_months": "12",
        "qty_meetings": "5",
        "qty_messaging": "0",
    }
    first = client.post(url, data)
    assert first.status_code == 400
    body = first.content.decode()
    assert 'data-testid="left-out"' in body
    for user in mm_trial["users"]:
        assert user.email in body
    assert not Order.objects.exists()
    confirmed = client.post(url, {**data, "confirm_left_out": "on"})
    assert confirmed.status_code == 302
    order = Order.objects.get()
    assert order.dropped_services == ["messaging"]


def test_S3_support_renews_in_the_admin_and_a_bad_renewal_is_a_form_error(client, paid_world):
    staff = make_user(
        org=None, email="support@partnerhub.example", is_staff=True, is_superuser=True
    )
    client.force_login(staff)
    paid = paid_world["paid"]
    base = {
        "purpose": "partner_for_customer",
        "renews": str(paid.pk),
        "provisioning_contact_email": "support@partnerhub.example",
        "term_months": "12",
    }
    bad = client.post(
        reverse("admin:licensing_order_add"), {**base, **inline(rows=[("messaging", "10")])}
    )
    assert bad.status_code == 200
    assert b"Calling is left out" in bad.content
    assert not Order.objects.exists()
    good = client.post(
        reverse("admin:licensing_order_add"),
        {**base, **inline(rows=[("messaging", "10"), ("calling", "5")])},
    )
    assert good.status_code == 302
    assert Order.objects.get().status == OrderStatus.COMPLETED
    paid.refresh_from_db()
    assert paid.state == SubscriptionState.ACTIVE
