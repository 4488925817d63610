"""What a partner admin clicks, in a real (headless Debian) Chromium."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from licensing.choices import ProvisioningStatus, ServiceType, SubscriptionKind
from partnerhub.accounts.choices import Role
from tests.conftest import browser_login
from tests.factories import PASSWORD, make_customer, make_partner, make_subscription, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def partner_world():
    today = timezone.localdate()
    partner = make_partner(name="Acme Resellers")
    sales = make_user(org=partner, role=Role.SALES_ADMIN, email="sam@acme.example")
    reader = make_user(org=partner, role=Role.PARTNER_READ_ONLY, email="rob@acme.example")
    dying = make_customer(
        name="Fading Trial Co",
        partner=partner,
        deletion_marked_at=timezone.now() - timedelta(days=2),
    )
    make_user(org=dying, role=Role.CUSTOMER_FULL_ADMIN, email="it@fading.example")
    make_subscription(
        customer=dying,
        partner=partner,
        kind=SubscriptionKind.TRIAL,
        start=today - timedelta(days=60),
        end=today + timedelta(days=12),
        services={ServiceType.MESSAGING: 5},
        status=ProvisioningStatus.PROVISIONED,
    )
    # marked but no expiring trial, and an expiring trial not marked: filtered out
    make_customer(
        name="Sleepy Co", partner=partner, deletion_marked_at=timezone.now() - timedelta(days=2)
    )
    busy = make_customer(name="Busy Trial Co", partner=partner)
    make_subscription(
        customer=busy,
        partner=partner,
        kind=SubscriptionKind.TRIAL,
        end=today + timedelta(days=5),
    )
    return {"sales": sales, "reader": reader, "dying": dying}


def test_sales_admin_filters_opens_starts_and_extends(page, partner_world):
    browser_login(page, "sam@acme.example", PASSWORD)
    assert page.url.endswith("/partner/customers/dashboard/")  # the landing page (issue 16)
    page.goto("/partner/customers/")
    page.check("input[name=to_be_deleted]")
    page.check("input[name=subscription_status][value=trial_expiring_30]")
    page.click("#filter-form button[type=submit]")
    page.wait_for_load_state()
    assert "to_be_deleted=on" in page.url
    assert "subscription_status=trial_expiring_30" in page.url
    rows = page.locator("#customer-table tbody tr")
    assert rows.count() == 1
    assert "Fading Trial Co" in rows.first.inner_text()
    assert "To be deleted" in rows.first.inner_text()
    assert "12 days left" in rows.first.inner_text()

    page.click("text=Fading Trial Co")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Fading Trial Co")
    assert page.locator("#deletion-countdown").is_visible()

    page.goto("/partner/customers/")
    page.click("text=Start a trial")
    page.fill("#id_company_name", "Browser Born Ltd")
    page.fill("#id_admin_email", "it@browserborn.example")
    page.select_option("#id_vertical", "technology")
    page.select_option("#id_country", "SE")
    page.check("#id_messaging")
    page.check("#id_devices")
    page.select_option("#id_dev-0-device_type", "desk_phone")
    page.fill("#id_dev-0-quantity", "2")
    page.select_option("#id_length", "30")
    page.click("button.primary[type=submit]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Browser Born Ltd")
    assert "Trial started" in page.locator(".messages").inner_text()
    assert page.locator("#devices tbody tr").count() == 2  # two serial numbers tracked (T14)

    page.click("text=Extend the trial")
    page.check("input[name=days][value='60']")
    preview = page.locator("#extend-preview")
    expected = date_format(timezone.localdate() + timedelta(days=60), "DATE_FORMAT")
    assert expected in preview.inner_text()  # shown before saving (T6), by the script
    page.click("button[name=save]")
    page.wait_for_load_state()
    # T7 (seed 002): every extension of a device trial is a request support staff decide.
    assert "sent to them" in page.locator(".messages").inner_text()
    assert page.locator("[data-testid=extension-pending]").is_visible()
    page.click("text=See the waiting extension request")
    assert page.locator("[data-testid=waiting-request]").is_visible()
    assert page.locator("input[name=days]").count() == 0


def test_read_only_admin_finds_no_way_to_change_anything(page, partner_world):
    browser_login(page, "rob@acme.example", PASSWORD)
    assert page.url.endswith("/partner/customers/dashboard/")  # the landing page (issue 16)
    page.goto("/partner/customers/")
    assert page.locator("text=Start a trial").count() == 0
    page.click("text=Fading Trial Co")
    page.wait_for_load_state()
    main = page.locator("main")
    for label in ("Extend", "Delete", "Add", "Convert", "Resend", "Cancel"):
        assert main.get_by_role("link", name=re.compile(label)).count() == 0, label
        assert main.get_by_role("button", name=re.compile(label)).count() == 0, label
    assert main.locator("form").count() == 0
    response = page.goto("/partner/trials/start/")
    assert response is not None
    assert response.status == 403
