"""The customer list: columns, filters (P4, D2), sort, pages, CSV, the count band, and a fixed
number of queries whatever the page size and filters."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from licensing.choices import ProvisioningStatus, ServiceType, SubscriptionKind
from partnerhub.accounts.choices import Role
from tests.factories import listed_facts_changed, make_customer, make_subscription, make_user

pytestmark = pytest.mark.django_db
URL = reverse("customers:customer_list")
# session, user, membership+org (with the bell's unread count), count(+band), page
# rows+orgs+admins, services; the saved views (issue 16) ride on the membership query
LIST_QUERIES = 6


def names(response) -> list[str]:
    table = response.context["table"]
    return [row.record.name for row in table.page.object_list]


def export(client, **params) -> list[list[str]]:
    response = client.get(URL, {"export": "csv", **params})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def signed_in(client, world):
    client.force_login(world.sales_admin)
    return client


def test_partner_lands_on_the_dashboard(client, world):
    # Issue 16: the dashboard (each number a link into this list) is the landing page.
    client.force_login(world.read_only)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:dashboard")


def test_P2_P3_D2_columns(signed_in, world):
    response = signed_in.get(URL)
    html = response.content.decode()
    assert names(response) == ["Paid Co", "Sleepy Co", "Trial Co"]
    assert "Secret Co" not in html  # another partner's customer
    # D2/D8: the tag and the planned date beside the name.
    assert "To be deleted" in html
    # P2: the most urgent status; P3 with days left for trials.
    assert "Provisioning failed" in html
    assert "Trial expiring within 30 days" in html
    assert "10 days left" in html
    assert "boss@paid.example" in html.replace("<wbr>", "")  # may break after the local part


def test_D2_to_be_deleted_filter(signed_in):
    assert names(signed_in.get(URL, {"to_be_deleted": "true"})) == ["Sleepy Co"]
    # unticked means everybody
    assert len(names(signed_in.get(URL, {"to_be_deleted": ""}))) == 3


def test_P4_customer_matches_when_one_subscription_matches(signed_in, world):
    # Paid Co gets a second, expiring subscription: it is listed for either status.
    today = timezone.localdate()
    make_subscription(
        customer=world.customer_paid,
        partner=world.partner,
        kind=SubscriptionKind.PAID,
        start=today - timedelta(days=300),
        end=today + timedelta(days=45),
        services={ServiceType.MEETINGS: 3},
    )
    assert names(signed_in.get(URL, {"subscription_status": "expiring_60"})) == ["Paid Co"]
    assert names(signed_in.get(URL, {"subscription_status": "active"})) == ["Paid Co"]
    both = signed_in.get(URL, {"subscription_status": ["active", "trial_expiring_30"]})
    assert names(both) == ["Paid Co", "Trial Co"]
    assert names(signed_in.get(URL, {"subscription_status": "trial_expired"})) == []


def test_P4_provisioning_status_filter(signed_in):
    assert names(signed_in.get(URL, {"provisioning_status": "failed"})) == ["Trial Co"]
    assert names(signed_in.get(URL, {"provisioning_status": "provisioned"})) == ["Paid Co"]


def test_service_region_and_search_filters(signed_in, world):
    assert names(signed_in.get(URL, {"service": "calling"})) == ["Paid Co"]
    assert names(signed_in.get(URL, {"region": "amer"})) == ["Trial Co"]
    assert names(signed_in.get(URL, {"q": "sleepy"})) == ["Sleepy Co"]
    assert names(signed_in.get(URL, {"q": "boss@paid"})) == ["Paid Co"]
    # another partner's customer is never found, by name or by its admin's email
    assert names(signed_in.get(URL, {"q": "Secret"})) == []


def test_search_matches_any_admin_by_email_start_or_domain_on_the_read_row_only(signed_in, world):
    """Issue 11: every customer admin counts (not only the first), "starts with" and "domain
    is" match exactly that, and on PostgreSQL the search reads the read model's row: its
    filter and count never join the users (ten million of them at a million customers).
    SQLite, without trigram indexes, finds the admins through the users' email index."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_user(org=world.customer_paid, role=Role.CUSTOMER_READ_ONLY, email="zed@other.example")
    listed_facts_changed(world.customer_paid)
    assert names(signed_in.get(URL, {"q": "zed@"})) == ["Paid Co"]  # the second admin
    assert names(signed_in.get(URL, {"q": "ZED"})) == ["Paid Co"]
    assert names(signed_in.get(URL, {"q": "other.example"})) == ["Paid Co"]  # the domain
    assert names(signed_in.get(URL, {"q": "ed@other"})) == []  # not the start of an email
    assert names(signed_in.get(URL, {"q": "other.exam"})) == []  # not a whole domain
    assert names(signed_in.get(URL, {"q": "zed@other.example boss"})) == []  # never across two
    # A plain user's email is no admin's.
    make_user(org=world.customer_trial, role=Role.USER, email="plainuser@trial.example")
    listed_facts_changed(world.customer_trial)
    assert names(signed_in.get(URL, {"q": "plainuser"})) == []
    with CaptureQueriesContext(connection) as captured:
        signed_in.get(URL, {"q": "zed"})
    counting = [  # the list's count (the bell's count rides on the membership query)
        q["sql"]
        for q in captured.captured_queries
        if "COUNT(" in q["sql"] and 'FROM "licensing_customerrow"' in q["sql"]
    ]
    assert counting
    if connection.vendor == "postgresql":
        assert not any("accounts_user" in sql for sql in counting)


def test_search_indexes_exist_on_postgresql(db):
    """Issue 11: trigram GIN indexes serve the search on PostgreSQL (the migration creates
    them there only; SQLite has no trigram index)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: the trigram indexes are not created on SQLite")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
            ["licensing_customerrow"],
        )
        found = dict(cursor.fetchall())
    for name, column in (("crow_name_trgm", "name_key"), ("crow_admins_trgm", "admin_emails_key")):
        assert name in found, sorted(found)
        assert "USING gin" in found[name]
        assert f"{column} gin_trgm_ops" in found[name]


def test_filters_combine_with_sort_and_pages(signed_in, world):
    for i in range(30):
        make_customer(name=f"Bulk {i:02d}", partner=world.partner)
    first = signed_in.get(URL, {"q": "bulk", "sort": "-name", "per_page": 25})
    assert names(first)[0] == "Bulk 29"
    assert len(names(first)) == 25
    html = first.content.decode()
    # the page links keep the filter and the sort
    assert "q=bulk" in html
    assert "sort=-name" in html
    assert "page=2" in html
    second = signed_in.get(URL, {"q": "bulk", "sort": "-name", "per_page": 25, "page": 2})
    assert names(second) == [f"Bulk {i:02d}" for i in range(4, -1, -1)]
    # a page past the end shows the last page, a bad number the first: never a 500
    assert names(signed_in.get(URL, {"q": "bulk", "page": 99, "per_page": 25}))[-1] == "Bulk 29"
    assert signed_in.get(URL, {"page": "x", "per_page": "y"}).status_code == 200


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Paid Co", "Sleepy Co", "Trial Co"]),
        ("-name", ["Trial Co", "Sleepy Co", "Paid Co"]),
        ("provisioning_status", ["Trial Co", "Paid Co", "Sleepy Co"]),
        ("-provisioning_status", ["Paid Co", "Trial Co", "Sleepy Co"]),
        ("subscription_status", ["Trial Co", "Paid Co", "Sleepy Co"]),
        ("services", ["Paid Co", "Trial Co", "Sleepy Co"]),
        ("-services", ["Trial Co", "Paid Co", "Sleepy Co"]),
        ("data_region", ["Trial Co", "Paid Co", "Sleepy Co"]),
        ("admins", ["Trial Co", "Paid Co", "Sleepy Co"]),
        ("created", ["Paid Co", "Trial Co", "Sleepy Co"]),
    ],
)
def test_sort_by_every_column(signed_in, sort, expected):
    assert names(signed_in.get(URL, {"sort": sort})) == expected


def test_csv_export_has_the_columns_on_screen_and_the_filtered_rows(signed_in):
    rows = export(signed_in, subscription_status="trial_expiring_30")
    assert rows[0] == [
        "Customer",
        "To be deleted on",
        "Provisioning status",
        "Subscription status",
        "Services",
        "Data location",
        "Customer admins",
        "Created",
    ]
    assert len(rows) == 2
    assert rows[1][0] == "Trial Co"
    assert rows[1][1] == ""
    assert rows[1][2] == "Provisioning failed"
    assert rows[1][3].startswith("Trial expiring within 30 days")
    everything = export(signed_in)
    # The name cell is the name alone; the deletion date has a column of its own.
    assert [r[0] for r in everything[1:]] == ["Paid Co", "Sleepy Co", "Trial Co"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", everything[2][1])
    assert not any("Secret" in cell for row in everything for cell in row)


def test_count_band_counts_and_links(signed_in):
    response = signed_in.get(URL)
    band = {item["key"]: item for item in response.context["summary"]}
    assert band["to_be_deleted"]["count"] == 1
    assert band["trial_expiring_30"]["count"] == 1
    assert band["provisioning_failed"]["count"] == 1
    assert band["expiring_30"]["count"] == 0
    for item in band.values():
        linked = signed_in.get(f"{URL}?{item['query']}")
        assert linked.context["count"] == item["count"], item["key"]


def _many(world, n):
    today = timezone.localdate()
    statuses = list(ProvisioningStatus.values)
    for i in range(n):
        marked = timezone.now() - timedelta(days=1) if i % 3 == 0 else None
        org = make_customer(name=f"Many {i:03d}", partner=world.partner, deletion_marked_at=marked)
        make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN)
        make_user(org=org, role=Role.CUSTOMER_READ_ONLY)
        make_subscription(
            customer=org,
            partner=world.partner,
            kind=SubscriptionKind.TRIAL if i % 2 else SubscriptionKind.PAID,
            end=today + timedelta(days=i % 90),
            services={ServiceType.MESSAGING: 1, ServiceType.CALLING: 1},
            status=statuses[i % len(statuses)],
        )


SORTS = ["name", "provisioning_status", "subscription_status", "services", "data_region"]
SORTS += ["admins", "created"]
FILTERS = [
    {},
    {"to_be_deleted": "true"},
    {"provisioning_status": ["failed", "provisioned"]},
    {"subscription_status": ["active", "trial_active", "trial_expiring_60"]},
    {"service": ["calling"]},
    {"region": ["emea", "amer"]},
    {"q": "many"},
    {
        "q": "many",
        "provisioning_status": ["failed", "provisioned"],
        "subscription_status": ["active", "trial_active", "trial_expiring_60"],
        "service": ["calling"],
        "region": ["emea", "amer"],
        "to_be_deleted": "true",
    },
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: "+".join(f) or "unfiltered")
def test_list_costs_at_most_six_queries_for_every_page_filter_sort_and_size(
    client, world, django_assert_max_num_queries, filters
):
    from django.core.cache import cache

    _many(world, 120)
    client.force_login(world.sales_admin)
    combos = [(sort, d) for sort in SORTS for d in ("", "-")]
    for i, (sort, direction) in enumerate(combos):
        per_page = (25, 50, 100)[i % 3]
        page = (1, 2, 99)[i % 3]  # 99: past the end: the last page, as a 404
        if i % 4 == 0:
            cache.clear()  # the band must be recounted (with the filtered count)
        params = {**filters, "sort": direction + sort, "per_page": per_page, "page": page}
        with django_assert_max_num_queries(LIST_QUERIES):
            response = client.get(URL, params)
        # A page past the end shows the last page, with a 404 status.
        assert response.status_code == 200 or (page > 1 and response.status_code == 404)


def test_an_unfiltered_page_with_a_fresh_band_needs_no_count_query(
    client, world, django_assert_num_queries
):
    _many(world, 30)
    client.force_login(world.sales_admin)
    client.get(URL)
    with django_assert_num_queries(LIST_QUERIES - 1):  # the fresh band's total is the count
        response = client.get(URL, {"page": 2, "per_page": 25})
    assert response.context["count"] == 33


def test_deep_pages_walk_from_the_nearer_end_and_match_the_forward_order(client, world):
    _many(world, 60)
    client.force_login(world.sales_admin)
    for sort in ("name", "-admins", "services", "-subscription_status"):
        forward = []
        for page in (1, 2, 3):
            forward += names(client.get(URL, {"sort": sort, "per_page": 25, "page": page}))
        one_page = names(client.get(URL, {"sort": sort, "per_page": 100}))
        assert forward == one_page, sort


def test_an_empty_result_costs_fewer_queries(client, world, django_assert_max_num_queries):
    client.force_login(world.sales_admin)
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(URL, {"q": "nobody has this name"})
    assert response.context["count"] == 0
    assert "No customers match these filters." in response.content.decode()


def test_cheap_count_says_more_than_for_big_filtered_lists_only(client, world, monkeypatch):
    from customers.views import CustomerListView

    monkeypatch.setattr(CustomerListView, "count_cap", 10)
    monkeypatch.setattr(CustomerListView, "count_pages_ahead", 0)
    _many(world, 30)
    client.force_login(world.sales_admin)
    unfiltered = client.get(URL, {"per_page": 25})
    assert unfiltered.context["count"] == 33
    assert not unfiltered.context["count_capped"]
    filtered = client.get(URL, {"q": "many", "per_page": 25})
    assert filtered.context["count_capped"]
    assert "of more than" in filtered.content.decode()
    assert len(names(filtered)) == 25


# ---- issue 13: words, pages and accessibility of the list -------------------------------


def test_page_past_the_last_is_said_not_silently_replaced(signed_in):
    response = signed_in.get(URL, {"page": "99"})
    assert response.status_code == 404
    html = response.content.decode()
    assert 'id="page-missing"' in html
    assert "There is no page 99: this list has 1 page." in html
    assert signed_in.get(URL, {"page": "1"}).status_code == 200


def test_count_band_words_follow_the_count(signed_in):
    from customers.views import band_label

    assert band_label("expiring_30", 1) == "subscription expiring within 30 days"
    assert band_label("expiring_30", 2) == "subscriptions expiring within 30 days"
    assert band_label("trial_expired", 1) == "trial expired"


def test_headers_have_scope_and_sort_state_and_the_search_box_a_label(signed_in):
    html = signed_in.get(URL, {"sort": "-created"}).content.decode()
    assert html.count('scope="col"') >= 7
    assert 'aria-sort="descending"' in html
    assert 'aria-sort="none"' in html
    assert '<label for="id_q">Search name or admin email</label>' in html
    assert 'class="skip-link" href="#main"' in html


def test_the_page_rows_are_found_by_key_never_by_walking_the_partners_index(
    client, world, django_assert_max_num_queries
):
    """Issue 11: the page's rows are read by the ids the sort index cut (primary keys on
    SQLite, whose planner otherwise walks the partner's whole sort index to find 50 rows;
    (partner, customer) on PostgreSQL), for every sort."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _many(world, 30)
    client.force_login(world.sales_admin)
    for sort in SORTS:
        for direction in ("", "-"):
            with CaptureQueriesContext(connection) as captured:
                names_shown = names(client.get(URL, {"sort": direction + sort, "per_page": 25}))
            assert len(names_shown) == 25
            (page_sql,) = [
                q["sql"]
                for q in captured.captured_queries
                if q["sql"].count('FROM "licensing_customerrow"') == 2
            ]
            if connection.vendor != "sqlite":
                assert '"licensing_customerrow"."customer_id" IN (SELECT' in page_sql
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN QUERY PLAN " + page_sql)
                plan = [row[-1] for row in cursor.fetchall()]
            assert plan[0].startswith("SEARCH licensing_customerrow USING INTEGER PRIMARY KEY"), (
                sort,
                plan,
            )
