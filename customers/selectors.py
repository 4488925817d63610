"""Reads for the partner's customer list and customer page (P1–P4, D2, D8, T14).

The list reads the read model ``licensing.CustomerRow`` only (one narrow row per partner and
customer, kept on write by the services): its filters are bit masks and equalities on that
row, its sorts walk one composite index ``(partner, key, customer)`` each, its count and the
count band are counted there. The org table is joined only for the displayed page.

The SQL forms of the statuses (P3 as a CASE expression and as indexable conditions, P2 as an
urgency rank) live one layer down, in ``licensing.status_sql``; tests keep them equal to the
pure rules of ``licensing.lifecycle``.

Every query here is scoped to one partner: a partner sees its own subscriptions of a customer,
never another partner's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from django.db import connection
from django.db.models import Aggregate, CharField, Count, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.lookups import GreaterThan

from licensing.choices import (
    LICENSE_HOLDING_STATES,
    ProvisioningStatus,
    ServiceType,
    SubscriptionKind,
    SubscriptionState,
    SubscriptionStatus,
)
from licensing.lifecycle import (
    PROVISIONING_URGENCY,
    can_renew,
    days_left,
    renewal_deadline,
    row_provisioning_status,
    subscription_status,
)
from licensing.models import CustomerRow, Service
from licensing.status_sql import (
    PROVISIONING_BITS,
    SERVICE_BITS,
    STATUS_BITS,
    SUBSCRIPTION_STATUS_ORDER,
    provisioning_rank_expression,
    subscription_status_expression,
    subscription_status_q,
    subscription_status_rank_expression,
)
from partnerhub.accounts.choices import CUSTOMER_ADMIN_ROLES
from partnerhub.accounts.models import Membership, Organization, User
from partnerhub.core.listview import capped_count_expression
from trials.lifecycle import device_return_state
from trials.models import ConsentRequest, DeviceShipment, ExtensionRequest
from trials.selectors import partner_customers

from .lifecycle import planned_deletion_at

HOLDING = [str(s) for s in LICENSE_HOLDING_STATES]


class GroupConcat(Aggregate):
    """Comma-joined values: GROUP_CONCAT on SQLite, STRING_AGG on PostgreSQL."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s)"
    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s(%(expressions)s, ',')",
            **extra,
        )


def provisioning_status_of_rank(rank: int | None) -> ProvisioningStatus | None:
    return None if rank is None else ProvisioningStatus(PROVISIONING_URGENCY[rank])


# ---- the customer list (read model) --------------------------------------------------------
def customer_list_rows(*, partner: Organization) -> QuerySet[CustomerRow]:
    """The partner's rows of the read model: every page, filter, count and export starts here."""
    return CustomerRow.objects.filter(partner=partner)


def _mask(bits: dict[str, int], picked: list[str]) -> int:
    mask = 0
    for value in picked:
        mask |= bits.get(value, 0)
    return mask


def _any_bit(column: str, mask: int) -> Q:
    """P4 "at least one": the row's bit set shares a bit with the mask."""
    return Q(GreaterThan(F(column).bitand(mask), 0))


def rows_with_subscription_status(*, statuses: list[str]) -> Q:
    """P4: at least one of the partner's subscriptions is in a picked P3 status."""
    return _any_bit("subscription_bits", _mask(STATUS_BITS, statuses))


def rows_with_provisioning_status(*, statuses: list[str]) -> Q:
    """P4: at least one of the partner's subscriptions shows a picked status — the status of
    its service that needs most attention (P2)."""
    return _any_bit("provisioning_bits", _mask(PROVISIONING_BITS, statuses))


def rows_with_service(*, types: list[str]) -> Q:
    return _any_bit("services_bits", _mask(SERVICE_BITS, types))


NEARING = (30, 60, 90)  # days: issue 16's "nearing expiry"


def rows_with_trial_ending(*, today: date, days: int) -> Q:
    """T11: the partner's nearest live trial ends within ``days`` (today included)."""
    return Q(trial_end_date__gte=today, trial_end_date__lte=today + timedelta(days=days))


def rows_quiet_since(*, since: datetime) -> Q:
    """D5: nobody in the customer org has signed in or been active since ``since``."""
    return Q(customer__last_activity_at__isnull=True) | Q(customer__last_activity_at__lt=since)


def rows_matching_search(*, text: str) -> Q:
    """The search box: part of the customer's name, the start of one of its admins' emails, or
    an admin's email domain.

    On PostgreSQL all three are patterns on the read model's row (``name_key``,
    ``admin_emails_key``), served by trigram GIN indexes
    (``licensing.models.customer_row_search_indexes``): never a join to the users (ten million
    at a million customers). SQLite has no trigram index: there the email patterns would read
    every row of the partner, so the admins are found through the users' email index (a
    prefix range and the domain column), as fast as the admin's own search at 100k."""
    text = text.strip().lower()
    found = Q(name_key__contains=text)
    if not text or any(c.isspace() for c in text):  # an email never holds a space
        return found
    if connection.vendor != "postgresql":
        admins = Membership.objects.filter(
            Q(user__email__gte=text, user__email__lt=text + "\U0010ffff")
            | Q(user__email_domain=text),
            role__in=CUSTOMER_ADMIN_ROLES,
        ).values("org_id")
        return found | Q(customer_id__in=admins)
    found |= Q(admin_emails_key__contains=f" {text}")  # an email starts with it
    found |= Q(admin_emails_key__contains=f"@{text} ")  # an email's domain is it
    return found


# What each sortable column orders by: (ascending column, descending column) of the read model.
# The computed keys store "empty" above every value for ascending and below for descending, so
# empty rows come last either way and each direction walks one plain index.
SORT_COLUMNS: dict[str, tuple[str, str]] = {
    "name_key": ("name_key", "name_key"),
    "created": ("created", "created"),
    "data_region": ("data_region", "data_region"),
    "provisioning_rank": ("provisioning_rank_up", "provisioning_rank_down"),
    "subscription_rank": ("subscription_rank_up", "subscription_rank_down"),
    "services_key": ("services_up", "services_bits"),
    "admins_key": ("admins_up", "admins_down"),
}


def customer_rows_ordered(
    queryset: QuerySet[CustomerRow], *, key: str, descending: bool, reverse: bool = False
) -> QuerySet[CustomerRow]:
    """Order by one column's key, then the customer: exactly the order of its index.
    ``reverse`` walks the same order from the other end (deep pages near the last one)."""
    up, down = SORT_COLUMNS.get(key, SORT_COLUMNS["name_key"])
    if descending != reverse:
        return queryset.order_by(F(down if descending else up).desc(), F("customer_id").desc())
    return queryset.order_by(down if descending else up, "customer_id")


def customer_rows_page(
    *,
    partner: Organization,
    filtered: QuerySet[CustomerRow],
    key: str,
    descending: bool,
    offset: int,
    limit: int,
    from_end: bool = False,
) -> QuerySet[CustomerRow]:
    """One page of the list, in order: the page's customer ids cut with OFFSET from the sort's
    index of the narrow row (an index-only walk), then the partner's rows of those ids.
    ``from_end`` cuts from the other end of the same index (OFFSET counted from the last row),
    so a deep page costs what the first does. The page and the API both page through this."""
    # What the cut picks: on PostgreSQL the customer, which the sort index holds (the cut
    # stays index-only) and the unique (partner, customer) index finds. SQLite plans
    # "partner = ? AND customer IN (page)" as a walk of the partner's whole sort index
    # (measured at 100k: 25–50 ms a page); its rowid, in every index, makes the page 50
    # primary-key lookups (0.1 ms). The ids come from the partner's rows either way.
    by_pk = connection.vendor == "sqlite"
    ordered = customer_rows_ordered(filtered, key=key, descending=descending, reverse=from_end)
    page_ids = ordered.values("pk" if by_pk else "customer_id")[offset : offset + limit]
    page = (
        CustomerRow.objects.filter(pk__in=page_ids)
        if by_pk
        else customer_list_rows(partner=partner).filter(customer_id__in=page_ids)
    )
    return customer_rows_ordered(page, key=key, descending=descending)


# The count band above the list: (key, filter query string) — each a link to the filtered list.
BAND_LINKS: dict[str, str] = {
    "to_be_deleted": "to_be_deleted=true",
    "trial_expiring_30": f"subscription_status={SubscriptionStatus.TRIAL_EXPIRING_30}",
    "expiring_30": f"subscription_status={SubscriptionStatus.EXPIRING_30}",
    "trial_expired": f"subscription_status={SubscriptionStatus.TRIAL_EXPIRED}",
    "provisioning_failed": f"provisioning_status={ProvisioningStatus.FAILED}",
    "pending_consent": f"provisioning_status={ProvisioningStatus.PENDING_CONSENT}",
    "awaiting_details": f"provisioning_status={ProvisioningStatus.AWAITING_DETAILS}",
}


def customer_list_summary(
    *,
    partner: Organization,
    filtered: QuerySet[CustomerRow] | None = None,
    count_limit: int | None = None,
) -> dict[str, int]:
    """The count band (and, when given, the number of rows the filters leave) in ONE query over
    the partner's rows of the read model. Counts use the same conditions as the filters, so a
    band link leads to exactly that many customers."""
    band = {
        "to_be_deleted": Q(deletion_marked_at__isnull=False),
        "trial_expiring_30": rows_with_subscription_status(
            statuses=[SubscriptionStatus.TRIAL_EXPIRING_30]
        ),
        "expiring_30": rows_with_subscription_status(statuses=[SubscriptionStatus.EXPIRING_30]),
        "trial_expired": rows_with_subscription_status(statuses=[SubscriptionStatus.TRIAL_EXPIRED]),
        "provisioning_failed": rows_with_provisioning_status(statuses=[ProvisioningStatus.FAILED]),
        "pending_consent": rows_with_provisioning_status(
            statuses=[ProvisioningStatus.PENDING_CONSENT]
        ),
        "awaiting_details": rows_with_provisioning_status(
            statuses=[ProvisioningStatus.AWAITING_DETAILS]
        ),
    }
    aggregates: dict[str, Any] = {"total": Count("pk")}
    aggregates.update({key: Count("pk", filter=condition) for key, condition in band.items()})
    if filtered is not None:
        inner: RawSQL = capped_count_expression(filtered, count_limit)
        aggregates["filtered"] = Max(inner)
    row = customer_list_rows(partner=partner).aggregate(**aggregates)
    result = {k: int(v or 0) for k, v in row.items()}
    if filtered is not None and row.get("filtered") is None:
        result["filtered"] = 0
    return result


class SubscriptionFacts(Protocol):
    """What a SubscriptionRow reads of its subscription: a ``Subscription`` (the customer
    page) or a ``ListedSubscription`` (the list and the API)."""

    @property
    def pk(self) -> Any: ...
    @property
    def customer_id(self) -> Any: ...
    @property
    def kind(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def start_date(self) -> date: ...
    @property
    def end_date(self) -> date: ...
    @property
    def period_end_date(self) -> date | None: ...
    @property
    def is_trial(self) -> bool: ...


class ServiceFacts(Protocol):
    """What a SubscriptionRow reads of its services: ``Service`` or ``ListedService``."""

    @property
    def pk(self) -> Any: ...
    @property
    def type(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def provisioning_status(self) -> str: ...
    @property
    def subscription(self) -> SubscriptionFacts: ...


@dataclass
class SubscriptionRow:
    """One of the partner's subscriptions, as the list and the customer page show it."""

    subscription: SubscriptionFacts
    status: SubscriptionStatus | None
    days_left: int | None  # running trials only (T11: the list shows the days left)
    services: list[ServiceFacts] = field(default_factory=list)
    renewable: bool = False  # S3: a paid subscription expiring or in its renewal period
    renewal_deadline: date | None = None  # S1/S3: the last day a suspended one can be renewed

    @property
    def provisioning_status(self) -> ProvisioningStatus | None:
        return row_provisioning_status(s.provisioning_status for s in self.services)

    @property
    def licenses_removed(self) -> bool:
        """Deleted, ended, replaced or converted: its services hold no licenses any more, so
        they show no provisioning status (a deleted trial is not "Provisioning")."""
        return self.subscription.state in (
            SubscriptionState.CANCELLED,
            SubscriptionState.ENDED,
            SubscriptionState.CONVERTED,
        )


def _subscription_rows(
    services: Sequence[ServiceFacts], *, today: date
) -> dict[int, list[SubscriptionRow]]:
    """Group services (with their subscription) into SubscriptionRows per customer id."""
    by_sub: dict[int, SubscriptionRow] = {}
    per_customer: dict[int, list[SubscriptionRow]] = defaultdict(list)
    for service in services:
        sub = service.subscription
        row = by_sub.get(sub.pk)
        if row is None:
            status = subscription_status(
                kind=sub.kind, state=sub.state, end_date=sub.end_date, today=today
            )
            running = sub.state in HOLDING
            row = by_sub[sub.pk] = SubscriptionRow(
                subscription=sub,
                status=status,
                # A deleted, ended or converted trial has no days left (not "30 days left").
                days_left=(
                    days_left(end_date=sub.end_date, today=today)
                    if sub.is_trial and running
                    else None
                ),
                renewable=can_renew(
                    kind=sub.kind,
                    state=sub.state,
                    end_date=sub.end_date,
                    period_end=sub.period_end_date,
                    today=today,
                ),
                renewal_deadline=(
                    renewal_deadline(period_end=sub.period_end_date)
                    if sub.state == SubscriptionState.SUSPENDED and sub.period_end_date
                    else None
                ),
            )
            per_customer[sub.customer_id].append(row)
        row.services.append(service)
    return per_customer


@dataclass(slots=True)
class ListedSubscription:
    """The facts the list and the API show of one subscription (``SubscriptionFacts``)."""

    pk: int
    customer_id: int
    kind: str
    state: str
    start_date: date
    end_date: date
    period_end_date: date | None

    @property
    def is_trial(self) -> bool:
        return self.kind == SubscriptionKind.TRIAL


@dataclass(slots=True)
class ListedService:
    """The facts the list and the API show of one service (``ServiceFacts``). A reader of
    anything else gets an AttributeError, not a query per row."""

    pk: int
    type: str
    quantity: int
    provisioning_status: str
    provisioning_reason: str
    subscription: ListedSubscription


def _listed_services(*, partner: Organization, customer_ids: list[int]) -> list[ListedService]:
    """The partner's services of these customers with their subscriptions, in the order the
    list shows them (one query), as plain objects of the columns shown, one per subscription
    shared by its services: at 100k on SQLite a page's ~250 services cost ~10 ms as
    select_related model instances (a full Subscription each), ~2 ms so."""
    values = (
        Service.objects.filter(
            subscription__partner=partner, subscription__customer_id__in=customer_ids
        )
        .order_by("subscription__start_date", "subscription_id", "type")
        .values_list(
            "pk",
            "type",
            "quantity",
            "provisioning_status",
            "provisioning_reason",
            "subscription_id",
            "subscription__customer_id",
            "subscription__kind",
            "subscription__state",
            "subscription__start_date",
            "subscription__end_date",
            "subscription__period_end_date",
        )
    )
    subscriptions: dict[int, ListedSubscription] = {}
    services = []
    for (
        pk,
        type_,
        quantity,
        status,
        reason,
        sub_id,
        customer,
        kind,
        state,
        start,
        end,
        period,
    ) in values:
        subscription = subscriptions.get(sub_id)
        if subscription is None:
            subscription = subscriptions[sub_id] = ListedSubscription(
                sub_id, customer, kind, state, start, end, period
            )
        services.append(ListedService(pk, type_, quantity, status, reason, subscription))
    return services


def customer_rows_attach(
    *, partner: Organization, today: date, now: datetime, queryset: QuerySet[CustomerRow]
) -> list[CustomerRow]:
    """Load one page of the list for display: its read-model rows joined to their orgs, with the
    admins' emails (one query), then every service of the partner's subscriptions of those
    customers (one more query). Attaches to each row: ``org``, ``name``, ``subscription_rows``,
    ``provisioning_status`` (P2), ``service_types``, ``admins``, ``planned_deletion_at`` (D2)."""
    admins = (
        Membership.objects.filter(org=OuterRef("customer_id"), role__in=CUSTOMER_ADMIN_ROLES)
        .order_by()
        .values("org")
        .annotate(_e=GroupConcat("user__email"))
        .values("_e")
    )
    rows: list[CustomerRow] = list(
        queryset.select_related("customer").annotate(
            admin_emails=Subquery(admins, output_field=CharField())
        )
    )
    services = _listed_services(partner=partner, customer_ids=[r.customer_id for r in rows])
    subs = _subscription_rows(services, today=today)
    for row in rows:
        org = row.customer
        org.admin_emails = row.admin_emails  # type: ignore[attr-defined]
        _decorate(org, subs.get(org.pk, []), now=now)
        row.org = org  # type: ignore[attr-defined]
        row.name = org.name  # type: ignore[attr-defined]
        for attr in (
            "subscription_rows",
            "provisioning_status",
            "service_types",
            "admins",
            "planned_deletion_at",
        ):
            setattr(row, attr, getattr(org, attr))
    return rows


def _decorate(org: Organization, subs: list[SubscriptionRow], *, now: datetime) -> None:
    holding = [s for s in subs if s.subscription.state in HOLDING]
    org.subscription_rows = [s for s in subs if s.status is not None]  # type: ignore[attr-defined]
    org.provisioning_status = row_provisioning_status(  # type: ignore[attr-defined]
        svc.provisioning_status for s in holding for svc in s.services
    )
    types = {svc.type for s in holding for svc in s.services}
    org.service_types = [ServiceType(t) for t in ServiceType.values if t in types]  # type: ignore[attr-defined]
    org.admins = sorted(filter(None, (getattr(org, "admin_emails", "") or "").split(",")))  # type: ignore[attr-defined]
    org.planned_deletion_at = (  # type: ignore[attr-defined]
        planned_deletion_at(
            marked_at=org.deletion_marked_at,
            warned_at=org.deletion_warned_at,
            last_activity_at=org.last_activity_at,
            now=now,
        )
        if org.deletion_marked_at
        else None
    )


# ---- the customer page ---------------------------------------------------------------------
@dataclass
class CustomerPage:
    org: Organization
    subscription_rows: list[SubscriptionRow]
    shipments: list[DeviceShipment]
    consent_requests: list[ConsentRequest]
    extension_requests: list[ExtensionRequest]
    admins: list[tuple[User, str]]


def customer_page(
    *, partner: Organization, customer: Organization, today: date, now: datetime
) -> CustomerPage:
    """Everything the customer page shows, scoped to the partner's own subscriptions."""
    services = list(
        Service.objects.filter(subscription__partner=partner, subscription__customer=customer)
        .select_related("subscription")
        .order_by("subscription__start_date", "subscription_id", "type")
    )
    subs = _subscription_rows(services, today=today).get(customer.pk, [])
    customer.admin_emails = ",".join(  # type: ignore[attr-defined]
        Membership.objects.filter(org=customer, role__in=CUSTOMER_ADMIN_ROLES).values_list(
            "user__email", flat=True
        )
    )
    _decorate(customer, subs, now=now)
    trial_ids = [s.subscription.pk for s in subs if s.subscription.is_trial]
    admins = [
        (m.user, m.get_role_display())
        for m in Membership.objects.filter(org=customer, role__in=CUSTOMER_ADMIN_ROLES)
        .select_related("user")
        .order_by("user__email")
    ]
    shipments = list(
        DeviceShipment.objects.filter(trial_id__in=trial_ids)
        .prefetch_related("devices")
        .order_by("trial_id", "device_type")
    )
    for shipment in shipments:
        # T14: the return window is the two weeks before the agreement (EULA) date.
        for device in shipment.devices.all():
            device.return_state = device_return_state(  # type: ignore[attr-defined]
                agreement_end_date=shipment.agreement_end_date,
                today=today,
                returned=device.returned_at is not None,
            )
    return CustomerPage(
        org=customer,
        subscription_rows=subs,
        shipments=shipments,
        consent_requests=list(
            ConsentRequest.objects.filter(partner=partner, customer=customer).order_by(
                "-requested_at"
            )
        ),
        extension_requests=list(
            ExtensionRequest.objects.filter(trial_id__in=trial_ids).order_by("-requested_at")
        ),
        admins=admins,
    )


__all__ = [
    "BAND_LINKS",
    "SORT_COLUMNS",
    "SUBSCRIPTION_STATUS_ORDER",
    "CustomerPage",
    "SubscriptionRow",
    "customer_list_rows",
    "customer_list_summary",
    "customer_page",
    "customer_rows_attach",
    "customer_rows_ordered",
    "customer_rows_page",
    "partner_customers",
    "provisioning_rank_expression",
    "subscription_status_expression",
    "subscription_status_q",
    "subscription_status_rank_expression",
]
