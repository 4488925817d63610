"""The access matrix (issue 9): every URL pattern of the project, requested with GET and POST as
every kind of person, with real ids of two certified partners, their customers and a
non-certified partner's customer. A request that someone is not entitled to must be refused
(403, 404, 401, 405, 429 or a redirect to a sign-in page) and must not write to the database;
a request they are entitled to must not be refused, nor be a 500.

Entitlement is the TABLE below, written from the rules (DOMAIN.md: T1, T3, "read-only sees,
never changes", "only certified partners use the hub", support staff work in the admin), not
from the views. Every URL name must have a row: a URL added without one fails
``test_every_url_is_in_the_table``.

Figures (printed with ``-s``): URLs × identities × methods, requests, denials.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from licensing.choices import ServiceType, SubscriptionKind, SubscriptionState
from licensing.orders import OrderLineSpec, order_link_token, order_place
from partnerhub.accounts.api_keys import api_key_create
from partnerhub.accounts.choices import PartnerAccess, PartnerTier, Role
from partnerhub.accounts.models import Organization
from partnerhub.accounts.webhooks import webhook_endpoint_create
from tests.factories import (
    assign,
    listed_facts_changed,
    make_customer,
    make_partner,
    make_subscription,
    make_user,
)
from trials.models import ConsentRequest

pytestmark = pytest.mark.django_db

# ---- who: the identities and how each stands towards a target ------------------------------
PARTNER_ROLE_KEYS = {
    Role.PARTNER_FULL_ADMIN: "pfa",
    Role.SALES_FULL_ADMIN: "sfa",
    Role.SALES_ADMIN: "sa",
    Role.PARTNER_READ_ONLY: "ro",
}


def rel(prefix: str, *roles: str) -> frozenset[str]:
    return frozenset(f"{prefix}:{r}" for r in roles)


ALL_ROLES = ("pfa", "sfa", "sa", "ro")
# Relations an identity can have (see ``relation``):
#   anon, staff, signed_in (anyone signed in, for pages without a tenant),
#   partner:<role>  — works for a certified partner (pages without a target)
#   own:<role>      — works for the certified partner that owns the target (trial, order, ...)
#   mgr:<role>      — works for a certified partner that manages the target customer org
#   cust_full / cust_ro — a full / read-only admin of the target customer org
#   customer_admin:full / customer_admin:ro — a customer admin (pages without a target)
#   key_owner / key_admin — an API key's creator / a full admin of the key's org
PUBLIC = frozenset({"*"})
NOBODY: frozenset[str] = frozenset()
STAFF = frozenset({"staff"})
SIGNED_IN = frozenset({"signed_in"})
PARTNER_ANY = rel("partner", *ALL_ROLES)
PARTNER_TRIALS = rel("partner", "sfa", "sa")  # T1
PARTNER_CHANGE = rel("partner", "pfa", "sfa", "sa")  # read-only sees, never changes
OWN_ANY = rel("own", *ALL_ROLES)
OWN_TRIALS = rel("own", "sfa", "sa")  # T1
OWN_CHANGE = rel("own", "pfa", "sfa", "sa")
# Control Hub (T3, read-only sees never changes, only certified partners use the hub).
CH_READ = frozenset({"cust_full", "cust_ro"}) | rel("mgr", *ALL_ROLES)
CH_CHANGE = frozenset({"cust_full"}) | rel("mgr", "pfa", "sfa", "sa")
CH_OWN_FULL = frozenset({"cust_full"})
# Customer admins on pages without a target (their own settings).
KEY_PEOPLE = PARTNER_ANY | frozenset({"customer_admin:full", "customer_admin:ro"})


@dataclass(frozen=True)
class Entry:
    """One URL name: what fills its path (``target``: none, org, customer, trial, service,
    paid (a paid subscription), consent, order, token, admin) and who may GET and POST it.
    ``ok`` lists extra statuses an entitled request may get (e.g. 404 for an admin page about
    an unknown thing)."""

    target: str
    get: frozenset[str]
    post: frozenset[str]
    pk: str = ""  # what ``pk`` means on an org target: user, sub, trial, consent
    ok: frozenset[int] = field(default_factory=frozenset)


T = Entry
TABLE: dict[str, Entry] = {
    "home": T("none", SIGNED_IN, SIGNED_IN),
    "login": T("none", PUBLIC, PUBLIC),
    "logout": T("none", PUBLIC, PUBLIC),
    "set_language": T("none", PUBLIC, PUBLIC),
    # Issue 14: anyone signed in sets their own language and time zone.
    "person_settings": T("none", SIGNED_IN, SIGNED_IN),
    # A partner person's own notifications (every role; another person's notice is a 404).
    "accounts:notification_list": T("none", PARTNER_ANY, PARTNER_CHANGE),
    "accounts:notification_read": T("none", PARTNER_ANY, PARTNER_ANY, ok=frozenset({404})),
    "accounts:notification_read_all": T("none", PARTNER_ANY, PARTNER_ANY),
    "accounts:notification_settings": T("none", PARTNER_ANY, PARTNER_ANY),
    # The partner side.
    "customers:customer_list": T("none", PARTNER_ANY, PARTNER_CHANGE),
    "customers:customer_detail": T("customer", OWN_ANY, OWN_CHANGE),
    # Issue 16: the dashboard and deletion forecast (read pages), saving a view (every role:
    # a view is the person's own).
    "customers:dashboard": T("none", PARTNER_ANY, PARTNER_CHANGE),
    "customers:deletion_forecast": T("none", PARTNER_ANY, PARTNER_CHANGE),
    "customers:saved_view_save": T("none", PARTNER_ANY, PARTNER_ANY),
    # Bulk actions (POST only; an empty selection is sent back to the list): extending trials
    # runs trials (T1), exporting is a read, emailing customers' admins is a change.
    "customers:bulk_trial_extend": T("none", NOBODY, PARTNER_TRIALS),
    "customers:bulk_export": T("none", NOBODY, PARTNER_ANY),
    "customers:bulk_signin_ask": T("none", NOBODY, PARTNER_CHANGE),
    "support:forecast": T("none", STAFF, STAFF),
    # P1: a sales admin acts on a service of one of the partner's own subscriptions (POST only).
    "customers:service_provisioning_retry": T("service", OWN_TRIALS, OWN_TRIALS),
    "customers:service_manual_done": T("service", OWN_TRIALS, OWN_TRIALS),
    "trials:trial_start": T("none", PARTNER_TRIALS, PARTNER_TRIALS),
    "trials:trial_request": T("none", PARTNER_TRIALS, PARTNER_TRIALS),
    "trials:consent_resend": T("consent", OWN_TRIALS, OWN_TRIALS),
    "trials:consent_cancel": T("consent", OWN_TRIALS, OWN_TRIALS),
    "trials:trial_add": T("customer", OWN_TRIALS, OWN_TRIALS),
    "trials:trial_services": T("trial", OWN_TRIALS, OWN_TRIALS),
    "trials:trial_extend": T("trial", OWN_TRIALS, OWN_TRIALS),
    "trials:trial_delete": T("trial", OWN_TRIALS, OWN_TRIALS),
    "trials:devices_return": T("trial", OWN_TRIALS, OWN_TRIALS),  # T14
    "trials:return_label_request": T("trial", OWN_TRIALS, OWN_TRIALS),  # T14
    "licensing:subscription_renew": T("paid", OWN_TRIALS, OWN_TRIALS),  # S3
    "licensing:trial_convert": T("trial", OWN_TRIALS, OWN_TRIALS),
    "licensing:order_list": T("none", PARTNER_ANY, PARTNER_CHANGE),
    "licensing:order_detail": T("order", OWN_ANY, OWN_CHANGE),
    "licensing:order_link_resend": T("order", OWN_TRIALS, OWN_TRIALS),
    # The setup wizard: whoever holds the emailed signed link (W1); no sign-in.
    "licensing:order_setup_start": T("token", PUBLIC, PUBLIC),
    "licensing:order_setup_company": T("token", PUBLIC, PUBLIC),
    "licensing:order_setup_choose": T("token", PUBLIC, PUBLIC),
    "licensing:order_setup_done": T("token", PUBLIC, PUBLIC),
    # The activity API: its bearer token, never a session (D5).
    "activity_api:report": T("none", NOBODY, NOBODY),
    # Control Hub.
    "controlhub:overview": T("org", CH_READ, CH_CHANGE),
    "controlhub:trial_request": T("org", CH_OWN_FULL, CH_OWN_FULL, pk="consent"),
    "controlhub:trial_provision": T("org", CH_CHANGE, CH_CHANGE, pk="trial"),
    "controlhub:user_list": T("org", CH_READ, CH_CHANGE),
    "controlhub:users_csv_export": T("org", CH_READ, CH_CHANGE),
    "controlhub:users_csv_import": T("org", CH_CHANGE, CH_CHANGE),
    "controlhub:user_detail": T("org", CH_READ, CH_CHANGE, pk="user"),
    "controlhub:user_licenses_edit": T("org", CH_CHANGE, CH_CHANGE, pk="user"),
    "controlhub:license_template": T("org", CH_CHANGE, CH_CHANGE),
    "controlhub:subscription_list": T("org", CH_READ, CH_CHANGE),
    "controlhub:buy": T("org", CH_READ, CH_OWN_FULL),  # the customer's full admins ask to buy
    "controlhub:subscription_cancel": T("org", CH_CHANGE, CH_CHANGE, pk="sub"),
    "controlhub:org_delete": T("org", CH_OWN_FULL, CH_OWN_FULL),
    # User management: the org's full admins (and a partner with full access) change; the
    # one-button changes are POST only (GET is 405).
    "controlhub:user_add": T("org", CH_CHANGE, CH_CHANGE),
    "controlhub:users_add_csv": T("org", CH_CHANGE, CH_CHANGE),
    "controlhub:user_role": T("org", CH_CHANGE, CH_CHANGE, pk="user"),
    "controlhub:user_deactivate": T("org", CH_CHANGE, CH_CHANGE, pk="user"),
    "controlhub:user_reactivate": T("org", CH_CHANGE, CH_CHANGE, pk="user"),
    "controlhub:user_invite": T("org", CH_CHANGE, CH_CHANGE, pk="user"),
    # The invitation link needs no sign-in: the signed token is the key; a link that is not
    # one is a 410 for everybody and writes nothing.
    "controlhub:invitation_accept": T("invitation", PUBLIC, PUBLIC, ok=frozenset({410})),
    # The support console: staff only (every admin URL, see ``entry_for``), except these.
    # The REST API (issue 15): an API key, never a session, so every signed-in person without
    # one is refused (keys are walked per role in tests/api/test_api_key_matrix.py); the schema
    # and its documentation page are public.
    **{
        f"api:{name}": T("none", NOBODY, NOBODY)
        for name in (
            "customer_list",
            "customer_detail",
            "trial_start",
            "trial_detail",
            "trial_extend",
            "trial_services",
            "trial_request",
            "consent_resend",
            "consent_cancel",
            "order_list",
            "order_detail",
            "audit_list",
            "notification_list",
            "notification_read",
            "activity",
            "not_found",
        )
    },
    **{
        f"api:{name}": T("org", NOBODY, NOBODY, pk="user")
        for name in ("user_list", "user_licenses", "license_bulk")
    },
    "api:schema": T("none", PUBLIC, PUBLIC),
    "api:docs": T("none", PUBLIC, PUBLIC),
    # API keys: every partner person and customer admin keeps keys of their own; revoking one
    # is its creator's or a full admin's of its org (a GET only leads back to the list).
    "api_settings:apikey_list": T("none", KEY_PEOPLE, KEY_PEOPLE),
    "api_settings:apikey_revoke": T("apikey", KEY_PEOPLE, frozenset({"key_owner", "key_admin"})),
    # Webhooks: the partner's full admins.
    "api_settings:webhook_list": T("none", rel("partner", "pfa"), rel("partner", "pfa")),
    "api_settings:webhook_detail": T("webhook", rel("own", "pfa"), rel("own", "pfa")),
    "admin:login": T("none", PUBLIC, PUBLIC),
    "admin:logout": T("none", PUBLIC, PUBLIC),
    "admin:view_on_site": T("admin", STAFF, STAFF, ok=frozenset({404})),
    "admin:<catch-all>": T("admin", STAFF, STAFF, ok=frozenset({404})),
}
# Every page of the support console is for staff; a model registered by another branch is
# staff-only by construction of the admin site, so the namespace has one row. Inside it the
# admin's own model permissions may still refuse staff (403: e.g. the read-only audit log).
ADMIN_DEFAULT = T("admin", STAFF, STAFF, ok=frozenset({403}))

REFUSED = {401, 403, 404, 429}  # 405 is "not offered", neither a refusal nor a service
# Writes a refused request may still cause: its session, the sign-in guard's bookkeeping.
ALLOWED_WRITE_TABLES = re.compile(r'^"?(django_session|axes_\w+)"?$')
WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


# ---- the URL patterns ----------------------------------------------------------------------
@dataclass(frozen=True)
class Url:
    key: str  # the URL name with namespace, or a stand-in for an unnamed pattern
    route: str  # the full route: path() syntax and regex parts, joined
    callback: Any


def walk(resolver: URLResolver | None = None, prefix: str = "", ns: str = "") -> list[Url]:
    resolver = resolver or get_resolver()
    found: list[Url] = []
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            namespace = ":".join(x for x in (ns, p.namespace) if x)
            found.extend(walk(p, prefix + str(p.pattern), namespace))
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            if p.name:
                key = f"{ns}:{p.name}" if ns else p.name
            elif ns == "admin" and "(?P<url>" in route:
                key = "admin:<catch-all>"
            else:
                key = f"{ns}:<unnamed {route}>" if ns else f"<unnamed {route}>"
            found.append(Url(key=key, route=route, callback=p.callback))
    return found


def entry_for(url: Url) -> Entry | None:
    if url.key in TABLE:
        return TABLE[url.key]
    if url.key.startswith("admin:"):
        return ADMIN_DEFAULT
    return None


def fill(route: str, values: dict[str, Any]) -> str:
    """The route with its parameters filled: ``<int:pk>`` and ``(?P<pk>...)`` alike."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), route)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), path)
    return "/" + path.replace("^", "").replace("$", "")


# ---- the world -----------------------------------------------------------------------------
@dataclass
class Who:
    label: str
    user: Any = None
    partner: Organization | None = None  # a certified partner's user
    role: str = ""  # pfa, sfa, sa, ro
    customer: Organization | None = None  # a customer admin's org
    customer_full: bool = False
    uncertified: bool = False

    def relation(self, target: Any, kind: str) -> set[str]:
        if self.user is None:
            return {"anon", "*"}
        out = {"signed_in", "*"}
        if self.user.is_staff:
            out.add("staff")
        if kind == "none" and self.customer is not None:
            out.add("customer_admin:full" if self.customer_full else "customer_admin:ro")
        if kind == "apikey":
            if self.partner is not None:
                out.add(f"partner:{self.role}")  # KEY_PEOPLE: they have a list to go back to
            if self.customer is not None:
                out.add("customer_admin:full" if self.customer_full else "customer_admin:ro")
            if self.user.pk == target.creator_pk:
                out.add("key_owner")
            org = (
                self.partner
                if self.role == "pfa"
                else self.customer
                if self.customer_full
                else None
            )
            if org is not None and org.pk == target.org_pk:
                out.add("key_admin")
            return out
        if self.partner is not None:
            if kind == "none":
                out.add(f"partner:{self.role}")
            elif kind == "org":
                if target.partners_ids and self.partner.pk in target.partners_ids:
                    out.add(f"mgr:{self.role}")
            elif target is not None and self.partner.pk in getattr(target, "owner_ids", ()):
                out.add(f"own:{self.role}")
        if self.customer is not None and kind == "org" and target.org.pk == self.customer.pk:
            out.add("cust_full" if self.customer_full else "cust_ro")
        return out


@dataclass
class KeyTarget:
    label: str
    pk: int
    creator_pk: int
    org_pk: int


@dataclass
class OrgTarget:
    label: str
    org: Organization
    partners_ids: set[int]
    user: Any
    sub: Any
    trial: Any
    consent: Any

    def values(self, pk_kind: str) -> dict[str, Any]:
        pk = {"user": self.user, "sub": self.sub, "trial": self.trial, "consent": self.consent}
        return {"org_pk": self.org.pk, "pk": pk[pk_kind].pk if pk_kind else 0}


@dataclass
class Owned:
    """A partner-side object (customer, trial, consent, order) and the partners it belongs to
    (a customer is on the list of its managing partner and of a partner waiting for its
    consent, T3)."""

    label: str
    pk: int
    owner_ids: frozenset[int]
    customer_pk: int = 0  # a service's customer


def build_world() -> dict[str, Any]:
    today = timezone.localdate()
    north = make_partner(name="Northwind", tier=PartnerTier.TIER_1)
    contoso = make_partner(name="Contoso", tier=PartnerTier.TIER_1)
    tailspin = make_partner(name="Tailspin", certified=False)
    who: list[Who] = [Who("anonymous")]
    people: dict[tuple[int, str], Any] = {}
    for partner, tag in ((north, "north"), (contoso, "contoso")):
        for role, key in PARTNER_ROLE_KEYS.items():
            user = make_user(org=partner, role=role, email=f"{key}@{tag}.example")
            people[(partner.pk, key)] = user
            who.append(Who(f"{tag} {key}", user, partner=partner, role=key))
    for role, key in PARTNER_ROLE_KEYS.items():
        if key != "sfa":
            user = make_user(org=tailspin, role=role, email=f"{key}@tailspin.example")
            who.append(Who(f"tailspin (not certified) {key}", user, uncertified=True))

    orgs: dict[str, OrgTarget] = {}
    trials: dict[str, Owned] = {}
    customers: dict[str, Owned] = {}
    services: dict[str, Owned] = {}
    paid_subs: dict[str, Owned] = {}
    for name, partner in (("Litware", north), ("Fabrikam", contoso), ("Adatum", tailspin)):
        org = make_customer(name=name, partner=partner, access=PartnerAccess.FULL_ADMIN)
        paid = make_subscription(
            customer=org,
            partner=partner,
            services={ServiceType.MESSAGING: 10, ServiceType.CALLING: 10},
        )
        trial = make_subscription(
            customer=org,
            partner=partner,
            kind=SubscriptionKind.TRIAL,
            start=today - timedelta(days=5),
            end=today + timedelta(days=25),
            services={ServiceType.MEETINGS: 5},
        )
        alice = make_user(org=org, role=Role.USER, email=f"alice@{name.lower()}.example")
        assign(user=alice, subscription=paid, service_type=ServiceType.CALLING)
        orgs[name] = OrgTarget(name, org, {partner.pk}, alice, paid, trial, None)
        trials[name] = Owned(f"{name}'s trial", trial.pk, frozenset({partner.pk}))
        paid_subs[name] = Owned(f"{name}'s paid subscription", paid.pk, frozenset({partner.pk}))
        service = paid.services.get(type=ServiceType.MESSAGING)
        services[name] = Owned(
            f"{name}'s Messaging", service.pk, frozenset({partner.pk}), customer_pk=org.pk
        )
        customers[name] = Owned(name, org.pk, frozenset({partner.pk}))
        if name != "Adatum":
            for full in (True, False):
                admin = make_user(
                    org=org,
                    role=Role.CUSTOMER_FULL_ADMIN if full else Role.CUSTOMER_READ_ONLY,
                    email=f"{'admin' if full else 'readonly'}@{name.lower()}.example",
                )
                label = f"{name} {'full' if full else 'read-only'} admin"
                who.append(Who(label, admin, customer=org, customer_full=full))

    # Pending trial requests (T3): Northwind asks Fabrikam, Contoso asks Litware.
    consents: dict[str, Owned] = {}
    for asker, org_name in ((north, "Fabrikam"), (contoso, "Litware")):
        target = orgs[org_name]
        pending = make_subscription(
            customer=target.org,
            partner=asker,
            kind=SubscriptionKind.TRIAL,
            state=SubscriptionState.PENDING,
            services={ServiceType.MESSAGING: 5},
        )
        consent = ConsentRequest.objects.create(
            trial=pending,
            partner=asker,
            customer=target.org,
            admin_email=f"admin@{org_name.lower()}.example",
            expires_at=timezone.now() + timedelta(days=10),
        )
        listed_facts_changed(target.org)  # the consent deadline is the forecast's (T3)
        target.consent = consent
        consents[asker.name] = Owned(f"{asker.name}'s request", consent.pk, frozenset({asker.pk}))
        on_list = customers[org_name]
        customers[org_name] = Owned(on_list.label, on_list.pk, on_list.owner_ids | {asker.pk})
    orgs["Adatum"].consent = orgs["Litware"].consent

    orders: dict[str, Owned] = {}
    tokens: list[str] = []
    for partner, org_name in ((north, "Litware"), (contoso, "Fabrikam")):
        order = order_place(
            lines=[OrderLineSpec(service_type=ServiceType.MESSAGING, quantity=5)],
            provisioning_contact_email=f"admin@{org_name.lower()}.example",
            placed_by=people[(partner.pk, "sa")],
        )
        orders[partner.name] = Owned(f"{partner.name}'s order", order.pk, frozenset({partner.pk}))
        tokens.append(order_link_token(order=order))

    # API keys: one of a north sales admin (its full admin may revoke it), one of Litware's
    # read-only admin (Litware's full admin may); a webhook endpoint of north.
    keys = []
    for creator in (people[(north.pk, "sa")], _litware_read_only(who)):
        key, _token = api_key_create(actor=creator, name="k", scopes=["read"], expires_in_days=None)
        keys.append(KeyTarget(f"{creator.email}'s key", key.pk, creator.pk, key.org_id))
    endpoint, _secret = webhook_endpoint_create(
        partner=north,
        actor=people[(north.pk, "pfa")],
        url="https://hooks.example/matrix",
        event_types=["trial.started"],
    )
    webhooks = [Owned("north's endpoint", endpoint.pk, frozenset({north.pk}))]

    staff = make_user(org=None, email="support@partnerhub.example", is_staff=True)
    staff.is_superuser = True
    staff.save()
    who.append(Who("support staff", staff))
    return {
        "who": who,
        "org": list(orgs.values()),
        "customer": list(customers.values()),
        "trial": list(trials.values()),
        "service": list(services.values()),
        "paid": list(paid_subs.values()),
        "consent": list(consents.values()),
        "order": list(orders.values()),
        "token": tokens[:1],
        "apikey": keys,
        "webhook": webhooks,
        "organization_pk": orgs["Litware"].org.pk,
        "user_pk": staff.pk,
    }


def _litware_read_only(who: list[Who]) -> Any:
    return next(w.user for w in who if w.label == "Litware read-only admin")


def instances(url: Url, entry: Entry, world: dict[str, Any]) -> list[tuple[str, Any, dict]]:
    """(label, target, path values) for each way of filling the URL with real ids."""
    kind = entry.target
    if kind == "none":
        # A pk (or an order number), where a page takes one, of nobody in particular.
        return [("", None, {"pk": 1, "number": "1"})]
    if kind == "org":
        return [(t.label, t, t.values(entry.pk)) for t in world["org"]]
    if kind == "service":
        return [(o.label, o, {"pk": o.customer_pk, "service_pk": o.pk}) for o in world[kind]]
    if kind == "paid":
        return [(o.label, o, {"subscription_pk": o.pk}) for o in world[kind]]
    if kind in ("apikey", "webhook"):
        return [(o.label, o, {"pk": o.pk}) for o in world[kind]]
    if kind in ("customer", "trial", "consent", "order"):
        names = {"customer": "pk", "trial": "pk", "consent": "pk", "order": "order_pk"}
        param = "trial_pk" if "<int:trial_pk>" in url.route else names[kind]
        return [(o.label, o, {param: o.pk}) for o in world[kind]]
    if kind == "token":
        return [("valid link", None, {"token": t}) for t in world["token"]]
    if kind == "invitation":
        return [
            (t.label, t, {"org_pk": t.org.pk, "token": "not-an-invitation"}) for t in world["org"]
        ]
    # The admin: the first row of the page's model, or a harmless stand-in.
    model_admin = getattr(url.callback, "model_admin", None)
    first = model_admin.model.objects.order_by("pk").first() if model_admin else None
    from django.contrib.contenttypes.models import ContentType

    values = {
        "id": first.pk if first else world["user_pk"],
        "object_id": first.pk if first else 0,
        "app_label": "accounts",
        "content_type_id": ContentType.objects.get_for_model(Organization).pk,
        "url": "no-such-page/",
    }
    values["object_id"] = (
        values["object_id"] if "view_on_site" not in url.key else world["organization_pk"]
    )
    return [("", None, values)]


# ---- the walk ------------------------------------------------------------------------------
class Writes:
    """Collects the tables a request writes to (a real execute wrapper, not a mock)."""

    def __init__(self) -> None:
        self.tables: list[str] = []

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        match = WRITE.match(sql)
        if match and not ALLOWED_WRITE_TABLES.match(match.group(2)):
            self.tables.append(match.group(2))
        return execute(sql, params, many, context)


def is_sign_in_redirect(response: Any) -> bool:
    location = response.get("Location", "") if response.status_code in (301, 302) else ""
    return "/login/?next=" in location


def test_every_url_is_in_the_table():
    missing = sorted({u.key for u in walk() if entry_for(u) is None})
    assert not missing, (
        "These URL names have no row in tests/test_access_matrix.py TABLE, so nobody has said "
        "who may GET and POST them. Add a row for each (target kind and the relations "
        "entitled to GET and to POST; see the top of the file): " + ", ".join(missing)
    )


# The support console's ~130 URLs all pass the admin site's one staff check first; there they
# are requested by one person of each kind (not all 17), which keeps the walk well under a minute.
ADMIN_IDENTITIES = {
    "anonymous",
    "support staff",
    "north pfa",
    "contoso ro",
    "tailspin (not certified) pfa",
    "Litware full admin",
}


@pytest.fixture
def quiet_logs():
    """Refusals log a warning with a traceback each; thousands of them cost more than the
    requests. Errors still show."""
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def test_access_matrix(capsys, quiet_logs):
    world = build_world()
    clients: dict[str, Client] = {}
    for who in world["who"]:
        client = Client()
        if who.user is not None:
            client.force_login(who.user)
        clients[who.label] = client

    urls = [u for u in walk() if entry_for(u) is not None]
    problems: list[str] = []
    counts: Counter[str] = Counter()
    started = time.monotonic()
    for url in urls:
        entry = entry_for(url)
        assert entry is not None
        for target_label, target, values in instances(url, entry, world):
            path = fill(url.route, values)
            counts["url instances"] += 1
            for who in world["who"]:
                if entry.target == "admin" and who.label not in ADMIN_IDENTITIES:
                    continue
                client = clients[who.label]
                relation = who.relation(target, entry.target)
                for method in ("GET", "POST"):
                    allowed = entry.get if method == "GET" else entry.post
                    entitled = bool(allowed & relation)
                    problem = request_once(client, method, path, entitled, entry.ok)
                    counts["requests"] += 1
                    counts["denials" if problem == "denied" else "served"] += 1
                    if problem not in ("denied", "served"):
                        where = f"{url.key}, {target_label}" if target_label else url.key
                        problems.append(f"{method} {path} ({where}) as {who.label}: {problem}")
    elapsed = time.monotonic() - started
    identities = len(world["who"])
    with capsys.disabled():
        print(
            f"\naccess matrix: {len(urls)} URL patterns ({counts['url instances']} with their "
            f"targets) x {identities} identities ({len(ADMIN_IDENTITIES)} on admin URLs) "
            f"x 2 methods = {counts['requests']} requests, {counts['denials']} denied, "
            f"{counts['served']} served, {elapsed:.1f}s"
        )
    assert not problems, f"{len(problems)} wrong answers:\n" + "\n".join(problems[:80])


def request_once(client: Client, method: str, path: str, entitled: bool, ok: frozenset[int]) -> str:
    """'denied' or 'served' when the answer fits the entitlement; otherwise what went wrong.
    The request runs in a savepoint that is rolled back, so the world stays as built."""
    writes = Writes()
    cookies = client.cookies.__class__(client.cookies)  # a sign-out must not stick
    try:
        with transaction.atomic():
            with connection.execute_wrapper(writes):
                response = client.get(path) if method == "GET" else client.post(path, {})
            transaction.set_rollback(True)
    except Exception as exc:  # a 500 in the test client
        client.cookies = cookies
        return f"raised {type(exc).__name__}: {exc}"
    client.cookies = cookies
    status = response.status_code
    if status >= 500:
        return f"answered {status}"
    refused = (status in REFUSED and status not in ok) or is_sign_in_redirect(response)
    if entitled:
        if refused:
            return f"refused with {status} {response.get('Location', '')} though entitled"
        return "served"
    if not refused and status != 405:
        return f"answered {status} though not entitled"
    if writes.tables:
        return f"refused with {status} but wrote to {sorted(set(writes.tables))}"
    return "denied"


TOPNAV = re.compile(r'<nav class="topnav"[^>]*>(.*?)</nav>', re.S)
HREF = re.compile(r'href="([^"]+)"')


def test_top_bar_shows_only_links_the_person_may_open():
    """The top bar's links come from the same decision as the pages behind them
    (``context_processors.PartnerNav`` → ``access.partner_access``): every identity, on its
    landing page and its own settings page, sees only links it is not refused. A sales or
    read-only admin is not shown Webhooks (full admins only); a partner person without a role
    is shown no partner console at all."""
    world = build_world()
    north_pfa = next(w for w in world["who"] if w.label == "north pfa")
    shown: dict[str, set[str]] = {}
    problems: list[str] = []
    for who in world["who"]:
        if who.user is None:
            continue
        client = Client()
        client.force_login(who.user)
        links: set[str] = set()
        for page in ("/", "/me/"):
            response = client.get(page, follow=True)
            assert response.status_code == 200, (who.label, page, response.status_code)
            nav = TOPNAV.search(response.content.decode())
            assert nav is not None, (who.label, page)
            links.update(h for h in HREF.findall(nav.group(1)) if h.startswith("/"))
        shown[who.label] = links
        for link in sorted(links):
            status = client.get(link).status_code
            if status in (401, 403, 404) or status >= 500:
                problems.append(f"{who.label} is shown {link} but gets {status}")
    assert not problems, "\n".join(problems)
    webhooks = "/settings/webhooks/"
    assert any(link.startswith(webhooks) for link in shown[north_pfa.label])
    for label in ("north sfa", "north sa", "north ro"):
        assert not any(link.startswith(webhooks) for link in shown[label]), label
    for label, links in shown.items():
        if label.startswith("tailspin"):  # not certified: no partner console
            assert not any(link.startswith("/partner/") for link in links), (label, links)
