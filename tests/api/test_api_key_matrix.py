"""The access matrix, for API keys (issue 15): a key acts as its creator's role and tenant
through the one access decision, so every kind of key (each partner role, each customer admin
role, with every scope its role may give) is sent to every endpoint of the API, and each answer
must fit a table written from the rules (T1, T3, "read-only sees, never changes") — not from
the views. Entitled: the request is served (2xx, or 400 for the empty body it sends). Not
entitled: refused (403, or 404 for another tenant's object) and nothing written.

The page-side matrix (``tests/test_access_matrix.py``) refuses every session without a key.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.urls import get_resolver
from django.utils import timezone

from licensing.choices import ServiceType, SubscriptionKind, SubscriptionState
from licensing.models import Subscription
from partnerhub.accounts.api_keys import api_key_create, scopes_allowed
from partnerhub.accounts.choices import Role
from partnerhub.accounts.models import User
from tests.api.conftest import ApiClient
from tests.factories import listed_facts_changed, make_subscription, make_user
from trials.models import ConsentRequest

pytestmark = pytest.mark.django_db

PARTNER_ANY = {"pfa", "sfa", "sa", "ro"}
PARTNER_TRIALS = {"sfa", "sa"}  # T1
CUSTOMER_ANY = {"cust_full", "cust_ro"}
CH_CHANGE = {"cust_full", "pfa", "sfa", "sa"}  # the org's full admin, a full-access partner's
EVERYONE = PARTNER_ANY | CUSTOMER_ANY

# (method, path template, who is entitled). {customer}: Paid Co, managed by the keys' partner
# with full access; {trial}: Trial Co's trial; {user}: a user of Paid Co; {order}: an order;
# {consent}: the partner's pending trial request; {notification}: nobody's (entitled: 404).
TABLE: list[tuple[str, str, set[str]]] = [
    ("GET", "/customers/", PARTNER_ANY),
    ("GET", "/customers/{customer}/", PARTNER_ANY),
    ("POST", "/trials/", PARTNER_TRIALS),
    ("GET", "/trials/{trial}/", PARTNER_ANY),
    ("POST", "/trials/{trial}/extend/", PARTNER_TRIALS),
    ("PUT", "/trials/{trial}/services/", PARTNER_TRIALS),
    ("POST", "/trial-requests/", PARTNER_TRIALS),
    ("POST", "/trial-requests/{consent}/resend/", PARTNER_TRIALS),
    ("POST", "/trial-requests/{consent}/cancel/", PARTNER_TRIALS),
    ("POST", "/orders/", PARTNER_TRIALS),
    ("GET", "/orders/{order}/", PARTNER_ANY),
    ("GET", "/audit/", EVERYONE),
    ("GET", "/notifications/", PARTNER_ANY),
    ("POST", "/notifications/{notification}/read/", PARTNER_ANY),
    ("GET", "/orgs/{customer}/users/", EVERYONE),
    ("PUT", "/orgs/{customer}/users/{user}/licenses/", CH_CHANGE),
    ("POST", "/orgs/{customer}/licenses/bulk/", CH_CHANGE),
    ("POST", "/activity/", CH_CHANGE),
]
# Another tenant's objects: nobody's keys reach them. A key the endpoint serves for its own
# tenant gets a 404 (never a 403 that would confirm the object); a key the endpoint refuses
# anyway is refused before any look-up (403 for every id alike).
FOREIGN: list[tuple[str, str, set[str]]] = [
    ("GET", "/customers/{other_customer}/", PARTNER_ANY),
    ("GET", "/trials/{other_trial}/", PARTNER_ANY),
    ("GET", "/orgs/{other_customer}/users/", EVERYONE),
    ("POST", "/orgs/{other_customer}/licenses/bulk/", CH_CHANGE),
]
SERVED = {200, 201, 204, 400}
WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
ALLOWED_WRITES = {"accounts_apikey"}  # the key's last use


def test_every_api_operation_is_in_the_table():
    """A new endpoint needs a row here as well."""
    api = next(p for p in get_resolver().url_patterns if str(p.pattern) == "api/v1/")
    routes = {
        re.sub(r"<[^>]+>", "{}", str(p.pattern))
        for p in api.url_patterns
        if p.name not in ("schema", "docs", "not_found")
    }
    tabled = {re.sub(r"\{\w+\}", "{}", path)[1:] for _m, path, _w in TABLE}
    assert routes == tabled


def _keys(world) -> dict[str, ApiClient]:
    paid = world.customer_paid
    people = {
        "pfa": world.partner_full_admin,
        "sfa": world.sales_full_admin,
        "sa": world.sales_admin,
        "ro": world.read_only,
        "cust_full": User.objects.get(email="boss@paid.example"),
        "cust_ro": make_user(org=paid, role=Role.CUSTOMER_READ_ONLY, email="ro@paid.example"),
    }
    keys = {}
    for label, person in people.items():
        role = person.memberships.get(org=person.org).role
        _key, token = api_key_create(
            actor=person, name=label, scopes=scopes_allowed(role=role), expires_in_days=None
        )
        keys[label] = ApiClient(token)
    return keys


def _values(world) -> dict[str, object]:
    from licensing.orders import OrderLineSpec, order_place

    order = order_place(
        lines=[OrderLineSpec(service_type=ServiceType.MESSAGING, quantity=5)],
        provisioning_contact_email="it@paid.example",
        placed_by=world.sales_admin,
    )
    pending = make_subscription(
        customer=world.customer_paid,
        partner=world.partner,
        kind=SubscriptionKind.TRIAL,
        state=SubscriptionState.PENDING,
        services={ServiceType.MEETINGS: 5},
    )
    consent = ConsentRequest.objects.create(
        trial=pending,
        partner=world.partner,
        customer=world.customer_paid,
        admin_email="boss@paid.example",
        expires_at=timezone.now() + timedelta(days=10),
    )
    listed_facts_changed(world.customer_paid)  # a pending trial and a new admin, made directly
    return {
        "consent": consent.pk,
        "notification": 0,
        "customer": world.customer_paid.pk,
        "trial": Subscription.objects.get(customer=world.customer_trial).pk,
        "user": User.objects.get(email="boss@paid.example").pk,
        "order": order.number,
        "other_customer": world.other_customer.pk,
        "other_trial": Subscription.objects.get(customer=world.other_customer).pk,
    }


def _send(api: ApiClient, method: str, path: str) -> tuple[int, set[str]]:
    writes: set[str] = set()

    def watch(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        match = WRITE.match(sql)
        if match:
            writes.add(match.group(2))
        return execute(sql, params, many, context)

    with transaction.atomic():
        with connection.execute_wrapper(watch):
            if method == "GET":
                response = api.get(path)
            elif method == "PUT":
                response = api.put(path, {})
            else:
                response = api.post(path, {})
        transaction.set_rollback(True)
    return response.status_code, writes - ALLOWED_WRITES


def test_each_kind_of_key_on_each_endpoint(world):
    keys, values = _keys(world), _values(world)
    problems = []
    for method, template, entitled in TABLE:
        path = template.format(**values)
        for label, api in keys.items():
            status, writes = _send(api, method, path)
            served = SERVED | ({404} if "{notification}" in template else set())
            if label in entitled and status not in served:
                problems.append(f"{method} {path} with {label}'s key: {status}, entitled")
            if label not in entitled:
                if status not in (403, 404):
                    problems.append(f"{method} {path} with {label}'s key: {status}, not entitled")
                elif writes:
                    problems.append(f"{method} {path} with {label}'s key wrote {sorted(writes)}")
    for method, template, served_own in FOREIGN:
        path = template.format(**values)
        for label, api in keys.items():
            status, writes = _send(api, method, path)
            if status not in ({404} if label in served_own else {403, 404}) or writes:
                problems.append(f"{method} {path} (another tenant's) with {label}'s key: {status}")
    assert not problems, "\n".join(problems)
