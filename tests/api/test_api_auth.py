"""API keys (issue 15): shown once, stored hashed, scoped, acting as their creator (T1);
problem details for every 4xx; rate and size limits; Idempotency-Key."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone

from licensing.models import Subscription
from partnerhub.accounts.api_keys import api_key_create, api_key_revoke
from partnerhub.accounts.choices import Role
from partnerhub.accounts.models import ApiKey, Membership

pytestmark = pytest.mark.django_db

START = {
    "company_name": "Newco",
    "admin_email": "it@newco.example",
    "vertical": "retail",
    "country": "DK",
    "services": ["messaging"],
    "licenses": 10,
    "length": 30,
}


def test_a_key_is_stored_hashed_and_shown_once(world):
    key, token = api_key_create(
        actor=world.sales_admin, name="CRM", scopes=["read", "trials"], expires_in_days=90
    )
    assert token.startswith(f"ph_{key.prefix}_")
    stored = ApiKey.objects.get(pk=key.pk)
    assert token not in str(stored.__dict__)
    assert stored.secret_hash == hashlib.sha256(token.encode()).hexdigest()


def test_T1_a_read_only_admin_can_only_make_read_keys(world):
    with pytest.raises(ValidationError):
        api_key_create(actor=world.read_only, name="x", scopes=["trials"], expires_in_days=None)
    key, _ = api_key_create(actor=world.read_only, name="x", scopes=["read"], expires_in_days=None)
    assert key.scopes == ["read"]


def test_no_key_bad_key_revoked_or_expired_is_401_problem(world, api_for, client):
    response = client.get("/api/v1/customers/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401
    assert "Bearer" in response["WWW-Authenticate"]
    api = api_for(world.sales_admin)
    assert api.get("/customers/").status_code == 200
    api.token = api.token[:-2] + "xx"
    assert api.get("/customers/").status_code == 401
    key, token = api_key_create(
        actor=world.sales_admin, name="y", scopes=["read"], expires_in_days=1
    )
    api.token = token
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert api.get("/customers/").status_code == 401
    api_key_revoke(key=key, actor=world.sales_admin)
    assert api.get("/customers/").status_code == 401


def test_a_key_records_its_last_use_and_ip(world, api_for):
    api = api_for(world.sales_admin)
    api.client.get(
        "/api/v1/customers/",
        headers={"Authorization": f"Bearer {api.token}"},
        REMOTE_ADDR="203.0.113.9",
    )
    key = ApiKey.objects.get(created_by=world.sales_admin)
    assert key.last_used_at is not None
    assert key.last_used_ip == "203.0.113.9"


def test_a_key_without_the_scope_is_403(world, api_for):
    api = api_for(world.sales_admin, scopes=["read"])
    response = api.post("/trials/", START)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_T1_a_key_acts_as_its_creators_current_role(world, api_for):
    api = api_for(world.sales_admin, scopes=["read", "trials"])
    Membership.objects.filter(user=world.sales_admin).update(role=Role.PARTNER_READ_ONLY)
    assert api.post("/trials/", START).status_code == 403
    assert not Subscription.objects.filter(customer__name="Newco").exists()


def test_validation_errors_are_problem_details_with_fields(world, api_for):
    api = api_for(world.sales_admin, scopes=["read", "trials"])
    response = api.post("/trials/", {**START, "admin_email": "nope", "services": []})
    assert response.status_code == 400
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    fields = {e["field"] for e in body["errors"]}
    assert "admin_email" in fields
    # The form's own rule (at least one service), as the page says it.
    response = api.post("/trials/", {**START, "services": []})
    assert response.status_code == 400
    assert any("at least one service" in e["message"] for e in response.json()["errors"])


def test_unknown_api_url_is_a_problem_404(world, api_for):
    response = api_for(world.sales_admin).get("/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_rate_limit_is_429_with_retry_after(world, api_for, settings):
    cache.clear()
    settings.API_RATE_LIMIT = "3/min"
    api = api_for(world.sales_admin)
    codes = [api.get("/customers/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    last = api.get("/customers/")
    assert int(last["Retry-After"]) > 0
    assert last["Content-Type"] == "application/problem+json"
    cache.clear()


def test_a_too_large_body_is_413(world, api_for, settings):
    settings.API_MAX_BODY_BYTES = 1000
    api = api_for(world.sales_admin, scopes=["read", "trials"])
    response = api.post("/trials/", {**START, "company_name": "x" * 2000})
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"


def test_idempotency_key_replays_the_first_answer_and_changes_nothing(world, api_for):
    api = api_for(world.sales_admin, scopes=["read", "trials"])
    first = api.post("/trials/", START, **{"Idempotency-Key": "abc-1"})
    assert first.status_code == 201, first.content
    again = api.post("/trials/", START, **{"Idempotency-Key": "abc-1"})
    assert again.status_code == 201, again.content
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Subscription.objects.filter(customer__name="Newco").count() == 1
    other = api.post("/trials/", {**START, "licenses": 11}, **{"Idempotency-Key": "abc-1"})
    assert other.status_code == 422
    assert other["Content-Type"] == "application/problem+json"


def test_a_failed_request_leaves_no_idempotency_record(world, api_for):
    api = api_for(world.sales_admin, scopes=["read", "trials"])
    bad = api.post("/trials/", {**START, "services": []}, **{"Idempotency-Key": "k2"})
    assert bad.status_code == 400
    good = api.post("/trials/", START, **{"Idempotency-Key": "k2"})
    assert good.status_code == 201  # the refused request stored nothing under its key
