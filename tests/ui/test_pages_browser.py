"""Every main page, in a real Chromium at 390 and 1280 px (issue 13): never wider than the
window, no serious or critical axe-core violation, keyboard users can skip to the content.

axe-core is the npm package pinned in package.json (``make setup`` runs ``npm ci``);
Playwright injects its ``axe.min.js`` into each page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from licensing.choices import OrderPurpose, ServiceType, SubscriptionKind
from licensing.models import Subscription
from licensing.orders import OrderLineSpec, order_link_url, order_place
from partnerhub.accounts.models import Membership, Organization, User
from partnerhub.demo.world import DEMO_PASSWORD, demo_world_build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (390, 1280)
BLOCKING = {"serious", "critical"}


def _axe_violations(page: Any) -> list[str]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make setup` (npm ci installs axe-core).")
    # Evaluated through the DevTools protocol, not as a <script> tag: the pages' strict CSP
    # (no inline script) rightly refuses an injected inline script.
    page.evaluate(AXE.read_text() + "\n;window.axe = axe;")
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
        }"""
    )
    return [
        f"{v['id']} ({v['impact']}): {', '.join(v['nodes'])}"
        for v in result
        if v["impact"] in BLOCKING
    ]


def _check(browser: Any, base_url: str, pages: list[str], *, email: str | None) -> list[str]:
    problems: list[str] = []
    for width in WIDTHS:
        context = browser.new_context(
            base_url=base_url, viewport={"width": width, "height": 900}, locale="en-US"
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        if email is not None:
            page.goto("/login/")
            page.fill("#id_username", email)
            page.fill("#id_password", DEMO_PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_load_state()
        for url in pages:
            page.goto(url)
            page.wait_for_load_state()
            wide = page.evaluate("document.documentElement.scrollWidth")
            inner = page.evaluate("window.innerWidth")
            if wide > inner:
                problems.append(f"{width}px {url}: page is {wide}px wide")
            problems += [f"{width}px {url}: {v}" for v in _axe_violations(page)]
            if not page.title().strip():
                problems.append(f"{url}: no <title>")
        context.close()
    return problems


@pytest.fixture
def demo(db: Any) -> Any:
    return demo_world_build()


def _partner_pages() -> list[str]:
    northwind = Organization.objects.get(name="Northwind Partners")
    trial = (
        Subscription.objects.filter(partner=northwind, kind=SubscriptionKind.TRIAL)
        .order_by("pk")
        .first()
    )
    customers = Organization.objects.filter(partner_relationships__partner=northwind).order_by(
        "name"
    )
    pages = [
        reverse("customers:customer_list"),
        reverse("customers:customer_list") + "?to_be_deleted=on",
        reverse("customers:dashboard"),
        reverse("customers:deletion_forecast") + "?days=90",
        reverse("licensing:order_list"),
        reverse("trials:trial_start"),
        reverse("trials:trial_request"),
    ]
    pages += [reverse("customers:customer_detail", args=[c.pk]) for c in customers[:3]]
    if trial is not None:
        pages.append(reverse("licensing:trial_convert", kwargs={"trial_pk": trial.pk}))
        pages.append(reverse("trials:trial_extend", args=[trial.pk]))
    return pages


def test_partner_hub_pages_fit_390_and_1280_and_pass_axe(browser, live_server, demo):
    pages = _partner_pages()
    problems = _check(browser, live_server.url, pages, email="salesfull@northwind.example")
    assert not problems, "\n".join(problems)


def test_control_hub_pages_fit_390_and_1280_and_pass_axe(browser, live_server, demo):
    admin = User.objects.get(email="admin@litware.example")
    org_pk = Membership.objects.get(user=admin).org_id
    pages = [
        reverse("controlhub:overview", args=[org_pk]),
        reverse("controlhub:user_list", args=[org_pk]),
        reverse("controlhub:subscription_list", args=[org_pk]),
        reverse("controlhub:license_template", args=[org_pk]),
        reverse("controlhub:user_detail", args=[org_pk, admin.pk]),
        reverse("controlhub:user_add", args=[org_pk]),
        reverse("controlhub:users_add_csv", args=[org_pk]),
        reverse("controlhub:user_licenses_edit", args=[org_pk, admin.pk]),
        reverse("controlhub:users_csv_import", args=[org_pk]),
    ]
    problems = _check(browser, live_server.url, pages, email="admin@litware.example")
    assert not problems, "\n".join(problems)


def test_sign_in_wizard_and_error_pages_fit_and_pass_axe(browser, live_server, demo):
    seller = User.objects.get(email="salesfull@northwind.example")
    order = order_place(
        lines=[OrderLineSpec(service_type=ServiceType.MESSAGING, quantity=5)],
        provisioning_contact_email="it@newcomer.example",
        purpose=OrderPurpose.CUSTOMER_SELF,
        placed_by=seller,
    )
    start = order_link_url(order=order).removeprefix(settings.SITE_URL)
    problems = _check(browser, live_server.url, ["/login/", start], email=None)
    assert not problems, "\n".join(problems)
    errors = ["/no/such/page/", reverse("trials:trial_start")]  # 404; 403 for a full admin
    problems = _check(browser, live_server.url, errors, email="admin@northwind.example")
    assert not problems, "\n".join(problems)


def test_skip_link_is_the_first_stop_and_moves_focus_to_the_content(page, demo):
    page.goto("/login/")
    page.fill("#id_username", "admin@northwind.example")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert "skip-link" in focused
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # Focus order follows the page: the next stop is inside the content, not the top bar.
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('#main')")


def test_narrow_nav_is_a_menu_button(browser, live_server, demo):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 800})
    page = context.new_page()
    page.goto("/login/")
    page.fill("#id_username", "admin@northwind.example")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state()
    toggle = page.locator(".nav-toggle")
    assert toggle.is_visible()
    assert not page.locator("#topbar-menu").is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.locator("#topbar-menu >> text=Sign out").is_visible()
    context.close()


def test_trial_form_shows_offer_fields_only_when_ticked(page, demo):
    page.goto("/login/")
    page.fill("#id_username", "sales@northwind.example")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.goto(reverse("trials:trial_start"))
    assert not page.locator("#offer-meetings").is_visible()
    assert not page.locator("#offer-devices").is_visible()
    page.check("#id_meetings")
    assert page.locator("#offer-meetings").is_visible()
    assert page.locator("#id_time_zone").is_visible()
    page.check("#id_devices")
    assert page.locator("#offer-devices").is_visible()
    page.uncheck("#id_meetings")
    assert not page.locator("#offer-meetings").is_visible()
