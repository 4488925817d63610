"""Issue 9, finding 7: with the Content-Security-Policy on, the pages people use show no CSP
violation in a real browser (no inline script or style is left to block)."""

from __future__ import annotations

import pytest

from licensing.choices import ServiceType
from partnerhub.accounts.choices import Role
from tests.conftest import browser_login
from tests.factories import PASSWORD, make_customer, make_partner, make_subscription, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_no_csp_violation_on_the_main_pages(page):
    partner = make_partner(name="Northwind")
    org = make_customer(name="Litware", partner=partner)
    make_subscription(customer=org, partner=partner, services={ServiceType.CALLING: 5})
    make_user(org=partner, role=Role.SALES_ADMIN, email="sam@northwind.example")
    make_user(org=None, email="support@partnerhub.example", is_staff=True, is_superuser=True)
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    browser_login(page, "sam@northwind.example", PASSWORD)
    for path in (
        "/partner/customers/",
        f"/partner/customers/{org.pk}/",
        "/partner/trials/start/",
        f"/control-hub/{org.pk}/",
        f"/control-hub/{org.pk}/users/",
        f"/control-hub/{org.pk}/license-template/",
    ):
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"]
    page.context.clear_cookies()
    browser_login(page, "support@partnerhub.example", PASSWORD)
    for path in (
        "/admin/",
        "/admin/accounts/organization/",
        f"/admin/accounts/organization/{org.pk}/change/",
    ):
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
    assert not violations, violations
