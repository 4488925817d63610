"""P1 in a real Chromium: the partner sees why a service failed and retries it; a customer admin
enters the Calling location in Control Hub and the service provisions."""

from __future__ import annotations

import pytest

from licensing.choices import ProvisioningStatus, ServiceType, SubscriptionKind
from licensing.models import Service
from licensing.tasks import service_provision_task
from tests.conftest import browser_login
from tests.factories import PASSWORD, make_subscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "The vendor could not set up Meetings for this organization."


def test_P1_partner_sees_the_failure_reason_and_retries(page, world):
    service = world.customer_trial.subscriptions.get().services.get()
    Service.objects.filter(pk=service.pk).update(provisioning_reason=REASON)
    browser_login(page, world.sales_admin.email, PASSWORD)
    page.goto("/partner/customers/")
    cell = page.locator("#customer-table .prov-failed").first
    assert cell.get_attribute("title") == "The service ran into an error while being set up."
    page.click("text=Trial Co")
    row = page.locator(f"#service-{service.pk}")
    assert REASON in row.inner_text()
    assert "contact support" in row.inner_text()
    row.locator("button", has_text="Retry provisioning").click()
    page.wait_for_selector(".msg-success")
    assert "goes to the vendor again" in page.inner_text(".msg-success")
    assert "Provisioning" in page.locator(f"#service-{service.pk}").inner_text()
    service.refresh_from_db()
    assert service.provisioning_status == ProvisioningStatus.PROVISIONING


def test_P1_customer_admin_enters_the_calling_location_in_control_hub(page, world):
    sub = make_subscription(
        customer=world.customer_paid,
        partner=world.partner,
        kind=SubscriptionKind.PAID,
        services={ServiceType.CALLING: 5},
        status=ProvisioningStatus.AWAITING_DETAILS,
    )
    calling = sub.services.get()
    browser_login(page, "boss@paid.example", PASSWORD)
    row = page.locator(f"#sub-{sub.pk}")
    assert "must finish the service's set-up in Control Hub" in row.inner_text()
    row.locator("text=Finish set-up").click()
    page.fill("#id_calling-location_name", "Head office")
    page.fill("#id_calling-address_line", "Main Street 1")
    page.fill("#id_calling-city", "Copenhagen")
    page.fill("#id_calling-postal_code", "#!")
    page.select_option("#id_calling-country", "DK")
    page.click("#provision-form button[type=submit]")
    assert "Enter a postal code" in page.content()
    page.fill("#id_calling-postal_code", "1050")
    page.click("#provision-form button[type=submit]")
    page.wait_for_selector(".msg-success")
    assert "being provisioned" in page.inner_text(".msg-success")
    calling.refresh_from_db()
    assert calling.provisioning_status == ProvisioningStatus.PROVISIONING
    # The worker's task; the admin reloads and sees it provisioned.
    assert service_provision_task(calling.pk) == ProvisioningStatus.PROVISIONED
    page.reload()
    assert "Provisioned" in page.locator(f"#sub-{sub.pk}").inner_text()
