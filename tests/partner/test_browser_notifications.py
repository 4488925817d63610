"""Done-when of issue 12, in a real Chromium: the customer asks to buy from the trial-ending
email's link and the partner converts from its notice (T11, T9); the partner confirms an
existing org and the customer accepts from the consent email's link (T3)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from licensing.choices import ServiceType, SubscriptionKind, SubscriptionState
from licensing.models import BuyRequest, Subscription
from partnerhub.accounts.choices import PartnerTier, Role
from partnerhub.core.outbox import outbox_flush
from tests.conftest import browser_login
from tests.factories import (
    PASSWORD,
    assign,
    make_customer,
    make_partner,
    make_subscription,
    make_user,
)
from trials.choices import ConsentStatus
from trials.sweeps import trial_notices_due

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def new_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(10_000)
    return context, context.new_page()


def sign_in_here(page, email: str) -> None:
    """The link led to the sign-in page; signing in lands where the link pointed."""
    page.wait_for_selector("#id_username")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state()


def email_to(address: str, kind_hint: str):
    return next(m for m in mail.outbox if address in m.to and kind_hint in m.body)


def test_customer_asks_to_buy_from_the_T11_email_and_the_partner_converts(
    page, browser, live_server, settings
):
    settings.SITE_URL = live_server.url  # links in emails point at this server
    partner = make_partner(name="Fjord Resellers", tier=PartnerTier.TIER_1)
    seller = make_user(org=partner, role=Role.SALES_ADMIN, email="sam@fjord.example")
    org = make_customer(name="Nordic Widgets", partner=partner)
    anna = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="anna@nordicwidgets.dk")
    today = timezone.localdate()
    trial = make_subscription(
        customer=org,
        partner=partner,
        kind=SubscriptionKind.TRIAL,
        start=today - timedelta(days=23),
        end=today + timedelta(days=7),
        services={ServiceType.MESSAGING: 10},
    )
    assign(user=anna, subscription=trial, service_type=ServiceType.MESSAGING)
    trial_notices_due(now=timezone.now())
    outbox_flush()
    ending = email_to(anna.email, "ends in 7 days")
    buy_link = re.search(r"(https?://\S+/control-hub/\d+/buy/)", ending.body).group(1)
    assert buy_link.startswith(live_server.url)

    # The customer admin follows the link, signs in, and asks to buy.
    context, customer = new_page(browser, live_server)
    try:
        customer.goto(buy_link)
        sign_in_here(customer, anna.email)
        assert customer.url == buy_link
        row = customer.locator(f"#buy-{trial.pk}")
        assert "Messaging" in row.inner_text()
        row.locator("textarea").fill("We want to keep it. Call me.")
        row.locator("button:has-text('I want to buy')").click()
        customer.wait_for_selector(".msg-success")
        assert "Fjord Resellers" in customer.inner_text(".msg-success")
    finally:
        context.close()

    # The partner sees the bell, opens the notice, and converts from the customer page.
    browser_login(page, seller.email, PASSWORD)
    assert page.inner_text("#bell-count").startswith("1")
    page.click("#bell")
    assert "wants to buy" in page.inner_text("#feed")
    page.click("#feed button:has-text('Open and mark read')")
    page.wait_for_selector("#buy-requests")
    assert "We want to keep it. Call me." in page.inner_text("#buy-requests")
    assert page.locator("#bell-count").count() == 0  # read
    page.click("#buy-requests a:has-text('Convert to paid')")
    page.fill("input[name=provisioning_contact_email]", seller.email)  # T9: enter yourself
    page.click("button:has-text('Place order')")
    page.wait_for_url(re.compile(r"/partner/orders/\d+/$"))
    outbox_flush()
    setup = re.search(r"https?://[^/\s]+(/setup/\S+/)", email_to(seller.email, "/setup/").body)
    page.goto(setup.group(1))
    page.click("button:has-text('Start setup')")
    page.wait_for_url(re.compile(r"/company/$"))
    page.fill("input[name=company_name]", "Nordic Widgets")
    page.fill("input[name=admin_email]", "it@nordicwidgets.dk")
    page.click("button:has-text('Find the organization')")
    page.wait_for_url(re.compile(r"/choose/$"))
    page.check(f"#org-{org.pk}")
    page.click("button:has-text('Set up the subscription')")
    page.wait_for_url(re.compile(r"/done/$"))
    trial.refresh_from_db()
    assert trial.state == SubscriptionState.CONVERTED
    assert BuyRequest.objects.get(subscription=trial).handled_at is not None
    assert Subscription.objects.get(converted_from=trial).customer_id == org.pk


def test_T3_partner_confirms_the_org_and_the_customer_accepts_from_the_email(
    page, browser, live_server, settings
):
    settings.SITE_URL = live_server.url
    partner = make_partner(name="Fjord Resellers", tier=PartnerTier.TIER_1)
    seller = make_user(org=partner, role=Role.SALES_ADMIN, email="sam@fjord.example")
    org = make_customer(name="Harbour Bakery ApS")
    admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="it@harbour.example")
    make_user(org=org, role=Role.USER, email="baker@harbour.example")

    browser_login(page, seller.email, PASSWORD)
    page.goto("/partner/trials/request/")
    page.fill("#id_admin_email", admin.email)
    page.check("#id_messaging")
    page.click("button:has-text('Send the consent request')")
    # Seed 002 step 5: the org the email resolves to, to confirm or go back.
    page.wait_for_selector("#confirm-org")
    assert page.inner_text("#confirm-org-name") == "Harbour Bakery ApS"
    assert page.inner_text("#confirm-org-users") == "2"
    assert "baker@harbour.example" not in page.content()  # W6
    page.click("button[name=back]")
    assert page.locator("#id_admin_email").input_value() == admin.email
    assert not org.consent_requests.exists()
    page.click("button:has-text('Send the consent request')")
    page.click("#confirm-org button[name=confirm]")
    page.wait_for_selector("#consent")
    consent = org.consent_requests.get()

    outbox_flush()
    link = re.search(r"(https?://\S+/trial-requests/\d+/)", email_to(admin.email, "trial").body)
    context, customer = new_page(browser, live_server)
    try:
        customer.goto(link.group(1))
        sign_in_here(customer, admin.email)
        customer.click("button[name=accept]")
        customer.wait_for_selector(".msg-success")
    finally:
        context.close()
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.ACCEPTED

    page.reload()
    assert page.inner_text("#bell-count").startswith("1")
    page.click("#bell")
    assert "Harbour Bakery ApS accepted your trial request" in page.inner_text("#feed")
