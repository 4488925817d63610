"""Issue 16: the timeline on the partner's customer page, in Control Hub (own org) and in the
support console — past events with who caused them, future dates with what would change them,
no other tenant's subscriptions, and a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from licensing.choices import ServiceType, SubscriptionKind
from licensing.services import ServiceSpec, subscription_create
from partnerhub.accounts.choices import Role
from tests.factories import make_customer, make_partner, make_subscription, make_user

pytestmark = pytest.mark.django_db


def timeline_html(response) -> str:
    html = response.content.decode()
    start = html.index('id="timeline"')
    return html[start : html.index("</section>", start)]


def test_D2_D3_a_marked_customer_page_tells_the_warning_and_the_deletion_and_what_saves_it(
    client,
    world,
):
    client.force_login(world.sales_admin)
    response = client.get(reverse("customers:customer_detail", args=[world.customer_marked.pk]))
    html = timeline_html(response)
    assert 'data-kind="warning"' in html
    assert 'data-kind="deletion"' in html
    assert "unless someone is active" in html
    assert "a sign-in to the app or to Control Hub" in html


def test_T11_S1_a_trial_customer_page_tells_the_end_with_its_notices_and_the_suspension(
    client,
    world,
):
    client.force_login(world.sales_admin)
    html = timeline_html(
        client.get(reverse("customers:customer_detail", args=[world.customer_trial.pk]))
    )
    assert 'data-kind="trial_ends"' in html
    assert "(notices " in html
    assert 'data-kind="suspension"' in html
    assert "Extending or buying the trial before then" in html


def test_a_partner_never_sees_another_partners_subscription_in_the_timeline(
    client,
    world,
):
    # The customer also has a trial through the rival partner: its dates are not told.
    make_subscription(
        customer=world.customer_paid,
        partner=world.other_partner,
        kind=SubscriptionKind.TRIAL,
        end=timezone.localdate() + timedelta(days=12),
    )
    client.force_login(world.sales_admin)
    html = timeline_html(
        client.get(reverse("customers:customer_detail", args=[world.customer_paid.pk]))
    )
    assert 'data-kind="trial_ends"' not in html
    assert 'data-kind="suspension"' in html  # its own paid subscription


def test_past_events_name_who_caused_them(client):
    partner = make_partner(name="Timeline Partners")
    seller = make_user(org=partner, role=Role.SALES_ADMIN, email="tess@timeline.example")
    org = make_customer(name="History Co", partner=partner)
    subscription_create(
        customer=org,
        partner=partner,
        kind=SubscriptionKind.PAID,
        start_date=timezone.localdate(),
        end_date=timezone.localdate() + timedelta(days=365),
        services=[ServiceSpec(type=ServiceType.MESSAGING, quantity=5)],
        actor=seller,
    )
    client.force_login(seller)
    html = timeline_html(client.get(reverse("customers:customer_detail", args=[org.pk])))
    assert 'data-action="subscription.create"' in html
    assert "tess@timeline.example" in html


def test_control_hub_overview_tells_its_own_timeline(client):
    partner = make_partner(name="Hub Partners")
    org = make_customer(name="Own Org Co", partner=partner)
    make_subscription(customer=org, partner=partner, kind=SubscriptionKind.TRIAL)
    admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="own@org.example")
    client.force_login(admin)
    html = timeline_html(client.get(reverse("controlhub:overview", kwargs={"org_pk": org.pk})))
    assert 'data-kind="trial_ends"' in html
    assert 'data-kind="mark"' in html


def test_support_console_shows_the_timeline_of_an_org(admin_client):
    org = make_customer(name="Quiet Co", deletion_marked_at=timezone.now() - timedelta(days=31))
    response = admin_client.get(reverse("admin:accounts_organization_change", args=[org.pk]))
    html = timeline_html(response)
    assert 'data-kind="warning"' in html


def test_the_timeline_costs_a_fixed_number_of_queries(
    client,
    world,
):
    client.force_login(world.sales_admin)
    url = reverse("customers:customer_detail", args=[world.customer_paid.pk])
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(5):
        make_subscription(customer=world.customer_paid, partner=world.partner)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)
