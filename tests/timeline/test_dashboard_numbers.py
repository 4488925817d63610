"""Issue 16, the dashboard's numbers: low license assignment (under a threshold of licenses
used), over the license limit, no admin sign-in for 30 days, and that every number is the count
the list shows behind its link. The facts behind them live on the customer list's read model,
kept exact by the services that assign licenses or sign admins in; the drift check catches a
write that forgets to refresh them. No admin sign-in is the admins' Control Hub sign-ins, not
the org's activity: the deletion countdown (D5) still counts any user's activity."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from customers.choices import ActivityKind
from customers.dashboard import partner_dashboard
from customers.models import ActivityEvent
from customers.readmodel_check import customer_rows_differences
from customers.services import activity_record
from customers.user_services import org_user_deactivate, org_user_role_set
from licensing.calling import user_licenses_set
from licensing.choices import ServiceType, SubscriptionKind, SubscriptionState
from licensing.models import CustomerRow, License, Service
from partnerhub.accounts.choices import Role
from partnerhub.accounts.models import Organization
from partnerhub.core.clock import business_today
from partnerhub.core.listview import summary_cache_key
from tests.factories import (
    PASSWORD,
    assign,
    listed_facts_changed,
    make_customer,
    make_partner,
    make_subscription,
    make_user,
)

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("customers:dashboard")
LIST = reverse("customers:customer_list")


def row(partner: Organization, customer: Organization) -> CustomerRow:
    return CustomerRow.objects.get(partner=partner, customer=customer)


def numbers(partner: Organization) -> dict[str, int]:
    from django.core.cache import cache

    cache.clear()
    return partner_dashboard(partner=partner, today=business_today(), now=timezone.now()).counts


def licensed(partner, *, name, bought, assigned):
    """A customer of ``partner`` with ``bought`` Messaging licenses, ``assigned`` of them given
    to its people through the real service (C3's edit licenses)."""
    org = make_customer(name=name, partner=partner)
    admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email=f"boss@{name.lower()}.example")
    sub = make_subscription(customer=org, partner=partner, services={ServiceType.MESSAGING: bought})
    messaging = sub.services.get().pk
    for i in range(assigned):
        person = make_user(org=org, email=f"p{i}@{name.lower()}.example")
        user_licenses_set(user=person, service_ids=[messaging], actor=admin)
    return org


# ---- low license assignment ------------------------------------------------------------------
def test_licenses_assigned_through_the_service_are_on_the_row_at_once(world):
    org = licensed(world.partner, name="Fjord", bought=10, assigned=3)
    facts = row(world.partner, org)
    assert (facts.licenses_bought, facts.licenses_assigned) == (10, 3)
    assert facts.licenses_used_percent == 30
    assert facts.licenses_over_bits == 0


@pytest.mark.parametrize(
    ("bought", "assigned", "percent", "low"),
    [
        (10, 4, 50, True),  # 40 % is under 50 %
        (10, 5, 50, False),  # exactly the threshold is not under it
        (10, 4, 40, False),
        (3, 1, 34, True),  # 33.3 %: under 34 …
        (3, 1, 33, False),  # … but not under 33 (100 × 1 < 33 × 3 is false)
        (0, 0, 100, False),  # nothing bought: nothing to leave unused
    ],
)
def test_low_assignment_is_under_the_threshold_of_licenses_used(
    client, world, settings, bought, assigned, percent, low
):
    settings.DASHBOARD_LOW_ASSIGNMENT_PERCENT = percent
    # The world's paid and trial customers have licenses and none assigned: low at any threshold.
    before = numbers(world.partner)["low_assignment"]
    assert before == 2
    org = licensed(world.partner, name="Edge", bought=bought, assigned=assigned)
    after = numbers(world.partner)["low_assignment"]
    assert after == before + (1 if low else 0)
    client.force_login(world.sales_admin)
    listed = client.get(LIST, {"low_assignment": "true"})
    assert (org.name in listed.content.decode()) is low
    assert listed.context["count"] == after


def test_low_assignment_counts_active_subscriptions_only(world):
    # A suspended subscription's licenses are suspended (S1): they are not "bought" for use.
    before = numbers(world.partner)["low_assignment"]
    org = licensed(world.partner, name="Pause", bought=10, assigned=1)
    assert numbers(world.partner)["low_assignment"] == before + 1
    sub = org.subscriptions.get()
    sub.state = SubscriptionState.SUSPENDED
    sub.save(update_fields=["state"])
    listed_facts_changed(org)
    facts = row(world.partner, org)
    assert (facts.licenses_bought, facts.licenses_used_percent) == (0, None)
    assert numbers(world.partner)["low_assignment"] == before


def test_the_default_threshold_is_a_documented_setting():
    assert settings.DASHBOARD_LOW_ASSIGNMENT_PERCENT == 50
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    assert "DASHBOARD_LOW_ASSIGNMENT_PERCENT" in readme


# ---- over the license limit ------------------------------------------------------------------
def test_support_lowering_a_quantity_below_the_users_puts_the_customer_over_the_limit(
    client, world
):
    org = licensed(world.partner, name="Tight", bought=5, assigned=4)
    assert numbers(world.partner)["over_limit"] == 0
    staff = make_user(org=None, email="support@console.example", is_staff=True, is_superuser=True)
    client.force_login(staff)
    service = Service.objects.get(subscription__customer=org)
    url = reverse("admin:licensing_service_change", args=[service.pk])
    form = client.get(url).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if hasattr(field.widget, "widgets"):  # the split date and time
            parts = field.widget.decompress(value) if value else ["", ""]
            data.update({f"{name}_{i}": part or "" for i, part in enumerate(parts)})
        else:
            data[name] = "" if value is None else value
    data["quantity"] = 3
    assert client.post(url, data).status_code == 302
    facts = row(world.partner, org)
    assert (facts.licenses_bought, facts.licenses_assigned) == (3, 4)
    assert facts.licenses_over_bits != 0
    assert numbers(world.partner)["over_limit"] == 1
    client.force_login(world.sales_admin)
    listed = client.get(LIST, {"over_limit": "true"})
    assert listed.context["count"] == 1
    assert org.name in listed.content.decode()


def test_over_the_limit_is_per_service_not_the_sum():
    # 2 of 3 Messaging but 4 of 3 Calling: 6 of 6 in all, still over on Calling.
    partner = make_partner()
    org = make_customer(partner=partner)
    sub = make_subscription(
        customer=org,
        partner=partner,
        services={ServiceType.MESSAGING: 3, ServiceType.CALLING: 3},
    )
    for i in range(4):
        person = make_user(org=org)
        assign(user=person, subscription=sub, service_type=ServiceType.CALLING)
        if i < 2:
            assign(user=person, subscription=sub, service_type=ServiceType.MESSAGING)
    facts = CustomerRow.objects.get(partner=partner, customer=org)
    assert (facts.licenses_bought, facts.licenses_assigned) == (6, 6)
    assert facts.licenses_used_percent == 100
    assert facts.licenses_over_bits != 0


# ---- the drift check catches stale license facts --------------------------------------------
def test_the_drift_check_catches_a_license_written_without_a_refresh(world):
    org = licensed(world.partner, name="Drift", bought=10, assigned=1)
    person = make_user(org=org)
    License.objects.create(
        user=person,
        service=Service.objects.get(subscription__customer=org),
        service_type=ServiceType.MESSAGING,
    )
    problems = {d.problem.split(":")[0] for d in customer_rows_differences()}
    assert {"licenses_assigned", "licenses_used_percent"} <= problems
    Service.objects.filter(subscription__customer=org).update(quantity=1)
    problems = {d.problem.split(":")[0] for d in customer_rows_differences()}
    assert {"licenses_bought", "licenses_over_bits"} <= problems
    listed_facts_changed(org)  # what the forgetful write should have done
    assert customer_rows_differences() == []


def test_the_drift_check_catches_an_admin_sign_in_not_on_the_row(world):
    admin = world.customer_paid.memberships.get().user
    ActivityEvent.objects.create(
        org=world.customer_paid,
        user=admin,
        kind=ActivityKind.CONTROL_HUB_SIGN_IN,
        at=timezone.now(),
    )
    problems = [d.problem for d in customer_rows_differences()]
    assert any(p.startswith("admin_signin_at") for p in problems)
    listed_facts_changed(world.customer_paid)
    assert customer_rows_differences() == []


# ---- no admin sign-in for 30 days ------------------------------------------------------------
def test_an_admin_signing_in_counts_and_an_ordinary_user_does_not(client, world):
    org = world.customer_paid
    plain = make_user(org=org, email="plain@paid.example")
    start = numbers(world.partner)["no_admin_signin"]
    assert start == 3  # nobody's admin has signed in yet
    client.post("/login/", {"username": plain.email, "password": PASSWORD})
    org.refresh_from_db()
    assert org.last_activity_at is not None  # D5: the org was active …
    assert row(world.partner, org).admin_signin_at is None  # … but no admin signed in
    assert numbers(world.partner)["no_admin_signin"] == start
    client.post("/logout/")
    client.post("/login/", {"username": "boss@paid.example", "password": PASSWORD})
    signed_in = ActivityEvent.objects.get(kind=ActivityKind.CONTROL_HUB_SIGN_IN).at
    assert row(world.partner, org).admin_signin_at == signed_in
    assert numbers(world.partner)["no_admin_signin"] == start - 1


@pytest.mark.parametrize(
    ("ago", "quiet"),
    [
        (timedelta(days=29), False),
        (timedelta(days=30), False),  # exactly 30 days ago: not yet "for 30 days"
        (timedelta(days=30, seconds=1), True),
        (timedelta(days=31), True),
    ],
)
def test_no_admin_sign_in_for_30_days_boundary(world, ago, quiet):
    admin = world.customer_paid.memberships.get().user
    now = timezone.now()
    # An admin's sign-in that Control Hub reports through the activity API's path.
    activity_record(
        user=admin, kind=ActivityKind.CONTROL_HUB_SIGN_IN, at=now - ago, source="control-hub"
    )
    with time_machine.travel(now, tick=False):
        counts = numbers(world.partner)
    # The world's two other customers' admins never signed in.
    assert counts["no_admin_signin"] == (3 if quiet else 2)


def test_a_demoted_or_deactivated_admins_sign_ins_no_longer_count(client, world):
    org = world.customer_paid
    boss = org.memberships.get().user
    second = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="second@paid.example")
    activity_record(user=second, kind=ActivityKind.CONTROL_HUB_SIGN_IN, source="control-hub")
    assert row(world.partner, org).admin_signin_at is not None
    org_user_role_set(org=org, user=second, role=Role.USER, actor=boss)
    assert row(world.partner, org).admin_signin_at is None
    org_user_role_set(org=org, user=second, role=Role.CUSTOMER_READ_ONLY, actor=boss)
    assert row(world.partner, org).admin_signin_at is not None  # their sign-in counts again
    org_user_deactivate(org=org, user=second, actor=boss)
    assert row(world.partner, org).admin_signin_at is None


def test_an_admin_sign_in_leaves_the_cached_numbers_but_a_license_change_does_not(
    world, django_capture_on_commit_callbacks
):
    """An admin's sign-in does not recount a busy partner's band and dashboard (the sign-in
    number may be up to the cache's lifetime old); a change to a counted fact does."""
    key = summary_cache_key("customers", world.partner.pk, "x")
    admin = world.customer_paid.memberships.get().user
    with django_capture_on_commit_callbacks(execute=True):
        activity_record(user=admin, kind=ActivityKind.CONTROL_HUB_SIGN_IN, source="control-hub")
    assert row(world.partner, world.customer_paid).admin_signin_at is not None
    assert summary_cache_key("customers", world.partner.pk, "x") == key
    messaging = Service.objects.get(
        subscription__customer=world.customer_paid, type=ServiceType.MESSAGING
    )
    person = make_user(org=world.customer_paid)
    with django_capture_on_commit_callbacks(execute=True):
        user_licenses_set(user=person, service_ids=[messaging.pk], actor=admin)
    assert summary_cache_key("customers", world.partner.pk, "x") != key


# ---- every number is the count behind its link -----------------------------------------------
def test_every_number_is_the_count_of_the_list_behind_its_link(client, world, settings):
    settings.DASHBOARD_LOW_ASSIGNMENT_PERCENT = 50
    today = timezone.localdate()
    licensed(world.partner, name="Sparseco", bought=10, assigned=2)
    licensed(world.partner, name="Fullyused", bought=2, assigned=2)
    for days in (5, 45, 75, 120):
        org = make_customer(name=f"Ends in {days}", partner=world.partner)
        make_subscription(
            customer=org,
            partner=world.partner,
            kind=SubscriptionKind.TRIAL,
            start=today - timedelta(days=5),
            end=today + timedelta(days=days),
        )
        make_subscription(customer=org, partner=world.partner, end=today + timedelta(days=days))
    client.force_login(world.sales_admin)
    html = client.get(DASHBOARD).content.decode()
    links = re.findall(r'<a href="([^"]+)" data-testid="([a-z_0-9]+)">(\d+) ', html)
    assert len(links) >= 11
    seen = set()
    for href, testid, shown in links:
        url = urlsplit(unescape(href))
        if url.path != LIST:
            continue
        seen.add(testid)
        listed = client.get(LIST, parse_qs(url.query))
        assert listed.context["count"] == int(shown), (testid, href)
    assert {
        "total",
        "trial_expiring_30",
        "trial_expiring_60",
        "trial_ending_90",
        "expiring_30",
        "expiring_60",
        "trial_expired",
        "low_assignment",
        "over_limit",
        "no_admin_signin",
        "to_be_deleted",
    } <= seen
    low = client.get(LIST, {"low_assignment": "true"}).content.decode()
    assert "Sparseco" in low
    assert "Fullyused" not in low  # it assigned all it bought
    counts = numbers(world.partner)
    assert counts["trial_ending_90"] == 4  # the world's trial and the ones ending in 5, 45, 75
    assert counts["expiring_60"] == 2


# ---- words -----------------------------------------------------------------------------------
def test_the_dashboard_says_its_periods_through_variables_not_literals():
    template = (Path(settings.BASE_DIR) / "templates/customers/dashboard.html").read_text()
    assert not re.search(r"\b\d+ (days?|weeks?)\b", template)


def test_the_dashboard_reads_in_danish_with_its_periods(client, world):
    world.sales_admin.language = "da"
    world.sales_admin.save(update_fields=["language"])
    client.force_login(world.sales_admin)
    html = client.get(DASHBOARD).content.decode()
    assert "prøveperiode udløber inden for 30 dage" in html
    assert "prøveperiode udløber inden for 60 dage" in html
    assert "administrator har logget ind i 30 dage" in html
    assert "licensgrænsen" in html


# ---- the "Licenses used" column ----------------------------------------------------------------
def test_licenses_used_is_a_column_to_choose_not_shown_by_default(client, world):
    licensed(world.partner, name="Columnco", bought=10, assigned=3)
    client.force_login(world.sales_admin)
    default = client.get(LIST)
    assert "licenses_used" not in [c.name for c in default.context["table"].columns]
    offered = {c.name: c.shown for c in default.context["column_choices"]}
    assert offered["licenses_used"] is False
    chosen = client.get(LIST, {"columns": "licenses_used", "q": "Columnco"})
    assert "3 of 10 licenses used (30%)" in chosen.content.decode()
    export = client.get(LIST, {"columns": "licenses_used", "q": "Columnco", "export": "csv"})
    text = b"".join(export.streaming_content).decode()
    assert "3 of 10 licenses used (30%)" in text
