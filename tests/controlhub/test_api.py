# ruff: noqa: F811 - the api_for fixture is imported, then requested by name
"""Control Hub through the API (issue 15): users and licenses; one atomic license change per
user (C3 move, C2 as an explicit flag) and one bulk plan (C4: all rows or none, every bad row
named). Keys act as their creator: read-only admins read, other orgs are 404s."""

from __future__ import annotations

import pytest

from licensing.choices import ServiceType
from licensing.models import License
from partnerhub.accounts.choices import Role
from tests.api.conftest import (
    _fresh_cache,  # noqa: F401 - clean cache per test
    api_for,  # noqa: F401 - the fixture
)
from tests.factories import make_customer, make_user

from .conftest import calling_service_of, calling_snapshot

pytestmark = pytest.mark.django_db


def svc(sub, service_type):
    return sub.services.get(type=service_type).pk


def test_users_and_their_licenses(world, api_for):
    api = api_for(world.reader)
    body = api.get(f"/orgs/{world.org.pk}/users/").json()
    alice = next(u for u in body["results"] if u["email"] == world.alice.email)
    assert {lic["service_type"] for lic in alice["licenses"]} == {"calling", "messaging"}


def test_C3_one_put_moves_calling_and_keeps_calling_data(world, api_for):
    api = api_for(world.admin, scopes=["read", "users"])
    before = calling_snapshot(world.alice)
    response = api.put(
        f"/orgs/{world.org.pk}/users/{world.alice.pk}/licenses/",
        {
            "service_ids": [
                svc(world.new, ServiceType.CALLING),
                svc(world.old, ServiceType.MESSAGING),
            ]
        },
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"changed": True, "calling_moved": True, "calling_lost": False}
    assert calling_service_of(world.alice) == world.new
    assert calling_snapshot(world.alice) == before


def test_C2_removing_calling_needs_the_explicit_flag(world, api_for):
    api = api_for(world.admin, scopes=["read", "users"])
    url = f"/orgs/{world.org.pk}/users/{world.alice.pk}/licenses/"
    body = {"service_ids": [svc(world.old, ServiceType.MESSAGING)]}
    refused = api.put(url, body)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "confirm_calling_loss"
    assert world.alice.email in refused.json()["errors"][0]["message"]
    assert calling_service_of(world.alice) == world.old
    done = api.put(url, {**body, "confirm_calling_loss": True})
    assert done.json()["calling_lost"] is True
    assert not License.objects.filter(user=world.alice, service_type=ServiceType.CALLING).exists()


def test_C4_bulk_plan_is_all_or_nothing_and_names_every_bad_row(world, api_for):
    api = api_for(world.admin, scopes=["read", "users"])
    bob = make_user(org=world.org, role=Role.USER, email="bob@fjord.example")
    url = f"/orgs/{world.org.pk}/licenses/bulk/"
    bad = api.post(
        url,
        {
            "rows": [
                {"email": bob.email, "service_ids": [svc(world.new, ServiceType.MESSAGING)]},
                {"email": "ghost@fjord.example", "service_ids": []},
                {"email": bob.email, "service_ids": []},
            ]
        },
    )
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"rows[1].email", "rows[2].email"}
    assert not License.objects.filter(user=bob).exists()
    wrong_service = api.post(url, {"rows": [{"email": bob.email, "service_ids": [999999]}]})
    assert wrong_service.status_code == 400
    assert wrong_service.json()["errors"][0]["field"].startswith("rows[0]")
    ok = api.post(
        url,
        {"rows": [{"email": bob.email, "service_ids": [svc(world.new, ServiceType.MESSAGING)]}]},
        **{"Idempotency-Key": "bulk-1"},
    )
    assert ok.status_code == 200, ok.content
    assert ok.json() == {"users_changed": 1}
    assert License.objects.filter(user=bob).count() == 1


def test_a_read_only_admins_key_cannot_change_licenses(world, api_for):
    api = api_for(world.reader)  # T1-style: read-only people only get read keys
    url = f"/orgs/{world.org.pk}/users/{world.alice.pk}/licenses/"
    assert api.put(url, {"service_ids": []}).status_code == 403


def test_another_orgs_users_are_404(world, api_for):
    other = make_customer(name="Elsewhere")
    api = api_for(world.admin, scopes=["read", "users"])
    assert api.get(f"/orgs/{other.pk}/users/").status_code == 404


def test_D5_activity_is_reported_for_the_keys_own_org_only(world, api_for):
    api = api_for(world.admin, scopes=["read", "users"])
    other = make_customer(name="Elsewhere")
    stranger = make_user(org=other, role=Role.USER, email="stranger@elsewhere.example")
    refused = api.post(
        "/activity/",
        {"events": [{"email": stranger.email, "kind": "message"}]},
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "events[0].email"
    ok = api.post("/activity/", {"events": [{"email": world.alice.email, "kind": "message"}]})
    assert ok.status_code == 200, ok.content
    assert ok.json()["recorded"] == 1


def test_the_old_activity_url_still_works_and_says_it_is_deprecated(world, client, settings):
    settings.ACTIVITY_API_TOKEN = "t0ken"
    response = client.post(
        "/api/activity/",
        {"email": world.alice.email, "kind": "message"},
        content_type="application/json",
        headers={"Authorization": "Bearer t0ken"},
    )
    assert response.status_code == 200
    assert response["Deprecation"] == "true"
    assert "/api/v1/activity/" in response["Link"]


def test_the_api_keys_page_shows_a_new_token_once(world, client):
    client.force_login(world.admin)
    response = client.post(
        "/settings/api-keys/", {"name": "Sync", "scopes": ["read", "users"], "expires_in_days": ""}
    )
    assert response.status_code == 200
    page = response.content.decode()
    token = page.split('data-testid="new-token">', 1)[1].split("<", 1)[0]
    assert token.startswith("ph_")
    listing = client.get("/settings/api-keys/").content.decode()
    assert token not in listing
    assert "Sync" in listing
    client.force_login(world.reader)
    refused = client.post("/settings/api-keys/", {"name": "x", "scopes": ["users"]})
    assert "new-token" not in refused.content.decode()
