"""Issue 16, done when: a partner saves a view, signs out and in, and lands on it (the list
opens with the default view's filters)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from partnerhub.accounts.choices import Role
from tests.conftest import browser_login
from tests.factories import PASSWORD, make_customer, make_partner, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_saved_default_view_is_where_the_list_opens_after_signing_in_again(page):
    partner = make_partner(name="Acme Resellers")
    make_user(org=partner, role=Role.SALES_ADMIN, email="sam@acme.example")
    make_customer(
        name="Sleepy Co", partner=partner, deletion_marked_at=timezone.now() - timedelta(days=2)
    )
    make_customer(name="Busy Co", partner=partner)
    browser_login(page, "sam@acme.example", PASSWORD)
    page.goto("/partner/customers/")
    page.check("input[name=to_be_deleted]")
    page.click("#filter-form button[type=submit]")
    page.wait_for_load_state()
    page.fill("#saved-view-form input[name=name]", "To be deleted")
    page.check("#saved-view-form input[name=make_default]")
    page.click("#saved-view-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("[data-testid=saved-view]").all_inner_texts() == ["To be deleted"]

    page.context.clear_cookies()  # signed out
    browser_login(page, "sam@acme.example", PASSWORD)
    page.click("nav.topnav >> text=Customers")
    page.wait_for_load_state()
    assert "to_be_deleted=" in page.url
    body = page.locator(".list-body").inner_text()
    assert "Sleepy Co" in body
    assert "Busy Co" not in body
