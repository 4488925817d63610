"""Errors that help (issue 13): branded 400/403/404/500 pages that say why and what to do, and
Django's debug pages never reach a user when DEBUG is off (production and tests)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import bad_request, server_error

from licensing.choices import SubscriptionKind
from partnerhub.accounts.choices import PartnerTier, Role
from tests.factories import make_partner, make_subscription, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_debug(settings):
    settings.DEBUG = False


def test_T1_read_only_change_is_a_branded_403_that_says_why(client, world):
    client.force_login(world.read_only)
    response = client.post(reverse("trials:trial_start"), {})
    assert response.status_code == 403
    html = response.content.decode()
    assert 'id="error-reason"' in html
    assert "read-only admin" in html
    assert "What you can do" in html
    assert "<title>Not allowed" in html


def test_T1_partner_full_admin_is_told_why_there_is_no_start_button(client, world):
    client.force_login(world.partner_full_admin)
    listing = client.get(reverse("customers:customer_list")).content.decode()
    assert "Start a trial" not in listing
    assert 'id="actions-note"' in listing
    assert "Only sales admins and sales full admins start or change trials" in listing
    refused = client.get(reverse("trials:trial_start"))
    assert refused.status_code == 403
    assert "Only sales admins and sales full admins" in refused.content.decode()


def test_non_certified_partner_lands_on_a_page_that_explains(client):
    partner = make_partner(name="Tailspin", certified=False, tier=None)
    admin = make_user(org=partner, role=Role.PARTNER_FULL_ADMIN, email="a@tailspin.example")
    client.force_login(admin)
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert 'id="not-certified"' in home.content.decode()
    listing = client.get(reverse("customers:customer_list"))
    assert listing.status_code == 403
    assert "not a certified partner" in listing.content.decode()


def test_T9_tier_2_partner_on_a_convert_url_not_theirs_gets_a_branded_404(client, world):
    tier2 = make_partner(name="Second Tier", tier=PartnerTier.TIER_2)
    sales = make_user(org=tier2, role=Role.SALES_ADMIN, email="s@second.example")
    trial = make_subscription(
        customer=world.customer_trial, partner=world.partner, kind=SubscriptionKind.TRIAL
    )
    client.force_login(sales)
    response = client.get(reverse("licensing:trial_convert", kwargs={"trial_pk": trial.pk}))
    assert response.status_code == 404
    html = response.content.decode()
    assert "This page does not exist" in html
    assert "belongs to an organization you do not work for" in html
    assert "URLconf" not in html


def test_unknown_address_is_the_branded_404_not_the_debug_page(client, world):
    client.force_login(world.sales_admin)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "This page does not exist" in html
    assert "Page not found at" not in html  # Django's technical 404


def test_500_and_400_pages_are_branded_and_need_no_request_context():
    request = RequestFactory().get("/")
    failed = server_error(request)
    assert failed.status_code == 500
    assert "Something went wrong on our side" in failed.content.decode()
    bad = bad_request(request, exception=ValueError("x"))
    assert bad.status_code == 400
    assert "could not be understood" in bad.content.decode()


def test_production_settings_never_debug():
    import ast
    from pathlib import Path

    source = Path("partnerhub/settings/production.py").read_text()
    assignments = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "DEBUG" for t in node.targets)
    ]
    assert [ast.literal_eval(a.value) for a in assignments] == [False]
