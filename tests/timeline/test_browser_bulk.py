"""Issue 16, done when: a bulk extension of three trials shows the preview and applies (T6: the
new end is today + the period picked)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import formats

from licensing.choices import ServiceType, SubscriptionKind
from licensing.models import Subscription
from partnerhub.accounts.choices import Role
from partnerhub.core.clock import business_today
from tests.conftest import browser_login
from tests.factories import PASSWORD, make_customer, make_partner, make_subscription, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_T6_a_bulk_extension_of_three_trials_shows_the_preview_and_applies(page):
    today = business_today()
    partner = make_partner(name="Acme Resellers")
    make_user(org=partner, role=Role.SALES_ADMIN, email="sam@acme.example")
    orgs = []
    for name in ("Alpha Co", "Beta Co", "Gamma Co"):
        org = make_customer(name=name, partner=partner)
        make_subscription(
            customer=org,
            partner=partner,
            kind=SubscriptionKind.TRIAL,
            start=today - timedelta(days=25),
            end=today + timedelta(days=5),
            services={ServiceType.MEETINGS: 5},
        )
        orgs.append(org)
    make_customer(name="Delta Co", partner=partner)  # not ticked
    browser_login(page, "sam@acme.example", PASSWORD)
    page.goto("/partner/customers/?view=all")
    for org in orgs:
        page.check(f"input.bulk-pick[value='{org.pk}']")
    page.select_option("#bulk-days", "60")
    page.click("#bulk-extend")
    page.wait_for_load_state()
    lines = page.locator("[data-testid=bulk-line]")
    assert lines.count() == 3
    new_end = formats.date_format(today + timedelta(days=60), "DATE_FORMAT")
    assert all(new_end in text for text in lines.all_inner_texts())
    assert Subscription.objects.filter(end_date=today + timedelta(days=5)).count() == 3

    page.click("#bulk-apply")
    page.wait_for_load_state()
    assert "3 trials extended." in page.locator("body").inner_text()
    assert Subscription.objects.filter(end_date=today + timedelta(days=60)).count() == 3
