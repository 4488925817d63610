"""Issue 16: the customer list's column chooser (show, hide, order), kept in the query string,
so a saved view keeps it and the CSV export follows it."""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from customers.saved_views import saved_view_save
from tests.partner.test_customer_list import LIST_QUERIES

pytestmark = pytest.mark.django_db
URL = reverse("customers:customer_list")


def headers(response) -> list[str]:
    return [c.name for c in response.context["table"].columns]


def test_the_chooser_hides_and_orders_columns(client, world):
    client.force_login(world.read_only)
    chosen = client.get(
        URL,
        {
            "to_be_deleted": "true",
            "columns_chosen": "1",
            "col": ["created", "subscription_status"],
            "pos_created": "1",
            "pos_subscription_status": "2",
        },
    )
    assert chosen.status_code == 302
    query = parse_qs(urlsplit(chosen["Location"]).query)
    assert query["columns"] == ["created,subscription_status"]
    assert query["to_be_deleted"] == ["true"]  # the filters stay
    response = client.get(chosen["Location"])
    assert headers(response) == ["select", "name", "created", "subscription_status"]
    html = response.content.decode()
    assert 'id="column-chooser"' in html
    assert "Sleepy Co" in html


def test_unticking_every_column_leaves_the_name(client, world):
    client.force_login(world.sales_admin)
    chosen = client.get(URL, {"view": "all", "columns_chosen": "1"})
    assert headers(client.get(chosen["Location"])) == ["select", "name"]


def test_the_export_has_the_chosen_columns(client, world):
    client.force_login(world.sales_admin)
    response = client.get(URL, {"columns": "data_region,name,bogus", "export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Customer", "To be deleted on", "Data location"]


def test_a_saved_view_keeps_its_columns(client, world):
    saved_view_save(
        owner=world.sales_admin,
        partner=world.partner,
        name="Lean",
        query="columns=admins,services&sort=-created",
        make_default=True,
    )
    client.force_login(world.sales_admin)
    landing = client.get(URL)
    assert "columns=admins%2Cservices" in landing["Location"]
    assert headers(client.get(landing["Location"])) == ["select", "name", "admins", "services"]


def test_chosen_columns_cost_no_query(client, world, django_assert_num_queries):
    client.force_login(world.sales_admin)
    with django_assert_num_queries(LIST_QUERIES):
        client.get(URL, {"columns": "created", "view": "all"})
