"""Done-when of issue 6: a tier 1 partner converts a trial through the wizard in a real browser,
and the customer ends up with one org, not two (T9, W1–W5)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from licensing.choices import OrderStatus, SubscriptionKind, SubscriptionState
from licensing.models import License, Order, Subscription
from partnerhub.accounts.choices import OrgKind
from partnerhub.accounts.models import Organization
from partnerhub.core.outbox import outbox_flush
from tests.conftest import browser_login
from tests.factories import PASSWORD


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_T9_tier_1_partner_converts_a_trial_through_the_wizard(
    page, browser, live_server, trial_world
):
    trial = trial_world["trial"]
    org = trial_world["org"]

    # The partner's sales admin places the conversion order.
    browser_login(page, trial_world["seller"].email, PASSWORD)
    page.goto(reverse("licensing:trial_convert", kwargs={"trial_pk": trial.pk}))
    assert page.locator("input[name=qty_messaging]").input_value() == "10"
    page.fill("input[name=provisioning_contact_email]", "it@nordicwidgets.dk")
    page.select_option("select[name=term_months]", "12")
    page.click("button:has-text('Place order')")
    page.wait_for_url(re.compile(r"/partner/orders/\d+/$"))
    assert "Placed; setup link sent" in page.inner_text("[data-testid=order-status]")
    order = Order.objects.get(trial=trial)

    # The provisioning contact gets the link and opens it in their own browser.
    assert outbox_flush() == 1
    (message,) = mail.outbox
    assert message.to == ["it@nordicwidgets.dk"]
    link = re.search(r"https?://[^/\s]+(/setup/\S+/)", message.body)
    assert link
    contact = browser.new_context(base_url=live_server.url, locale="en-US")
    contact.set_default_timeout(10_000)
    wizard = contact.new_page()
    try:
        wizard.goto(link.group(1))
        wizard.click("button:has-text('Start setup')")
        wizard.wait_for_url(re.compile(r"/company/$"))
        # A different admin email than the trial's: the matching catches it (W2b).
        wizard.fill("input[name=company_name]", "  nordic widgets A/S ")
        wizard.fill("input[name=admin_email]", "IT@NordicWidgets.dk")
        wizard.click("button:has-text('Find the organization')")
        wizard.wait_for_url(re.compile(r"/choose/$"))
        row = wizard.locator(f"tr[data-org='{org.pk}']")
        assert "Nordic Widgets" in row.inner_text()
        assert "Trial of this order" in row.inner_text()
        assert wizard.locator("tr[data-org]").count() == 2  # the org and "create a new one"
        wizard.check(f"#org-{org.pk}")
        wizard.click("button:has-text('Set up the subscription')")
        wizard.wait_for_url(re.compile(r"/done/$"))
        assert wizard.locator("[data-testid=converted]").is_visible()
        assert "ask the organization's existing admin" in wizard.inner_text("[data-testid=note]")
        # The link is spent now.
        wizard.goto(link.group(1))
        assert "already been used" in wizard.inner_text("main")
    finally:
        contact.close()

    # One org, not two; a paid subscription converted from the trial, with its licenses.
    assert Organization.objects.filter(kind=OrgKind.CUSTOMER).count() == 1
    trial.refresh_from_db()
    assert trial.state == SubscriptionState.CONVERTED
    paid = Subscription.objects.get(converted_from=trial)
    assert paid.customer_id == org.pk
    assert paid.kind == SubscriptionKind.PAID
    assert License.objects.filter(service__subscription=paid).count() == 3
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.subscription_id == paid.pk
