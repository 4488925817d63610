"""Each of the five languages, picked on the sign-in page in a real (headless Debian) Chromium:
after signing in, the customer list and Control Hub read a translated heading, status, filter
and button. The expected words are the catalogs' (gettext under the language), never typed in
English; ``<html lang>`` says the language served."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import translation

from licensing.choices import ProvisioningStatus, ServiceType
from partnerhub.accounts.choices import Role
from partnerhub.core.clock import business_today
from tests.factories import PASSWORD, make_customer, make_partner, make_subscription, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "da", "sv", "it", "zh-hant"]
HTML_LANG = {"zh-hant": "zh-Hant"}


def words(language: str, *msgids: str) -> list[str]:
    with translation.override(language):
        return [translation.gettext(m) for m in msgids]


@pytest.fixture
def people():
    partner = make_partner(name="Polyglot Partners")
    sales = make_user(org=partner, role=Role.SALES_ADMIN, email="sam@polyglot.example")
    customer = make_customer(name="Babel Fish ApS", partner=partner)
    # A person who never chose: at the first sign-in they get the browser's language, here
    # the one the previous person picked (the cookie follows the browser).
    admin = make_user(
        org=customer, role=Role.CUSTOMER_FULL_ADMIN, email="it@babel.example", language=""
    )
    make_subscription(
        customer=customer,
        partner=partner,
        end=business_today() + timedelta(days=200),
        services={ServiceType.MESSAGING: 5},
        status=ProvisioningStatus.PROVISIONED,
    )
    return {"sales": sales, "admin": admin, "customer": customer}


def sign_in_with_the_picker(page, email: str, language: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login/")
    page.select_option("#language-picker-select", language)
    page.click("#language-picker-submit")
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == HTML_LANG.get(language, language)
    assert page.inner_text("h1") == words(language, "Sign in")[0]
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_signs_in_and_reads_the_customer_list_and_control_hub(page, people, language):
    sign_in_with_the_picker(page, people["sales"].email, language)
    # A partner lands on the dashboard, then opens the customer list.
    assert page.url.endswith("/partner/customers/dashboard/")
    assert page.inner_text("h1").strip() == words(language, "Dashboard")[0]
    page.goto("/partner/customers/")
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == HTML_LANG.get(language, language)
    heading, status, filter_label, button = words(
        language, "Customers", "Provisioned", "To be deleted", "Apply filters"
    )
    assert page.inner_text("h1").strip().startswith(heading)
    assert status in page.inner_text("#customer-table")
    assert filter_label in page.inner_text("#filter-form")
    assert page.inner_text("#filter-form button[type=submit]").strip() == button
    # The picker shows the language in use, named in itself.
    assert page.eval_on_selector("#language-picker-select", "s => s.value") == language

    page.click("#topbar form[action='/logout/'] button")
    page.wait_for_load_state()
    # Signed out, the sign-in page stays in the person's language (the cookie follows them).
    assert page.get_attribute("html", "lang") == HTML_LANG.get(language, language)
    page.fill("#id_username", people["admin"].email)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state()
    assert "/control-hub/" in page.url
    overview, users, active, search, filter_button = words(
        language, "Overview", "Users", "Active", "Search", "Filter"
    )
    assert page.title().startswith(overview)  # the overview is headed by the org's name
    page.click(f"#topbar nav >> text={users}")
    page.wait_for_load_state()
    assert page.inner_text("h1").strip() == users
    assert active in page.inner_text("table")
    assert search in page.inner_text("form.ch-filters")
    assert page.inner_text("form.ch-filters button[type=submit]").strip() == filter_button
    assert page.get_attribute("html", "lang") == HTML_LANG.get(language, language)
