"""Issue 9, finding 5: bad input is a 400 or a field error, never a 500 — list page parameters
and every field of POST /api/activity/ (run this file on PostgreSQL too: NUL bytes)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from customers.models import ActivityEvent
from partnerhub.accounts.choices import Role
from tests.factories import make_customer, make_partner, make_subscription, make_user

pytestmark = pytest.mark.django_db
TOKEN = "t" * 40
API = "/api/activity/"

BAD_LIST_PARAMS = [
    {"per_page": "-1"},
    {"per_page": "0"},
    {"per_page": "10000000000000000000000000"},
    {"per_page": "abc"},
    {"page": "abc"},
    {"page": "-5"},
    {"page": "99999999999999999999999999999"},
    {"page": "1e9"},
    {"page": "\x00"},
    {"sort": "nonsense"},
    {"sort": "-"},
    {"q": "\x00"},
    {"provisioning_status": "nope"},
]


@pytest.mark.parametrize("params", BAD_LIST_PARAMS)
def test_finding_5_customer_list_page_params(client, params):
    partner = make_partner(name="Northwind")
    make_subscription(customer=make_customer(name="Alpha", partner=partner), partner=partner)
    client.force_login(make_user(org=partner, role=Role.PARTNER_READ_ONLY))
    response = client.get(reverse("customers:customer_list"), params)
    assert response.status_code in (200, 400, 404)  # a page past the end may be a 404


@pytest.mark.parametrize("params", BAD_LIST_PARAMS)
def test_control_hub_user_list_page_params(client, params):
    org = make_customer(name="Litware")
    make_subscription(customer=org)
    client.force_login(make_user(org=org, role=Role.CUSTOMER_READ_ONLY))
    response = client.get(reverse("controlhub:user_list", kwargs={"org_pk": org.pk}), params)
    assert response.status_code in (200, 400, 404)  # a page past the end may be a 404


@pytest.fixture
def api(client, settings):
    settings.ACTIVITY_API_TOKEN = TOKEN

    def post(raw: str | bytes):
        return client.post(
            API, data=raw, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"
        )

    return post


@pytest.fixture
def someone(db):
    return make_user(org=make_customer(name="Litware"), role=Role.USER, email="bo@litware.example")


@pytest.mark.parametrize(
    "event",
    [
        {"email": "bo\x00@litware.example", "kind": "message"},
        {"email": "bo@litware.example\x00", "kind": "message"},
        {"email": "bo@litware.example", "kind": "message\x00"},
        {"email": "bo@litware.example", "kind": "message", "source": "chat\x00"},
        {"email": "bo@litware.example", "kind": "message", "at": "2026-01-01\x00"},
        {"email": "x" * 10_000 + "@litware.example", "kind": "message"},
        {"email": ["bo@litware.example"], "kind": "message"},
        {"email": "bo@litware.example", "kind": ["message"]},
        {"email": "bo@litware.example", "kind": {"a": 1}},
        {"email": "bo@litware.example", "kind": "message", "at": 12},
        {"email": "bo@litware.example", "kind": "message", "at": "x" * 100_000},
        {"email": "bo@litware.example", "kind": "message", "source": 5},
        {"email": None, "kind": None, "at": None, "source": None},
    ],
)
def test_finding_5_every_field_of_the_activity_api(api, someone, event):
    response = api(json.dumps(event))
    assert response.status_code == 400, response.content
    assert not ActivityEvent.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000 + "]" * 100_000,
        "[" * 100_000,
        '{"events": ' + "[" * 50 + "]" * 50 + "}",
        "1" * 10_000,  # longer than Python reads as an integer
        '"\\u0000"',
        b"\xff\xfe",
        "",
        "{",
    ],
)
def test_finding_5_bodies_of_the_activity_api(api, raw):
    assert api(raw).status_code == 400


def test_activity_api_body_size_limit(api, settings):
    settings.ACTIVITY_API_MAX_BODY_BYTES = 1000
    response = api(json.dumps({"events": [{"email": "a@b.example", "kind": "message"}] * 100}))
    assert response.status_code == 413


def test_activity_api_still_records_a_good_event(api, someone):
    assert api(json.dumps({"email": someone.email, "kind": "message"})).status_code == 200
    assert ActivityEvent.objects.count() == 1
