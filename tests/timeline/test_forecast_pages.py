"""Issue 16: the deletion forecast — the partner's customers to be warned or deleted within
7/30/60/90 days (D3, D4), support's view across all orgs with the day-by-day chart and the
days the safety limit would hold a batch, CSV export, a dry-run tick, fixed queries."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from customers.forecast import deletion_forecast, forecast_page
from customers.lifecycle import ForecastKind
from licensing.choices import SubscriptionKind
from licensing.models import CustomerRow
from licensing.readmodel import customer_rows_refresh
from partnerhub.accounts.choices import PartnerAccess, Role
from partnerhub.accounts.models import CustomerRelationship, Organization
from tests.factories import make_customer, make_partner, make_subscription, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner_world():
    now = timezone.now()
    partner = make_partner(name="Forecast Partners")
    rival = make_partner(name="Rival Partners")
    seller = make_user(org=partner, role=Role.SALES_ADMIN, email="fay@forecast.example")
    warned = make_customer(
        name="Warned Co",
        partner=partner,
        deletion_marked_at=now - timedelta(days=40),
        deletion_warned_at=now - timedelta(days=5),
    )
    quiet = make_customer(
        name="=Quiet Co", partner=partner, deletion_marked_at=now - timedelta(days=20)
    )
    ending = make_customer(name="Ending Co", partner=partner)
    make_subscription(
        customer=ending,
        partner=partner,
        kind=SubscriptionKind.TRIAL,
        end=timezone.localdate() + timedelta(days=1),
    )
    busy = make_customer(name="Busy Co", partner=partner)
    make_subscription(customer=busy, partner=partner)
    make_customer(name="Rival's Co", partner=rival, deletion_marked_at=now - timedelta(days=40))
    return {"partner": partner, "seller": seller, "warned": warned, "quiet": quiet}


def test_D3_D4_the_partner_forecast_lists_warnings_and_deletions_with_date_and_reason(
    partner_world,
):
    now = timezone.now()
    rows = deletion_forecast(partner=partner_world["partner"], now=now, days=30)
    got = {(r.name, r.kind) for r in rows}
    assert got == {
        ("Warned Co", ForecastKind.DELETION),  # in 25 days
        ("=Quiet Co", ForecastKind.WARNING),  # in 10 days; its deletion is in 40
    }
    wide = deletion_forecast(partner=partner_world["partner"], now=now, days=90)
    assert ("Ending Co", ForecastKind.WARNING) in {(r.name, r.kind) for r in wide}
    assert "Busy Co" not in {r.name for r in wide}
    assert "Rival's Co" not in {r.name for r in wide}  # another partner's customer
    assert all(r.reason for r in wide)


def test_the_partner_page_and_its_csv(client, partner_world):
    client.force_login(partner_world["seller"])
    url = reverse("customers:deletion_forecast")
    html = client.get(url, {"days": 7}).content.decode()
    assert "Warned Co" not in html  # 25 days away
    html = client.get(url, {"days": 30}).content.decode()
    assert "Warned Co" in html
    assert client.get(url, {"days": "x"}).status_code == 200  # bad input: the default
    response = client.get(url, {"days": 90, "export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.content.decode())))
    assert table[0] == ["Organization", "What", "Date", "Reason"]
    assert [row[0] for row in table[1:] if "Quiet" in row[0]][:1] == ["'=Quiet Co"]


# Read from the read model: the counts, the deletions per day, the soonest warnings and
# deletions (4); support adds the orgs on no partner's list (4: their ids, then org_forecast).
PARTNER_FORECAST_QUERIES, SUPPORT_FORECAST_QUERIES = 4, 8


def test_the_forecast_reads_a_fixed_number_of_queries(partner_world):
    now = timezone.now()
    partner = partner_world["partner"]
    make_customer(name="Unlisted first", deletion_marked_at=now)  # one org on no list, then 21
    with CaptureQueriesContext(connection) as few:
        deletion_forecast(partner=None, now=now, days=90)
    with CaptureQueriesContext(connection) as few_partner:
        deletion_forecast(partner=partner, now=now, days=90)
    for n in range(20):
        org = make_customer(name=f"More {n}", partner=partner, deletion_marked_at=now)
        make_subscription(customer=org, kind=SubscriptionKind.TRIAL, end=now.date())
        make_customer(name=f"Unlisted {n}", deletion_marked_at=now)  # on no partner's list
    with CaptureQueriesContext(connection) as many:
        rows = deletion_forecast(partner=None, now=now, days=90)
    with CaptureQueriesContext(connection) as many_partner:
        deletion_forecast(partner=partner, now=now, days=90)
    assert len(many.captured_queries) == len(few.captured_queries) == SUPPORT_FORECAST_QUERIES
    assert (
        len(many_partner.captured_queries)
        == len(few_partner.captured_queries)
        == PARTNER_FORECAST_QUERIES
    )
    assert {r.name for r in rows} >= {"More 0", "Unlisted 0"}


def test_support_sees_all_orgs_the_chart_the_held_days_and_a_dry_run(
    admin_client, partner_world, settings
):
    settings.DELETION_BATCH_MIN = 1
    settings.DELETION_BATCH_FRACTION = 0
    now = timezone.now()
    for n in range(2):  # two deletions on the same day: over a limit of 1
        make_customer(
            name=f"Twin {n}",
            deletion_marked_at=now - timedelta(days=40),
            deletion_warned_at=now - timedelta(days=5),
        )
    url = reverse("support:forecast")
    html = admin_client.get(url, {"days": 30}).content.decode()
    assert "Rival&#x27;s Co" in html or "Rival's Co" in html
    assert "<svg" in html
    assert 'class="bar-held"' in html
    assert 'data-testid="held-days"' in html
    day = (now + timedelta(days=5)).date().isoformat()
    html = admin_client.get(url, {"days": 30, "at": day}).content.decode()
    assert "DRY RUN" in html
    assert admin_client.get(url, {"at": "not-a-date"}).status_code == 200


def test_a_partner_may_not_open_the_support_forecast(client, partner_world):
    client.force_login(partner_world["seller"])
    response = client.get(reverse("support:forecast"))
    assert response.status_code in (302, 403)


def _on_two_lists(name: str, *, partner, rival, **fields):
    """A customer org on two partners' lists: two read-model rows with the same dates."""
    org = make_customer(name=name, partner=partner, **fields)
    CustomerRelationship.objects.create(
        partner=rival, customer=org, access=PartnerAccess.PROVISIONING_ADMIN
    )
    customer_rows_refresh(customer_ids=[org.pk])
    return org


def test_D3_D4_support_counts_a_customer_on_two_lists_once(admin_client, partner_world):
    now = timezone.now()
    rival = Organization.objects.get(name="Rival Partners")
    shared = _on_two_lists(
        "Shared Co",
        partner=partner_world["partner"],
        rival=rival,
        deletion_marked_at=now - timedelta(days=40),
        deletion_warned_at=now - timedelta(days=5),
    )
    assert CustomerRow.objects.filter(customer=shared).count() == 2
    page = forecast_page(partner=None, now=now, days=30, limit=None)
    assert [r.name for r in page.rows].count("Shared Co") == 1
    assert page.total == len(page.rows)  # every row counted once, and only once
    assert sum(page.deletions_per_day.values()) == sum(
        r.kind == ForecastKind.DELETION for r in page.rows
    )
    response = admin_client.get(reverse("support:forecast"), {"days": 30, "export": "csv"})
    assert [row[0] for row in csv.reader(io.StringIO(response.content.decode()))].count(
        "Shared Co"
    ) == 1


def test_each_row_links_to_its_org_and_shows_the_date_in_the_locale_format(
    client, admin_client, partner_world
):
    warned = partner_world["warned"]
    day = date_format((timezone.now() + timedelta(days=25)).date(), "DATE_FORMAT")
    html = admin_client.get(reverse("support:forecast"), {"days": 30}).content.decode()
    assert f'<a href="{reverse("admin:accounts_organization_change", args=[warned.pk])}">' in html
    assert f"<td>{day}</td>" in html
    client.force_login(partner_world["seller"])
    html = client.get(reverse("customers:deletion_forecast"), {"days": 30}).content.decode()
    assert f'<a href="{reverse("customers:customer_detail", args=[warned.pk])}">' in html
    assert f"<td>{day}</td>" in html


# The support page: session and user, the forecast (8), the count of orgs for the safety limit,
# and the top bar's memberships (a staff page hands no access decision over to the bar).
SUPPORT_PAGE_QUERIES = 2 + SUPPORT_FORECAST_QUERIES + 1 + 1
SUPPORT_CSV_QUERIES = 2 + SUPPORT_FORECAST_QUERIES


def test_the_support_page_and_its_csv_read_a_fixed_number_of_queries(
    admin_client, partner_world, django_assert_num_queries
):
    now = timezone.now()
    url = reverse("support:forecast")
    rival = Organization.objects.get(name="Rival Partners")
    make_customer(name="Unlisted first", deletion_marked_at=now)
    admin_client.get(url)  # the session is read, not written, from here on
    with django_assert_num_queries(SUPPORT_PAGE_QUERIES):
        assert admin_client.get(url, {"days": 90}).status_code == 200
    for n in range(15):
        _on_two_lists(
            f"Shared {n}",
            partner=partner_world["partner"],
            rival=rival,
            deletion_marked_at=now - timedelta(days=40 + n),
            deletion_warned_at=now - timedelta(days=n),
        )
        make_customer(name=f"Unlisted {n}", deletion_marked_at=now - timedelta(days=n))
    with django_assert_num_queries(SUPPORT_PAGE_QUERIES):
        html = admin_client.get(url, {"days": 90}).content.decode()
    assert "Shared 14" in html
    assert "Unlisted 14" in html
    with django_assert_num_queries(SUPPORT_CSV_QUERIES):
        admin_client.get(url, {"days": 90, "export": "csv"})


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="reads SQLite's EXPLAIN QUERY PLAN output"
)
def test_support_reads_the_read_model_by_date_range_not_every_row(partner_world):
    """At 100k customers the warnings' count walked every read-model row in customer order
    (DISTINCT over a subquery): 3x the customer list's time. Each query of the read model now
    searches a date index; none scans the table or an index from end to end."""
    now = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        forecast_page(partner=None, now=now, days=90, limit=500)
    plans = []
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            if "licensing_customerrow" not in query["sql"].split(" WHERE ")[0]:
                continue  # the orgs on no list: an anti-join of the organizations
            cursor.execute(f"EXPLAIN QUERY PLAN {query['sql']}")
            plans.append(" / ".join(row[-1] for row in cursor.fetchall()))
    assert len(plans) == 4, plans
    for plan in plans:
        assert "SCAN licensing_customerrow" not in plan, plan
        assert "_day_idx" in plan, plan


# The partner's page: session, user and membership, then the forecast (4); its CSV the same.
PARTNER_PAGE_QUERIES = 3 + PARTNER_FORECAST_QUERIES


def test_the_partner_page_and_its_csv_read_a_fixed_number_of_queries(
    client, partner_world, django_assert_num_queries
):
    now = timezone.now()
    partner = partner_world["partner"]
    client.force_login(partner_world["seller"])
    url = reverse("customers:deletion_forecast")
    client.get(url)
    with django_assert_num_queries(PARTNER_PAGE_QUERIES):
        client.get(url, {"days": 90})
    for n in range(15):
        make_customer(name=f"More {n}", partner=partner, deletion_marked_at=now)
    with django_assert_num_queries(PARTNER_PAGE_QUERIES):
        assert "More 14" in client.get(url, {"days": 90}).content.decode()
    with django_assert_num_queries(PARTNER_PAGE_QUERIES):
        client.get(url, {"days": 90, "export": "csv"})


@pytest.mark.parametrize("language", ["da", "sv", "it", "zh-hant"])
def test_the_chart_geometry_is_not_localized(admin_client, admin_user, partner_world, language):
    """A Danish, Swedish or Italian decimal comma in an SVG attribute ("12,5") is no number:
    the browser drops the bar. The geometry stays in dots whatever the reader's language."""
    admin_user.language = language
    admin_user.save(update_fields=["language"])
    html = admin_client.get(reverse("support:forecast"), {"days": 30}).content.decode()
    chart = html[html.index("<svg") : html.index("</svg>")]
    assert re.findall(r'(?:x|y|width|height)="[^"]*,[^"]*"', chart) == []
    assert re.search(r'width="\d+\.\d"', chart)  # fractional widths: 720 / 31 days


def test_orgs_on_no_list_are_found_by_the_flag_the_read_model_keeps(partner_world):
    """Issue 16, the support forecast under 2× the list at 100k: finding the orgs on no
    partner's list probed the list for every org (25 of its 50 ms). The read model now keeps
    ``Organization.on_partner_list`` in the transaction that adds or drops an org's rows —
    put on a list, taken off the last one, its partner deleted — the support forecast reads
    the few unlisted orgs through a partial index, and the read model's check names a flag
    that disagrees with the rows."""
    from licensing.readmodel import customer_rows_check, customer_rows_forget
    from partnerhub.accounts.services import relationship_grant, relationship_revoke

    now = timezone.now()
    partner = partner_world["partner"]
    direct = make_customer(name="Direct Co", deletion_marked_at=now)  # on no list
    listed = make_customer(name="Listed Co", partner=partner, deletion_marked_at=now)
    assert not Organization.objects.get(pk=direct.pk).on_partner_list
    assert Organization.objects.get(pk=listed.pk).on_partner_list

    def support_names() -> list[str]:  # each warning of the 90 days (marked now: one each)
        rows = deletion_forecast(partner=None, now=now, days=90)
        return [r.name for r in rows if r.kind == ForecastKind.WARNING]

    assert support_names().count("Direct Co") == 1
    assert support_names().count("Listed Co") == 1  # from its row, not a second time

    relationship_grant(partner=partner, customer=direct)
    customer_rows_refresh(customer_ids=[direct.pk])
    assert Organization.objects.get(pk=direct.pk).on_partner_list
    assert support_names().count("Direct Co") == 1

    relationship_revoke(partner=partner, customer=listed)
    customer_rows_refresh(customer_ids=[listed.pk])
    assert not Organization.objects.get(pk=listed.pk).on_partner_list
    assert support_names().count("Listed Co") == 1  # now through org_forecast

    other = make_partner(name="Short-lived Partners")
    only_there = make_customer(name="Only There Co", partner=other, deletion_marked_at=now)
    customer_rows_forget(org_ids=[other.pk])  # before the partner org is deleted (D4, D9)
    other.delete()
    assert not Organization.objects.get(pk=only_there.pk).on_partner_list
    assert not customer_rows_check()

    Organization.objects.filter(pk=only_there.pk).update(on_partner_list=True)
    problems = [str(p) for p in customer_rows_check()]
    assert problems == [f"partner 0, customer {only_there.pk}: on_partner_list: True ≠ False"]
    Organization.objects.filter(pk=only_there.pk).update(on_partner_list=False)
