"""The partner API reads through the page's selectors and writes through its services
(P1–P4, D2, T2, T3, T6–T8, T10, T9/W1); another partner's objects are 404s."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from licensing.choices import ServiceType, SubscriptionKind, SubscriptionState
from licensing.models import Order, Subscription
from partnerhub.accounts.choices import Role
from partnerhub.accounts.models import AuditEntry
from tests.factories import make_customer, make_user
from tests.partner.test_customer_list import _many

pytestmark = pytest.mark.django_db
PAGE_URL = "/partner/customers/"


def api_names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def page_names(client, params) -> list[str]:
    response = client.get(PAGE_URL, params)
    return [row.record.name for row in response.context["table"].page.object_list]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "co"},
        {"to_be_deleted": "true"},
        {"provisioning_status": ["failed", "provisioned"]},
        {"subscription_status": "trial_active", "sort": "-name"},
        {"service": "calling", "sort": "subscription_status"},
        {"sort": "-provisioning_status"},
    ],
)
def test_P4_the_api_list_equals_the_page_for_the_same_filters_and_sort(
    world, api_for, client, params
):
    _many(world, 30)
    client.force_login(world.sales_admin)
    api = api_for(world.sales_admin)
    page_params = {**params, "per_page": 25}
    if page_params.get("to_be_deleted") == "true":
        page_params["to_be_deleted"] = "on"
    assert api_names(api.get("/customers/", {**params, "page_size": 25})) == page_names(
        client, page_params
    )


def test_cursor_pages_walk_the_whole_list_once(world, api_for):
    _many(world, 23)
    api = api_for(world.sales_admin)
    seen, cursor = [], None
    while True:
        params = {"page_size": 5, "sort": "-name", **({"cursor": cursor} if cursor else {})}
        body = api.get("/customers/", params).json()
        seen += [r["name"] for r in body["results"]]
        cursor = body["next"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 23 + 3
    assert seen == sorted(seen, reverse=True)


def test_a_cursor_of_other_filters_is_refused(world, api_for):
    _many(world, 6)
    api = api_for(world.sales_admin)
    cursor = api.get("/customers/", {"page_size": 2}).json()["next"]
    response = api.get("/customers/", {"page_size": 2, "q": "x", "cursor": cursor})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"
    assert api.get("/customers/", {"cursor": "garbage"}).status_code == 400


# The key (with creator and org), the creator's standing (access.partner_access), the page's
# rows (ids cut from the read model's index in a subquery, joined to their orgs with their
# admins), the page's services: the same for any filter, search, sort and page size.
API_LIST_QUERIES = 4


@pytest.mark.parametrize(
    "params",
    [
        {"page_size": 5},
        {"page_size": 100},
        {"page_size": 50, "q": "many", "service": "calling"},
        {"page_size": 100, "provisioning_status": ["failed"], "sort": "-subscription_status"},
        {"page_size": 25, "to_be_deleted": "true", "sort": "admins"},
        {"page_size": 1, "sort": "-services", "region": "emea", "q": "a"},
        {"page_size": 100, "subscription_status": ["trial_active", "active"], "sort": "created"},
    ],
)
def test_the_customers_endpoint_costs_a_fixed_number_of_queries(
    world, api_for, django_assert_num_queries, params
):
    _many(world, 120)
    api = api_for(world.sales_admin)
    assert api.get("/customers/", params).status_code == 200  # writes the key's last use
    with django_assert_num_queries(API_LIST_QUERIES):
        response = api.get("/customers/", params)
    assert response.json()["results"]


def test_D2_P1_detail_shows_subscriptions_services_statuses_and_the_countdown(world, api_for):
    api = api_for(world.sales_admin)
    body = api.get(f"/customers/{world.customer_trial.pk}/").json()
    sub = body["subscriptions"][0]
    assert sub["kind"] == "trial"
    assert sub["status"] == "trial_expiring_30"
    assert sub["days_left"] == 10
    assert sub["services"][0]["provisioning_status"] == "failed"
    assert body["provisioning_status"] == "failed"
    marked = api.get(f"/customers/{world.customer_marked.pk}/").json()
    assert marked["planned_deletion_at"] is not None


def test_P2_a_failed_services_reason_is_in_the_detail_and_the_list(world, api_for):
    """The reason a service failed (what support and the partner act on) reaches API readers,
    as on the customer page: it was read from a field that does not exist and always empty."""
    from licensing.models import Service

    reason = "The vendor refused the site name"
    failed = Service.objects.filter(subscription__customer=world.customer_trial)
    assert failed.update(provisioning_reason=reason)
    api = api_for(world.sales_admin)
    detail = api.get(f"/customers/{world.customer_trial.pk}/").json()
    assert detail["subscriptions"][0]["services"][0]["provisioning_reason"] == reason
    listed = api.get("/customers/", {"q": world.customer_trial.name}).json()["results"]
    (row,) = [r for r in listed if r["id"] == world.customer_trial.pk]
    assert row["subscriptions"][0]["services"][0]["provisioning_reason"] == reason


def test_another_partners_customer_and_trial_are_404(world, api_for):
    api = api_for(world.sales_admin, scopes=["read", "trials"])
    assert api.get(f"/customers/{world.other_customer.pk}/").status_code == 404
    trial = Subscription.objects.get(customer=world.other_customer)
    assert api.get(f"/trials/{trial.pk}/").status_code == 404
    assert api.post(f"/trials/{trial.pk}/extend/", {"days": 30}).status_code == 404
    assert api.delete(f"/trials/{trial.pk}/").status_code == 404


def test_T2_start_then_T6_extend_returns_the_new_date_then_T10_delete(world, api_for):
    api = api_for(world.sales_admin, scopes=["read", "trials"])
    response = api.post(
        "/trials/",
        {
            "company_name": "Newco",
            "admin_email": "it@newco.example",
            "vertical": "retail",
            "country": "DK",
            "services": ["meetings", "messaging"],
            "licenses": 10,
            "length": 30,
        },
    )
    assert response.status_code == 201, response.content
    trial_id = response.json()["id"]
    assert {s["type"] for s in response.json()["services"]} >= {"meetings", "messaging"}
    extended = api.post(f"/trials/{trial_id}/extend/", {"days": 60})
    assert extended.status_code == 200
    assert extended.json()["end_date"] == (timezone.localdate() + timedelta(days=60)).isoformat()
    assert extended.json()["extension_request"] is None
    assert api.delete(f"/trials/{trial_id}/").status_code == 204
    assert Subscription.objects.get(pk=trial_id).state == SubscriptionState.CANCELLED
    assert AuditEntry.objects.filter(action="trial.delete", target=str(trial_id)).exists()


def test_T1_a_partner_full_admins_key_cannot_run_trials(world, api_for):
    api = api_for(world.partner_full_admin, scopes=["read"])
    trial = Subscription.objects.get(customer=world.customer_trial)
    assert api.post(f"/trials/{trial.pk}/extend/", {"days": 30}).status_code == 403


def test_T8_set_a_trials_services(world, api_for):
    api = api_for(world.sales_admin, scopes=["read", "trials"])
    trial = Subscription.objects.get(customer=world.customer_trial)
    response = api.put(
        f"/trials/{trial.pk}/services/", {"services": ["meetings", "messaging"], "licenses": 10}
    )
    assert response.status_code == 200, response.content
    assert {s["type"] for s in response.json()["services"]} == {"meetings", "messaging"}


def test_T3_request_resend_and_cancel_consent(world, api_for):
    stranger = make_customer(name="Stranger Co")
    make_user(org=stranger, role=Role.CUSTOMER_FULL_ADMIN, email="boss@stranger.example")
    api = api_for(world.sales_admin, scopes=["read", "trials"])
    response = api.post(
        "/trial-requests/",
        {"admin_email": "boss@stranger.example", "services": ["meetings"], "licenses": 5},
    )
    assert response.status_code == 201, response.content
    consent_id = response.json()["id"]
    assert response.json()["status"] == "pending"
    resent = api.post(f"/trial-requests/{consent_id}/resend/")
    assert resent.status_code == 200
    assert resent.json()["emails_sent"] >= 1
    assert api.post(f"/trial-requests/{consent_id}/cancel/").status_code == 204
    assert api.post(f"/trial-requests/{consent_id}/resend/").status_code == 400


def test_T9_W1_convert_a_trial_by_order_then_read_its_status_and_link_state(world, api_for):
    cache.clear()
    api = api_for(world.sales_admin, scopes=["read", "orders"])
    trial = Subscription.objects.get(customer=world.customer_trial)
    response = api.post(
        "/orders/",
        {
            "trial_id": trial.pk,
            "provisioning_contact_email": "admin@trial.example",
            "lines": [{"service_type": ServiceType.MEETINGS, "quantity": 10}],
        },
        **{"Idempotency-Key": "order-1"},
    )
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    assert response.json()["status"] == "placed"
    assert response.json()["link_state"] == "unused"
    again = api.post(
        "/orders/",
        {
            "trial_id": trial.pk,
            "provisioning_contact_email": "admin@trial.example",
            "lines": [{"service_type": ServiceType.MEETINGS, "quantity": 10}],
        },
        **{"Idempotency-Key": "order-1"},
    )
    assert again.json()["number"] == number
    assert Order.objects.filter(trial=trial).count() == 1
    assert api.get(f"/orders/{number}/").json()["status"] == "placed"
    other = api_for(world.other_sales_admin)
    assert other.get(f"/orders/{number}/").status_code == 404


def test_the_audit_log_is_the_partners_own(world, api_for):
    api = api_for(world.sales_admin, scopes=["read", "trials"])
    trial = Subscription.objects.get(customer=world.customer_trial)
    api.post(f"/trials/{trial.pk}/extend/", {"days": 30})
    actions = [r["action"] for r in api.get("/audit/").json()["results"]]
    assert "trial.extend" in actions
    assert "api_key.create" in actions
    rival = api_for(world.other_sales_admin)
    assert "trial.extend" not in [r["action"] for r in rival.get("/audit/").json()["results"]]


def test_a_paid_subscription_is_no_trial(world, api_for):
    api = api_for(world.sales_admin, scopes=["read", "trials"])
    paid = Subscription.objects.get(customer=world.customer_paid, kind=SubscriptionKind.PAID)
    assert api.get(f"/trials/{paid.pk}/").status_code == 404


@pytest.mark.parametrize("sort", ["subscription_status", "-provisioning_status", "admins"])
def test_P2_the_apis_pages_by_a_computed_column_are_the_pages_pages(
    world, api_for, client, sort, django_assert_num_queries
):
    """Both read the read model's sort keys; the second page costs what the first does."""
    _many(world, 40)
    client.force_login(world.sales_admin)
    page = [page_names(client, {"sort": sort, "per_page": 25, "page": p}) for p in (1, 2)]
    api = api_for(world.sales_admin)
    first = api.get("/customers/", {"sort": sort, "page_size": 25})
    with django_assert_num_queries(API_LIST_QUERIES):
        second = api.get(
            "/customers/", {"sort": sort, "page_size": 25, "cursor": first.json()["next"]}
        )
    assert [api_names(first), api_names(second)] == page


def test_T7_a_device_trials_extension_becomes_a_request_and_the_end_stays(world, api_for):
    api = api_for(world.sales_admin, scopes=["read", "trials"])
    started = api.post(
        "/trials/",
        {
            "company_name": "Phoneco",
            "admin_email": "it@phoneco.example",
            "vertical": "retail",
            "country": "DK",
            "services": ["calling", "devices"],
            "length": 30,
            "device_lines": [{"device_type": "desk_phone", "quantity": 2}],
        },
    )
    assert started.status_code == 201, started.content
    trial = started.json()
    extended = api.post(f"/trials/{trial['id']}/extend/", {"days": 30, "reason": "pilot"})
    assert extended.status_code == 200
    assert extended.json()["end_date"] == trial["end_date"]
    assert extended.json()["extension_request"]["status"] == "pending"
    detail = api.get(f"/customers/{trial['customer_id']}/").json()
    assert [r["status"] for r in detail["extension_requests"]] == ["pending"]


def test_the_notifications_feed_is_the_key_creators_own(world, api_for):
    from partnerhub.accounts.choices import NotificationKind
    from partnerhub.accounts.notifications import notification_owe

    notification_owe(
        partner=world.partner,
        kind=NotificationKind.CONSENT_DECLINED,
        key="declined:1",
        link_path="/partner/customers/",
        customer=world.customer_trial,
    )
    api = api_for(world.sales_admin)
    feed = api.get("/notifications/").json()["results"]
    assert [n["customer_name"] for n in feed] == ["Trial Co"]
    assert feed[0]["text"]
    assert feed[0]["read_at"] is None
    read = api.post(f"/notifications/{feed[0]['id']}/read/")
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    rival = api_for(world.other_sales_admin)
    assert rival.get("/notifications/").json()["results"] == []
    assert rival.post(f"/notifications/{feed[0]['id']}/read/").status_code == 404
