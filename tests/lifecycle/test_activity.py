"""D5: activity from our own sign-in, from the command, and from outside systems (the API)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from customers.choices import ActivityKind
from customers.models import ActivityEvent
from partnerhub.accounts.choices import Role
from partnerhub.accounts.models import Organization
from tests.factories import PASSWORD, make_customer, make_partner, make_user

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-activity-token-for-tests"
URL = "/api/activity/"


@pytest.fixture
def api(client, settings):
    settings.ACTIVITY_API_TOKEN = TOKEN

    def post(body, token=TOKEN, raw=None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
        data = raw if raw is not None else json.dumps(body)
        return client.post(URL, data=data, content_type="application/json", **headers)

    return post


def test_D5_customer_admin_sign_in_is_a_control_hub_sign_in(client):
    org = make_customer()
    admin = make_user(org=org, role=Role.CUSTOMER_FULL_ADMIN, email="admin@signin.example")
    client.post("/login/", {"username": admin.email, "password": PASSWORD})
    event = ActivityEvent.objects.get(user=admin)
    assert event.kind == ActivityKind.CONTROL_HUB_SIGN_IN
    org.refresh_from_db()
    assert org.last_activity_at == event.at


def test_D5_user_sign_in_is_an_app_sign_in_and_voids_a_warning(client):
    org = make_customer()
    user = make_user(org=org, role=Role.USER)
    warned = timezone.now() - timedelta(days=3)
    Organization.objects.filter(pk=org.pk).update(
        deletion_marked_at=warned - timedelta(days=30), deletion_warned_at=warned
    )
    client.login(email=user.email, password=PASSWORD)
    assert ActivityEvent.objects.get(user=user).kind == ActivityKind.APP_SIGN_IN
    org.refresh_from_db()
    assert org.deletion_warned_at is None


def test_support_staff_sign_in_records_nothing(client):
    staff = make_user(org=None, is_staff=True)
    client.login(email=staff.email, password=PASSWORD)
    assert not ActivityEvent.objects.exists()


def test_partner_staff_sign_in_is_recorded_for_the_partner_org(client):
    partner = make_partner()
    sales = make_user(org=partner, role=Role.SALES_ADMIN)
    client.login(email=sales.email, password=PASSWORD)
    assert ActivityEvent.objects.get(user=sales).org_id == partner.pk


def test_D5_api_records_a_batch_with_the_time_it_happened(api):
    org = make_customer()
    user = make_user(org=org, role=Role.USER, email="u@api.example")
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    response = api(
        {
            "events": [
                {"email": "U@api.example", "kind": "message", "at": "2026-01-02T03:04:05Z"},
                {"email": user.email, "kind": "token_refresh", "source": "tokens"},
            ]
        }
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"recorded": 2, "ignored": 0}
    kinds = dict(ActivityEvent.objects.values_list("kind", "source"))
    assert kinds == {"message": "api", "token_refresh": "tokens"}
    assert ActivityEvent.objects.get(kind="message").at == at


def test_api_single_event_body(api):
    user = make_user(org=make_customer(), role=Role.USER)
    response = api({"email": user.email, "kind": "app_sign_in"})
    assert response.json()["recorded"] == 1


@pytest.mark.parametrize("token", [None, "wrong", ""])
def test_api_refuses_missing_or_wrong_token_with_401(api, token):
    user = make_user(org=make_customer(), role=Role.USER)
    response = api({"email": user.email, "kind": "message"}, token=token)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not ActivityEvent.objects.exists()


def test_api_is_disabled_without_a_configured_token(api, settings):
    settings.ACTIVITY_API_TOKEN = ""
    user = make_user(org=make_customer(), role=Role.USER)
    assert api({"email": user.email, "kind": "message"}, token="").status_code == 401


def test_api_bad_json_is_400(api):
    response = api(None, raw="{not json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"


def test_api_reports_every_bad_event_and_records_none(api):
    user = make_user(org=make_customer(), role=Role.USER)
    future = (timezone.now() + timedelta(days=1)).isoformat()
    response = api(
        {
            "events": [
                {"email": user.email, "kind": "message"},
                {"email": "nobody@nowhere.example", "kind": "message"},
                {"email": user.email, "kind": "dancing"},
                {"email": user.email, "kind": "message", "at": "2026-01-02T03:04:05"},
                {"email": user.email, "kind": "message", "at": future},
                "not an object",
            ]
        }
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [
        (1, "email"),
        (2, "kind"),
        (3, "at"),
        (4, "at"),
        (5, ""),
    ]
    assert not ActivityEvent.objects.exists()


def test_api_get_is_405(client, settings):
    settings.ACTIVITY_API_TOKEN = TOKEN
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405


def test_record_activity_command(clock):
    clock.go(0)
    user = make_user(org=make_customer(), role=Role.USER, email="cmd@act.example")
    out = StringIO()
    call_command(
        "record_activity",
        "--email",
        "CMD@act.example",
        "--kind",
        "message",
        "--at",
        "2027-01-03T10:00:00+00:00",
        stdout=out,
    )
    assert "Recorded message" in out.getvalue()
    user.org.refresh_from_db()
    assert user.org.last_activity_at == datetime(2027, 1, 3, 10, tzinfo=UTC)
    with pytest.raises(CommandError, match="No user"):
        call_command("record_activity", "--email", "x@y.example", "--kind", "message")
