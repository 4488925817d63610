"""Issue 16, done when: the timeline of a warned org names the activity that would save it
(D3, D4, D5), in a real (headless Debian) Chromium."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from customers.lifecycle import deletion_due_at
from partnerhub.accounts.choices import Role
from tests.conftest import browser_login
from tests.factories import PASSWORD, make_customer, make_partner, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_D5_the_timeline_of_a_warned_org_names_the_activity_that_would_save_it(page):
    partner = make_partner(name="Acme Resellers")
    make_user(org=partner, role=Role.SALES_ADMIN, email="sam@acme.example")
    warned_at = timezone.now() - timedelta(days=5)
    org = make_customer(
        name="Warned Co",
        partner=partner,
        deletion_marked_at=timezone.now() - timedelta(days=40),
        deletion_warned_at=warned_at,
    )
    browser_login(page, "sam@acme.example", PASSWORD)
    page.goto(f"/partner/customers/{org.pk}/")
    deletion = page.locator("#timeline li[data-kind=deletion]")
    day = date_format(deletion_due_at(warned_at=warned_at).date(), "DATE_FORMAT")
    assert f"Deletion on {day} unless someone is active" in deletion.inner_text()
    assert "a sign-in to the app or to Control Hub" in deletion.inner_text()
    assert "saves the organization" in deletion.inner_text()
    assert page.locator("#timeline li[data-kind=warning]").count() == 0  # already sent
