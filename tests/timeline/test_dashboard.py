"""Issue 16: the partner's dashboard is its landing page; each number links to the filtered
list (P3, P4, D2) and the forecast (D3, D4); a fixed number of queries whatever the size."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from licensing.choices import SubscriptionKind
from tests.factories import make_customer, make_subscription

pytestmark = pytest.mark.django_db

URL = reverse("customers:dashboard")
# Pinned: session, user, membership+org with the bell (all that a cached dashboard reads), and
# four index-range statements over the read model (customers.dashboard): the status bits
# grouped, the scalar counts, trial ends per day, predicted deletions per day.
DASHBOARD_CACHED_QUERIES = 3
DASHBOARD_QUERIES = DASHBOARD_CACHED_QUERIES + 4


def number(html: str, testid: str) -> int:
    match = re.search(rf'data-testid="{testid}">(\d+) ', html)
    assert match, testid
    return int(match.group(1))


def test_partners_land_on_the_dashboard(client, world):
    client.force_login(world.sales_admin)
    assert client.get(reverse("home"))["Location"] == URL


def test_each_number_is_the_count_the_list_link_shows(client, world):
    client.force_login(world.sales_admin)
    html = client.get(URL).content.decode()
    assert number(html, "total") == 3
    assert number(html, "trial_expiring_30") == 1
    assert number(html, "to_be_deleted") == 1
    list_url = reverse("customers:customer_list")
    assert f'href="{list_url}?subscription_status=trial_expiring_30"' in html
    listed = client.get(list_url, {"subscription_status": "trial_expiring_30"}).content.decode()
    assert "Trial Co" in listed
    assert "<svg" in html
    assert html.count('class="bar-trial"') == 12


def test_the_dashboard_reads_a_fixed_number_of_queries(client, world):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(world.sales_admin)
    client.get(URL)
    with CaptureQueriesContext(connection) as cached:
        client.get(URL)
    assert len(cached.captured_queries) == DASHBOARD_CACHED_QUERIES
    cache.clear()
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    today = timezone.localdate()
    for n in range(15):
        org = make_customer(name=f"Extra {n}", partner=world.partner)
        make_subscription(
            customer=org,
            partner=world.partner,
            kind=SubscriptionKind.TRIAL,
            end=today + timedelta(days=n * 5),
        )
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        client.get(URL)
    assert len(many.captured_queries) == len(few.captured_queries) == DASHBOARD_QUERIES


@pytest.mark.parametrize("language", ["da", "sv", "it", "zh-hant"])
def test_the_weekly_chart_geometry_is_not_localized(client, world, language):
    """A decimal comma in an SVG attribute ("12,5") is no number: the browser drops the bar.
    The dashboard's bars stay in dots whatever the reader's language."""
    world.sales_admin.language = language
    world.sales_admin.save(update_fields=["language"])
    client.force_login(world.sales_admin)
    html = client.get(URL).content.decode()
    chart = html[html.index("<svg") : html.index("</svg>")]
    assert re.findall(r'(?:x|y|width|height)="[^"]*,[^"]*"', chart) == []
    assert re.search(r'width="\d+\.\d"', chart)  # fractional widths: the slot of a week
