"""In a real browser: a partner renews a suspended paid subscription from the customer page
(S3), and confirms a conversion order that leaves a trial service out (T9)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.formats import date_format

from licensing.choices import SubscriptionState
from licensing.models import License, Order
from tests.conftest import browser_login
from tests.factories import PASSWORD


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_S3_partner_renews_a_suspended_subscription_from_the_customer_page(page, paid_world):
    paid = paid_world["paid"]
    browser_login(page, paid_world["seller"].email, PASSWORD)
    page.goto(reverse("customers:customer_detail", args=[paid_world["org"].pk]))
    article = page.locator(f"article[data-subscription='{paid.pk}']")
    assert article.locator("[data-testid=suspended]").is_visible()
    deadline = paid.period_end_date - timedelta(days=1)
    assert f"renewed by {date_format(deadline)}" in article.inner_text()
    article.locator("[data-testid=renew]").click()
    page.wait_for_url(re.compile(r"/renew/$"))
    assert page.locator("input[name=qty_messaging]").input_value() == "10"
    assert page.locator("input[name=qty_calling]").input_value() == "5"
    # Too few Messaging licenses for the two users: refused, nothing changes.
    page.fill("input[name=qty_messaging]", "1")
    page.click("button:has-text('Renew')")
    assert "2 users hold a license" in page.inner_text(".errors")
    page.fill("input[name=qty_messaging]", "10")
    page.click("button:has-text('Renew')")
    page.wait_for_url(re.compile(r"/partner/customers/\d+/$"))
    assert "was renewed" in page.inner_text("main")
    paid.refresh_from_db()
    assert paid.state == SubscriptionState.ACTIVE
    assert (
        page.locator(f"article[data-subscription='{paid.pk}'] [data-testid=suspended]").count() == 0
    )
    assert License.objects.filter(service__subscription=paid).count() == 3


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_T9_partner_confirms_leaving_a_trial_service_out_of_the_conversion(page, mm_trial):
    trial = mm_trial["trial"]
    browser_login(page, mm_trial["seller"].email, PASSWORD)
    page.goto(reverse("licensing:trial_convert", kwargs={"trial_pk": trial.pk}))
    # Every trial service is in the order to start with; the partner is the suggested contact.
    assert page.locator("input[name=qty_meetings]").input_value() == "5"
    assert page.locator("input[name=qty_messaging]").input_value() == "5"
    assert page.locator("input[name=provisioning_contact_email]").input_value() == (
        "sam@fjord.example"
    )
    page.fill("input[name=qty_messaging]", "0")
    page.click("button:has-text('Place order')")
    banner = page.locator("[data-testid=left-out]")
    assert banner.is_visible()
    for user in mm_trial["users"]:
        assert user.email in banner.inner_text()
    assert not Order.objects.exists()
    page.fill("input[name=qty_messaging]", "0")
    page.check("input[name=confirm_left_out]")
    page.click("button:has-text('Place order')")
    page.wait_for_url(re.compile(r"/partner/orders/\d+/$"))
    assert Order.objects.get().dropped_services == ["messaging"]
