"""Reads for the partner's customer list and customer page (P1–P4, D2, D8, T14).

The statuses of the rule book are computed in SQL so the list can filter and sort by them:
``subscription_status_expression`` mirrors ``licensing.lifecycle.subscription_status`` (P3) and
``provisioning_rank_expression`` the urgency order of ``licensing.lifecycle.PROVISIONING_URGENCY``
(P2). Tests check that the SQL and the Python agree on every boundary.

Every query here is scoped to one partner: a partner sees its own subscriptions of a customer,
never another partner's.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import (
    Aggregate,
    Case,
    CharField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from licensing.choices import (
    LICENSE_HOLDING_STATES,
    ProvisioningStatus,
    ServiceType,
    SubscriptionKind,
    SubscriptionState,
    SubscriptionStatus,
)
from licensing.lifecycle import (
    EXPIRING_LATER_DAYS,
    EXPIRING_SOON_DAYS,
    PROVISIONING_URGENCY,
    can_renew,
    days_left,
    renewal_deadline,
    row_provisioning_status,
    subscription_status,
)
from licensing.models import Service, Subscription
from partnerhub.accounts.choices import CUSTOMER_ADMIN_ROLES, OrgKind
from partnerhub.accounts.models import CustomerRelationship, Membership, Organization, User
from partnerhub.core.listview import capped_count_expression
from partnerhub.core.safecache import cache_get, cache_set
from trials.choices import ConsentStatus
from trials.lifecycle import device_return_state
from trials.models import ConsentRequest, DeviceShipment, ExtensionRequest
from trials.selectors import partner_customers

from .lifecycle import planned_deletion_at

# P3 statuses in the order a sort puts first what needs most attention.
SUBSCRIPTION_STATUS_ORDER: tuple[str, ...] = (
    SubscriptionStatus.TRIAL_EXPIRED,
    SubscriptionStatus.CANCELLED,
    SubscriptionStatus.TRIAL_EXPIRING_30,
    SubscriptionStatus.EXPIRING_30,
    SubscriptionStatus.TRIAL_EXPIRING_60,
    SubscriptionStatus.EXPIRING_60,
    SubscriptionStatus.TRIAL_ACTIVE,
    SubscriptionStatus.ACTIVE,
)
# Sorting by the services column groups customers by the set they hold: the service shown first
# (Meetings) is the most significant bit, so a descending sort puts Meetings customers first.
SERVICE_BITS: dict[str, int] = {
    t: 1 << (len(ServiceType.values) - 1 - i) for i, t in enumerate(ServiceType.values)
}


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


class _Count(Func):
    """COUNT(...) as a plain function, so a subquery counts without a GROUP BY."""

    function = "COUNT"
    output_field = IntegerField()


class _CountDistinct(_Count):
    template = "COUNT(DISTINCT %(expressions)s)"


# ---- P3 / P2 in SQL ------------------------------------------------------------------------
def _status_case(*, today: date, prefix: str, out: dict[str, Any], output_field: Any) -> Case:
    kind, state, end = f"{prefix}kind", f"{prefix}state", f"{prefix}end_date"
    trial = Q(**{kind: SubscriptionKind.TRIAL})
    soon = today + timedelta(days=EXPIRING_SOON_DAYS)
    later = today + timedelta(days=EXPIRING_LATER_DAYS)
    S, St = SubscriptionStatus, SubscriptionState

    def by_kind(trial_status: str, paid_status: str, condition: Q) -> list[When]:
        return [
            When(condition & trial, then=Value(out[trial_status])),
            When(condition, then=Value(out[paid_status])),
        ]

    return Case(
        When(Q(**{state: St.CONVERTED}), then=Value(None)),
        When(
            Q(**{state: St.CANCELLED}) & trial & Q(**{f"{end}__lt": today}),
            then=Value(out[S.TRIAL_EXPIRED]),
        ),
        When(Q(**{state: St.CANCELLED}), then=Value(out[S.CANCELLED])),
        *by_kind(
            S.TRIAL_EXPIRED,
            S.CANCELLED,
            Q(**{f"{end}__lt": today}) | Q(**{f"{state}__in": [St.SUSPENDED, St.ENDED]}),
        ),
        *by_kind(S.TRIAL_EXPIRING_30, S.EXPIRING_30, Q(**{f"{end}__lte": soon})),
        *by_kind(S.TRIAL_EXPIRING_60, S.EXPIRING_60, Q(**{f"{end}__lte": later})),
        When(trial, then=Value(out[S.TRIAL_ACTIVE])),
        default=Value(out[S.ACTIVE]),
        output_field=output_field,
    )


def subscription_status_expression(*, today: date, prefix: str = "") -> Case:
    """P3 in SQL, over a Subscription's ``kind``, ``state`` and ``end_date`` (``prefix`` reaches
    them through a relation). Mirrors ``licensing.lifecycle.subscription_status`` branch by branch;
    a converted trial has no status (NULL)."""
    return _status_case(
        today=today,
        prefix=prefix,
        out={s: str(s) for s in SubscriptionStatus.values},
        output_field=CharField(),
    )


def subscription_status_rank_expression(*, today: date, prefix: str = "") -> Case:
    """P3 as a number in ``SUBSCRIPTION_STATUS_ORDER`` (0 needs most attention), for sorting."""
    return _status_case(
        today=today,
        prefix=prefix,
        out={s: i for i, s in enumerate(SUBSCRIPTION_STATUS_ORDER)},
        output_field=IntegerField(),
    )


def provisioning_rank_expression(*, prefix: str = "") -> Case:
    """P2 in SQL: a service's provisioning status as its urgency (0 = failed, most urgent)."""
    return Case(
        *[
            When(**{f"{prefix}provisioning_status": status}, then=Value(rank))
            for rank, status in enumerate(PROVISIONING_URGENCY)
        ],
        output_field=IntegerField(),
    )


def provisioning_status_of_rank(rank: int | None) -> ProvisioningStatus | None:
    return None if rank is None else ProvisioningStatus(PROVISIONING_URGENCY[rank])


class _Min(Func):
    """MIN(...) as a plain function, so a correlated subquery aggregates without a GROUP BY."""

    function = "MIN"


class _SumDistinct(Func):
    template = "SUM(DISTINCT %(expressions)s)"
    output_field = IntegerField()


HOLDING = [str(s) for s in LICENSE_HOLDING_STATES]


# ---- the customer list ---------------------------------------------------------------------
def partner_customer_count(*, partner: Organization) -> tuple[Subquery, Subquery]:
    """How many customers are on the list, counted from the relationship index (no org scan)."""
    related = CustomerRelationship.objects.filter(partner=partner)
    # Few requests are pending: probe the relationship index for each (never NOT IN over all).
    pending_only = ConsentRequest.objects.filter(
        ~Exists(
            CustomerRelationship.objects.filter(partner=partner, customer=OuterRef("customer"))
        ),
        partner=partner,
        status=ConsentStatus.PENDING,
    )
    return _count(related), _count(pending_only)


def subscription_status_q(*, status: str, today: date) -> Q:
    """P3 as a condition on the columns (``kind``, ``state``, ``end_date``), so the database can
    use the (state, end_date) index. Mirrors ``subscription_status``; tests check all three
    forms agree on every boundary."""
    S, St = SubscriptionStatus, SubscriptionState
    trial = Q(kind=SubscriptionKind.TRIAL)
    live = Q(state__in=[St.PENDING, St.ACTIVE])
    soon = today + timedelta(days=EXPIRING_SOON_DAYS)
    later = today + timedelta(days=EXPIRING_LATER_DAYS)
    ended = ~Q(state__in=[St.CANCELLED, St.CONVERTED]) & (
        Q(end_date__lt=today) | Q(state__in=[St.SUSPENDED, St.ENDED])
    )
    cancelled_trial_past = Q(state=St.CANCELLED) & trial & Q(end_date__lt=today)
    by_status = {
        S.TRIAL_EXPIRED: cancelled_trial_past | (trial & ended),
        S.CANCELLED: (Q(state=St.CANCELLED) & ~cancelled_trial_past) | (~trial & ended),
        S.TRIAL_EXPIRING_30: trial & live & Q(end_date__gte=today, end_date__lte=soon),
        S.EXPIRING_30: ~trial & live & Q(end_date__gte=today, end_date__lte=soon),
        S.TRIAL_EXPIRING_60: trial & live & Q(end_date__gt=soon, end_date__lte=later),
        S.EXPIRING_60: ~trial & live & Q(end_date__gt=soon, end_date__lte=later),
        S.TRIAL_ACTIVE: trial & live & Q(end_date__gt=later),
        S.ACTIVE: ~trial & live & Q(end_date__gt=later),
    }
    return by_status[SubscriptionStatus(status)]


def customer_ids_with_subscription_status(
    *, partner: Organization, today: date, statuses: list[str]
) -> QuerySet[Any, Any]:
    """P4: customers with at least one of the partner's subscriptions in a picked P3 status."""
    condition = Q(pk__in=[])
    for status in statuses:
        condition |= subscription_status_q(status=status, today=today)
    return Subscription.objects.filter(condition, partner=partner).values("customer_id")


def customers_with_subscription_status(
    *, partner: Organization, today: date, statuses: list[str]
) -> Q:
    """P4: at least one of the partner's subscriptions is in a picked P3 status. One subquery
    per status (date-range statuses are served by the (state, end_date) index), joined by OR."""
    condition = Q(pk__in=[])
    for status in statuses:
        condition |= Q(
            pk__in=customer_ids_with_subscription_status(
                partner=partner, today=today, statuses=[status]
            )
        )
    return condition


def customer_ids_with_provisioning_status(
    *, partner: Organization, status: str
) -> QuerySet[Any, Any]:
    """P4 for provisioning: customers with one of the partner's subscriptions showing
    ``status``, a subscription showing the status of its service that needs most attention
    (P2): it has a service in that status and none more urgent. Starts from the status index,
    so rare statuses (failed, pending consent …) are found without scanning every service."""
    more_urgent = PROVISIONING_URGENCY[: PROVISIONING_URGENCY.index(status)]
    worse = Service.objects.filter(
        subscription=OuterRef("subscription"), provisioning_status__in=more_urgent
    )
    return Service.objects.filter(
        ~Exists(worse),
        provisioning_status=status,
        subscription__partner=partner,
        subscription__state__in=HOLDING,
    ).values("subscription__customer_id")


def customers_with_provisioning_status(*, partner: Organization, statuses: list[str]) -> Q:
    """P4: matches when at least one subscription shows one of the picked statuses. One
    subquery per status (an equality the status index serves), joined by OR."""
    condition = Q(pk__in=[])
    for status in statuses:
        if status in PROVISIONING_URGENCY:
            condition |= Q(
                pk__in=customer_ids_with_provisioning_status(partner=partner, status=status)
            )
    return condition


def customer_has_service(*, partner: Organization, types: list[str]) -> Exists:
    """A correlated EXISTS: a common service matches most rows, so the page walks its sort
    index and stops after one page instead of collecting every match first."""
    return Exists(
        Service.objects.filter(
            subscription__customer=OuterRef("pk"),
            subscription__partner=partner,
            subscription__state__in=HOLDING,
            type__in=types,
        )
    )


def customer_ids_with_admin_email(*, text: str) -> QuerySet[Any, Any]:
    """Orgs with an admin whose email starts with ``text``, or whose email domain is ``text``.
    Both use an index (emails are stored lower-cased), unlike a substring match over every
    user."""
    text = text.strip().lower()
    prefix = Q(user__email__gte=text, user__email__lt=text + "\U0010ffff")
    return Membership.objects.filter(
        prefix | Q(user__email_domain=text), role__in=CUSTOMER_ADMIN_ROLES
    ).values("org_id")


def customer_sort_expressions(*, partner: Organization, today: date) -> dict[str, Any]:
    """What each sortable column of the list orders by (annotated only when sorted by it)."""
    from django.db.models.functions import Lower

    holding_services = Service.objects.filter(
        subscription__customer=OuterRef("pk"),
        subscription__partner=partner,
        subscription__state__in=HOLDING,
    ).order_by()
    return {
        "name_key": Lower("name"),
        "provisioning_rank": Subquery(
            holding_services.annotate(_m=_Min(provisioning_rank_expression())).values("_m"),
            output_field=IntegerField(),
        ),
        "subscription_rank": Subquery(
            Subscription.objects.filter(customer=OuterRef("pk"), partner=partner)
            .order_by()
            .annotate(_m=_Min(subscription_status_rank_expression(today=today)))
            .values("_m"),
            output_field=IntegerField(),
        ),
        "services_key": Subquery(
            holding_services.annotate(
                _s=_SumDistinct(
                    Case(
                        *[When(type=t, then=Value(bit)) for t, bit in SERVICE_BITS.items()],
                        output_field=IntegerField(),
                    )
                )
            ).values("_s"),
            output_field=IntegerField(),
        ),
        "admins_key": Subquery(
            Membership.objects.filter(org=OuterRef("pk"), role__in=CUSTOMER_ADMIN_ROLES)
            .order_by()
            .annotate(_m=_Min(F("user__email")))
            .values("_m"),
            output_field=CharField(),
        ),
    }


# ---- precomputed orders for the computed sort keys ----------------------------------------
SORT_CACHE_TTL = 15 * 60  # seconds; a tick rebuilds it sooner, every trial change drops it


@dataclass(frozen=True)
class SortOrder:
    """The partner's customers in the order of one computed sort key: ascending (key, pk)
    for the customers with a key, then those without one, by pk. Descending is both lists
    reversed (the SQL order of the list: key DESC NULLS LAST, pk DESC)."""

    keyed: array[int]
    unkeyed: array[int]

    @property
    def total(self) -> int:
        return len(self.keyed) + len(self.unkeyed)

    def page(self, *, descending: bool, offset: int, limit: int) -> list[int]:
        first, second = (self.keyed, self.unkeyed)
        if descending:
            first, second = first[::-1], second[::-1]
        if offset < len(first):
            ids = list(first[offset : offset + limit])
            return ids + list(second[: limit - len(ids)])
        start = offset - len(first)
        return list(second[start : start + limit])


def _sort_cache_key(partner_id: int, today: date, name: str) -> str:
    from partnerhub.core.listview import summary_cache_key

    return summary_cache_key("customers", partner_id, today, "sort", name)


def customer_sort_order_cached(
    *, partner: Organization, today: date, name: str
) -> SortOrder | None:
    """The precomputed order of a computed sort key, if a tick built it since the last change."""
    if name not in COMPUTED_SORT_KEYS:
        return None
    raw = cache_get(_sort_cache_key(partner.pk, today, name))
    if raw is None:
        return None
    keyed, unkeyed = array("q"), array("q")
    keyed.frombytes(raw[0])
    unkeyed.frombytes(raw[1])
    return SortOrder(keyed=keyed, unkeyed=unkeyed)


def customer_sort_orders_build(*, partner: Organization, today: date) -> dict[str, int]:
    """Compute and cache the order of every computed sort key of the partner's list (one
    set-based query each). Run by the tick (``manage.py customer_list_warm``); until it has
    run, or after any change, the list sorts in SQL — slower, never wrong."""
    expressions = customer_sort_expressions(partner=partner, today=today)
    built = {}
    for name in COMPUTED_SORT_KEYS:
        rows = (
            partner_customers(partner=partner)
            .annotate(_k=expressions[name])
            .order_by(F("_k").asc(nulls_last=True), "pk")
            .values_list("pk", "_k")
        )
        keyed, unkeyed = array("q"), array("q")
        for pk, key in rows.iterator(chunk_size=10_000):
            (unkeyed if key is None else keyed).append(pk)
        cache_set(
            _sort_cache_key(partner.pk, today, name),
            (keyed.tobytes(), unkeyed.tobytes()),
            SORT_CACHE_TTL,
        )
        built[name] = len(keyed) + len(unkeyed)
    return built


def customer_sort_orders_warm(*, today: date) -> dict[str, int]:
    """Build the sort orders of every certified partner's list (beat, ``customer_list_warm``).
    Returns the number of customers per partner name."""

    warmed = {}
    for partner in Organization.objects.filter(kind=OrgKind.PARTNER, partner_certified=True):
        built = customer_sort_orders_build(partner=partner, today=today)
        warmed[partner.name] = max(built.values(), default=0)
    return warmed


COMPUTED_SORT_KEYS = ("provisioning_rank", "subscription_rank", "services_key", "admins_key")


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


def _count(queryset: QuerySet[Any], *, distinct: str | None = None) -> Subquery:
    counter = _CountDistinct(F(distinct)) if distinct else _Count(Value(1))
    return Subquery(
        queryset.order_by().annotate(_c=counter).values("_c"), output_field=IntegerField()
    )


def customer_list_summary(
    *,
    partner: Organization,
    today: date,
    filtered: QuerySet[Organization] | None = None,
    count_limit: int | None = None,
) -> dict[str, int]:
    """The count band (and, when given, the number of rows the filters leave) in ONE query:
    scalar subqueries anchored on the partner's row. Counts use the same definitions as the
    filters, so a band link leads to exactly that many customers."""
    mine = partner_customers(partner=partner)
    related, pending_only = partner_customer_count(partner=partner)
    counts: dict[str, Any] = {
        "related": related,
        "pending_only": pending_only,
        "to_be_deleted": _count(mine.filter(deletion_marked_at__isnull=False)),
    }
    if filtered is not None:
        counts["filtered"] = capped_count_expression(filtered, count_limit)
    for key, status in (
        ("trial_expiring_30", SubscriptionStatus.TRIAL_EXPIRING_30),
        ("expiring_30", SubscriptionStatus.EXPIRING_30),
        ("trial_expired", SubscriptionStatus.TRIAL_EXPIRED),
    ):
        counts[key] = _count(
            mine.filter(
                pk__in=customer_ids_with_subscription_status(
                    partner=partner, today=today, statuses=[status]
                )
            )
        )
    for key, prov in (
        ("provisioning_failed", ProvisioningStatus.FAILED),
        ("pending_consent", ProvisioningStatus.PENDING_CONSENT),
        ("awaiting_details", ProvisioningStatus.AWAITING_DETAILS),
    ):
        counts[key] = _count(
            mine.filter(pk__in=customer_ids_with_provisioning_status(partner=partner, status=prov))
        )
    row = Organization.objects.filter(pk=partner.pk).annotate(**counts).values(*counts).first()
    result = {k: int(v or 0) for k, v in (row or {}).items()}
    result["total"] = result.pop("related", 0) + result.pop("pending_only", 0)
    return result


def customer_list_count(*, partner: Organization) -> int:
    """The unfiltered number of customers, from the relationship index: one cheap query."""
    related, pending_only = partner_customer_count(partner=partner)
    row = (
        Organization.objects.filter(pk=partner.pk)
        .annotate(related=related, pending_only=pending_only)
        .values("related", "pending_only")
        .first()
    )
    return int((row or {}).get("related") or 0) + int((row or {}).get("pending_only") or 0)


@dataclass
class SubscriptionRow:
    """One of the partner's subscriptions, as the list and the customer page show it."""

    subscription: Subscription
    status: SubscriptionStatus | None
    days_left: int | None  # running trials only (T11: the list shows the days left)
    services: list[Service] = field(default_factory=list)
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


def _subscription_rows(services: list[Service], *, today: date) -> dict[int, list[SubscriptionRow]]:
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


def customer_rows_attach(
    *, partner: Organization, today: date, now: datetime, queryset: QuerySet[Organization]
) -> list[Organization]:
    """Load one page of the list: the orgs with their admins' emails (one query), then every
    service of the partner's subscriptions of those orgs (one more query). Attaches:
    ``subscription_rows``, ``provisioning_status`` (P2), ``service_types``, ``admins``,
    ``planned_deletion_at`` (D2)."""
    admins = (
        Membership.objects.filter(org=OuterRef("pk"), role__in=CUSTOMER_ADMIN_ROLES)
        .order_by()
        .values("org")
        .annotate(_e=GroupConcat("user__email"))
        .values("_e")
    )
    rows: list[Organization] = list(
        queryset.annotate(admin_emails=Subquery(admins, output_field=CharField()))
    )
    services = list(
        Service.objects.filter(
            subscription__partner=partner, subscription__customer_id__in=[r.pk for r in rows]
        )
        .select_related("subscription")
        .order_by("subscription__start_date", "subscription_id", "type")
    )
    subs = _subscription_rows(services, today=today)
    for org in rows:
        _decorate(org, subs.get(org.pk, []), now=now)
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
    "SUBSCRIPTION_STATUS_ORDER",
    "CustomerPage",
    "Exists",
    "SubscriptionRow",
    "customer_list_summary",
    "customer_page",
    "customer_rows_attach",
    "customer_sort_expressions",
    "partner_customers",
    "provisioning_rank_expression",
    "subscription_status_expression",
    "subscription_status_rank_expression",
]
