"""Issue 16: saved views of the customer list — save filters, sort and page size under a name,
a default opened on landing, shared with the partner org, never another partner's."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import SavedView
from partnerhub.accounts.models import AuditEntry

pytestmark = pytest.mark.django_db

LIST = reverse("customers:customer_list")
SAVE = reverse("customers:saved_view_save")
QUERY = "to_be_deleted=true&sort=-created&per_page=25&page=3"


def test_saving_a_view_keeps_filters_sort_and_page_size_not_the_page(client, world):
    client.force_login(world.sales_admin)
    response = client.post(SAVE, {"name": "Dying", "query": QUERY, "make_default": "on"})
    assert response.status_code == 302
    view = SavedView.objects.get(owner=world.sales_admin)
    assert view.query == "to_be_deleted=true&sort=-created&per_page=25"
    assert view.is_default
    assert AuditEntry.objects.filter(action="saved_view.save", target=str(view.pk)).exists()


def test_landing_on_the_list_opens_the_default_view_and_clear_shows_all(client, world):
    client.force_login(world.sales_admin)
    client.post(SAVE, {"name": "Dying", "query": QUERY, "make_default": "on"})
    response = client.get(LIST)
    assert response["Location"] == f"{LIST}?to_be_deleted=true&sort=-created&per_page=25"
    html = client.get(LIST, {"view": "all"}).content.decode()
    assert "Paid Co" in html  # every customer


def test_one_default_per_person(client, world):
    client.force_login(world.sales_admin)
    client.post(SAVE, {"name": "A", "query": "q=a", "make_default": "on"})
    client.post(SAVE, {"name": "B", "query": "q=b", "make_default": "on"})
    assert list(
        SavedView.objects.filter(owner=world.sales_admin, is_default=True).values_list(
            "name", flat=True
        )
    ) == ["B"]


def test_a_shared_view_is_listed_for_colleagues_not_for_other_partners(client, world):
    client.force_login(world.sales_admin)
    client.post(SAVE, {"name": "Team view", "query": "q=co", "shared": "on"})
    client.post(SAVE, {"name": "Mine only", "query": "q=x"})
    client.get(LIST, {"view": "all"})  # shows (and so clears) the "saved" messages
    client.force_login(world.read_only)
    html = client.get(LIST, {"view": "all"}).content.decode()
    assert "Team view" in html
    assert "Mine only" not in html
    client.force_login(world.other_sales_admin)
    assert "Team view" not in client.get(LIST, {"view": "all"}).content.decode()


def test_a_view_without_a_name_is_a_400(client, world):
    client.force_login(world.sales_admin)
    assert client.post(SAVE, {"name": "", "query": "q=a"}).status_code == 400


def test_saved_views_ride_on_the_access_query_and_read_back_exactly(
    client, world, django_assert_num_queries
):
    """Issue 11: the list's saved views come with the membership query of the access decision
    (JSON rows on both databases), so a page with views costs what a page without them does;
    names with quotes, commas and non-Latin letters, the owner of a shared view and the order by
    name all survive the trip."""
    from customers.saved_views import saved_view_save

    client.force_login(world.sales_admin)
    client.get(LIST, {"view": "all"})
    with CaptureQueriesContext(connection) as plain:
        client.get(LIST, {"view": "all", "page": 1})
    names = ['Zürich "north", EMEA', "試用 views", "alpha, beta"]
    for name in names:
        saved_view_save(
            owner=world.sales_admin, partner=world.partner, name=name, query=f"q={len(name)}"
        )
    saved_view_save(
        owner=world.sales_full_admin,
        partner=world.partner,
        name="Colleague's",
        query="q=c",
        shared=True,
    )
    with django_assert_num_queries(len(plain)):
        response = client.get(LIST, {"view": "all", "page": 1})
    views = response.context["saved_views"]
    assert [v.name for v in views] == sorted([*names, "Colleague's"])
    assert {v.name: v.query for v in views}['Zürich "north", EMEA'] == "q=20"
    html = response.content.decode()
    assert f"shared by {world.sales_full_admin.email}" in html
