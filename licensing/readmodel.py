"""The customer list's read model (``CustomerRow``): computed from the source tables, kept on
write, moved by the daily tick, rebuilt and checked by commands (P2–P4, D2, T11).

Who calls what:

* every service that changes what the list filters or sorts by — a customer's name, region,
  deletion mark, admins, the partner's relationship, a subscription's kind/state/end date, a
  service's type or provisioning status — calls ``customer_rows_refresh(customer_ids=[…])``
  once, at its end, inside its transaction. Lower layers (``partnerhub.accounts``) cannot see
  this module: the licensing, trials and customers services that call them refresh instead;
* the daily tick calls ``customer_rows_advance(today=…)``: the statuses are the only part that
  depends on the date, and they change only when an end date crosses today, today + 30 or
  today + 60 (P3), so it refreshes just the customers with such an end date;
* ``manage.py customer_rows_rebuild`` recomputes every row from scratch;
  ``manage.py customer_rows_check`` (``customer_rows_check()``) lists every difference.

A customer is on a partner's list through a sales relationship, or while the partner's trial
waits for consent (T3). The trial of a pending request is the only subscription in the
*pending* state (``trials.services.trial_request_existing_org`` creates it so; acceptance makes
it active, a refusal, cancellation or expiry cancels it), so the licensing layer expresses
"a pending consent request" as "a pending subscription of that partner". The check compares the
pairs with ``trials.selectors.partner_customers`` as well (``customers.readmodel_check``).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q

from partnerhub.accounts.choices import CUSTOMER_ADMIN_ROLES, OrgKind
from partnerhub.accounts.models import CustomerRelationship, Membership, Organization
from partnerhub.core.clock import business_today
from partnerhub.core.listview import summary_cache_clear
from partnerhub.core.sweeps import SweepResult

from .choices import LICENSE_HOLDING_STATES, SubscriptionKind, SubscriptionState
from .lifecycle import EXPIRING_LATER_DAYS, EXPIRING_SOON_DAYS, PROVISIONING_URGENCY
from .models import (
    EMPTY_RANK_HIGH,
    EMPTY_RANK_LOW,
    EMPTY_TEXT_HIGH,
    CustomerRow,
    License,
    ReadModelFill,
    Service,
    Subscription,
)
from .status_sql import SERVICE_BITS, subscription_status_rank_expression

FILL_NAME = "customer_rows"
CHUNK = 2000  # customers per set-based step of a refresh, rebuild or check
HOLDING = frozenset(str(s) for s in LICENSE_HOLDING_STATES)
LIVE_TRIAL = frozenset({SubscriptionState.PENDING, SubscriptionState.ACTIVE})
# The columns a row is compared on (``as_of`` only says when it was computed).
FACTS = (
    "name_key",
    "data_region",
    "created",
    "deletion_marked_at",
    "provisioning_rank_up",
    "provisioning_rank_down",
    "provisioning_bits",
    "subscription_rank_up",
    "subscription_rank_down",
    "subscription_bits",
    "services_bits",
    "services_up",
    "admins_up",
    "admins_down",
    "admin_emails_key",
    "trial_end_date",
    "warning_on",
    "deletion_on",
    "forecast_why",
    "forecast_floats",
    "licenses_bought",
    "licenses_assigned",
    "licenses_used_percent",
    "licenses_over_bits",
    "admin_signin_at",
)
# Facts the partner's cached count band and dashboard do not wait for: a row that changes in
# these only (an admin signing in) leaves the cached numbers be until they expire, so a busy
# partner's sign-ins do not make every list request recount (``customers.dashboard``).
BAND_NEUTRAL = frozenset({"admin_signin_at"})
Pair = tuple[int, int]  # (partner id, customer id)
NO_FORECAST = {"warning_on": None, "deletion_on": None, "forecast_why": 0, "forecast_floats": False}


@dataclass(frozen=True)
class ForecastFacts:
    """What this layer reads of one customer org for its deletion forecast (D1–D5): the org's
    deletion fields, and every license-holding subscription of it, any partner's or none."""

    org: dict[str, Any]  # pk, deletion_marked_at, deletion_warned_at, last_activity_at
    subscriptions: list[tuple[int, str, str, date, date | None]]  # pk, kind, state, end, period


# The forecast's rules (D3, D4 and the sweeps' conditions) live a layer up, in
# ``customers.lifecycle``; the customers app registers the function that applies them here at
# start-up (``customers.forecast_rows``), so every refresh, rebuild, advance and check of a row
# computes its forecast columns in the same pass, without this layer importing that one.
Forecaster = Callable[[dict[int, ForecastFacts], date], dict[int, dict[str, Any]]]
_forecasters: list[Forecaster] = []


def forecaster_register(forecaster: Forecaster) -> None:
    if forecaster not in _forecasters:
        _forecasters[:] = [forecaster]


# Issue 16: the latest sign-in of each customer org's admins. Sign-ins are the customers
# layer's evidence (``customers.ActivityEvent``), so that layer registers the reader at start-up
# (``customers.apps``); it takes customer ids and returns {customer id: instant}.
AdminSigninReader = Callable[[list[int]], dict[int, Any]]
_admin_signin_readers: list[AdminSigninReader] = []


def admin_signins_register(reader: AdminSigninReader) -> None:
    if reader not in _admin_signin_readers:
        _admin_signin_readers[:] = [reader]


def admin_signins_read(customer_ids: list[int]) -> dict[int, Any]:
    """The latest admin sign-in of each of these customers, by the registered reader."""
    signins: dict[int, Any] = {}
    for reader in _admin_signin_readers:
        signins = reader(customer_ids)
    return signins


def licenses_used_percent(*, bought: int, assigned: int) -> int | None:
    """The used share of the licenses bought, in whole percent (rounded down, so "under N
    percent" on it is exactly ``100 × assigned < N × bought``); None when none are bought."""
    return assigned * 100 // bought if bought else None


def _scope(prefix: str, ids: Iterable[int] | None, id_range: tuple[int, int] | None) -> Q:
    if id_range is not None:
        return Q(**{f"{prefix}__gte": id_range[0], f"{prefix}__lt": id_range[1]})
    return Q(**{f"{prefix}__in": list(ids or ())})


@dataclass
class RowSources:
    """The source facts the rows of some customers are computed from, in the shapes
    ``customer_rows_expected`` reads them in: from the tables, or from a bulk loader that knows
    what it just wrote (``partnerhub.demo.bulk``), so both go through one computation."""

    # pk → pk, name, data_region, created, deletion_marked_at, deletion_warned_at,
    # last_activity_at (customer orgs only)
    orgs: Mapping[int, Mapping[str, Any]]
    relationships: Iterable[Pair]  # (partner id, customer id)
    # pk, partner id, customer id, kind, state, end date, period end date, P3 rank
    # (``status_sql.subscription_status_rank``) of every subscription of these customers
    subscriptions: Iterable[tuple[int, int | None, int, str, str, date, date | None, int | None]]
    # (service id, subscription id, type, provisioning status, licenses bought, subscription
    # state) of the partner-managed holding subscriptions
    services: Iterable[tuple[int, int, str, str, int, str]]
    admins: Iterable[tuple[int, str]]  # (org id, email) of each customer admin membership
    # (service id, licenses assigned) of the partner-managed active subscriptions (issue 16)
    licenses: Iterable[tuple[int, int]]
    # {customer id: the latest admin sign-in} of some customer ids (issue 16)
    admin_signins: Callable[[list[int]], Mapping[int, Any]]


def customer_rows_expected(
    *,
    today: date,
    customer_ids: Iterable[int] | None = None,
    id_range: tuple[int, int] | None = None,
) -> dict[Pair, dict[str, Any]]:
    """The rows the source tables call for, for some customers (ids, or a [lo, hi) id range):
    five set-based queries, whatever the number of customers."""
    if customer_ids is not None:
        customer_ids = list(customer_ids)
    orgs = {
        o["pk"]: o
        for o in Organization.objects.filter(
            _scope("pk", customer_ids, id_range), kind=OrgKind.CUSTOMER
        ).values(
            "pk",
            "name",
            "data_region",
            "created",
            "deletion_marked_at",
            "deletion_warned_at",
            "last_activity_at",
        )
    }
    if not orgs:
        return {}
    scope = _scope("customer_id", customer_ids, id_range)
    return customer_rows_compute(
        RowSources(
            orgs=orgs,
            relationships=CustomerRelationship.objects.filter(scope).values_list(
                "partner_id", "customer_id"
            ),
            subscriptions=Subscription.objects.filter(scope)
            .annotate(_rank=subscription_status_rank_expression(today=today))
            .values_list(
                "pk",
                "partner_id",
                "customer_id",
                "kind",
                "state",
                "end_date",
                "period_end_date",
                "_rank",
            )
            .order_by(),
            services=Service.objects.filter(
                _scope("subscription__customer_id", customer_ids, id_range),
                subscription__partner_id__isnull=False,
                subscription__state__in=HOLDING,
            )
            .values_list(
                "pk",
                "subscription_id",
                "type",
                "provisioning_status",
                "quantity",
                "subscription__state",
            )
            .order_by(),
            admins=Membership.objects.filter(_scope("org_id", customer_ids, id_range))
            .filter(role__in=CUSTOMER_ADMIN_ROLES)
            .values_list("org_id", "user__email")
            .order_by(),
            licenses=License.objects.filter(
                _scope("service__subscription__customer_id", customer_ids, id_range),
                service__subscription__partner_id__isnull=False,
                service__subscription__state=SubscriptionState.ACTIVE,
            )
            .values("service_id")
            .annotate(n=Count("pk"))
            .values_list("service_id", "n")
            .order_by(),
            admin_signins=admin_signins_read,
        ),
        today=today,
    )


def customer_rows_compute(sources: RowSources, *, today: date) -> dict[Pair, dict[str, Any]]:
    """The rows (P2–P4, D2, T11 and the deletion forecast) of the customers in ``sources``.

    The sources are read in the order given (the queries of ``customer_rows_expected`` run as
    they are iterated)."""
    orgs = sources.orgs
    pairs: set[Pair] = set(sources.relationships)
    subs: dict[Pair, list[tuple[int, str, str, date, int | None]]] = defaultdict(list)
    sub_pair: dict[int, Pair] = {}
    holding: dict[int, list[tuple[int, str, str, date, date | None]]] = defaultdict(list)
    for (
        pk,
        partner_id,
        customer_id,
        kind,
        state,
        end_date,
        period_end,
        rank,
    ) in sources.subscriptions:
        if state in HOLDING:  # D1: any holding subscription keeps the org, any partner's or none
            holding[customer_id].append((pk, kind, state, end_date, period_end))
        if partner_id is None:
            continue
        pair = (partner_id, customer_id)
        subs[pair].append((pk, kind, state, end_date, rank))
        if state == SubscriptionState.PENDING:  # T3: a trial waiting for consent
            pairs.add(pair)
        if state in HOLDING:
            sub_pair[pk] = pair
    # Services of holding subscriptions: their urgency per subscription (P2) and their types;
    # of active ones, the licenses bought (issue 16).
    sub_urgency: dict[int, int] = {}
    services_bits: dict[Pair, int] = defaultdict(int)
    urgency = {s: i for i, s in enumerate(PROVISIONING_URGENCY)}
    active_services: dict[int, tuple[Pair, str, int]] = {}  # service → (pair, type, quantity)
    if sub_pair:
        for service_id, sub_id, service_type, status, quantity, sub_state in sources.services:
            rank = urgency[status]
            sub_urgency[sub_id] = min(rank, sub_urgency.get(sub_id, rank))
            services_bits[sub_pair[sub_id]] |= SERVICE_BITS[service_type]
            if sub_state == SubscriptionState.ACTIVE:
                active_services[service_id] = (sub_pair[sub_id], service_type, quantity)
    # Issue 16: licenses assigned on those services, one count per service.
    bought: dict[Pair, int] = defaultdict(int)
    assigned: dict[Pair, int] = defaultdict(int)
    over_bits: dict[Pair, int] = defaultdict(int)
    held: dict[int, int] = {}
    if active_services:
        held = dict(sources.licenses)
    for service_id, (pair, service_type, quantity) in active_services.items():
        n = held.get(service_id, 0)
        bought[pair] += quantity
        assigned[pair] += n
        if n > quantity:
            over_bits[pair] |= SERVICE_BITS[service_type]
    admin_emails: dict[int, set[str]] = defaultdict(set)
    for org_id, email in sources.admins:
        admin_emails[org_id].add(email)
    admins = {org_id: sorted(emails) for org_id, emails in admin_emails.items()}
    forecasts: dict[int, dict[str, Any]] = {}
    listed = {customer_id for _, customer_id in pairs if customer_id in orgs}
    for forecaster in _forecasters:
        forecasts = forecaster(
            {pk: ForecastFacts(dict(orgs[pk]), holding.get(pk, [])) for pk in listed}, today
        )
    signins: Mapping[int, Any] = sources.admin_signins(sorted(listed)) if listed else {}
    rows: dict[Pair, dict[str, Any]] = {}
    for pair in pairs:
        org = orgs.get(pair[1])
        if org is None:
            continue
        prov_bits = sub_bits = 0
        prov_rank = sub_rank = None
        trial_end = None
        for pk, kind, state, end_date, rank in subs.get(pair, ()):
            if rank is not None:
                sub_bits |= 1 << rank
                sub_rank = rank if sub_rank is None else min(sub_rank, rank)
            if pk in sub_urgency:
                u = sub_urgency[pk]
                prov_bits |= 1 << u
                prov_rank = u if prov_rank is None else min(prov_rank, u)
            if kind == SubscriptionKind.TRIAL and state in HOLDING:
                trial_end = end_date if trial_end is None else min(trial_end, end_date)
        bits = services_bits.get(pair, 0)
        emails = admins.get(pair[1], [])
        first_admin = emails[0] if emails else None
        rows[pair] = {
            "name_key": org["name"].lower(),
            "data_region": org["data_region"],
            "created": org["created"],
            "deletion_marked_at": org["deletion_marked_at"],
            "provisioning_rank_up": EMPTY_RANK_HIGH if prov_rank is None else prov_rank,
            "provisioning_rank_down": EMPTY_RANK_LOW if prov_rank is None else prov_rank,
            "provisioning_bits": prov_bits,
            "subscription_rank_up": EMPTY_RANK_HIGH if sub_rank is None else sub_rank,
            "subscription_rank_down": EMPTY_RANK_LOW if sub_rank is None else sub_rank,
            "subscription_bits": sub_bits,
            "services_bits": bits,
            "services_up": bits or EMPTY_RANK_HIGH,
            "admins_up": first_admin or EMPTY_TEXT_HIGH,
            "admins_down": first_admin or "",
            "admin_emails_key": admin_emails_key(emails),
            "trial_end_date": trial_end,
            **forecasts.get(pair[1], NO_FORECAST),
            "licenses_bought": bought.get(pair, 0),
            "licenses_assigned": assigned.get(pair, 0),
            "licenses_used_percent": licenses_used_percent(
                bought=bought.get(pair, 0), assigned=assigned.get(pair, 0)
            ),
            "licenses_over_bits": over_bits.get(pair, 0),
            "admin_signin_at": signins.get(pair[1]),
        }
    return rows


def admin_emails_key(emails: Iterable[str]) -> str:
    """The search key of a row's admins: each email between spaces (``CustomerRow``)."""
    emails = sorted(emails)
    return f" {' '.join(emails)} " if emails else ""


def _stored(scope: Q) -> dict[Pair, dict[str, Any]]:
    return {
        (r["partner_id"], r["customer_id"]): r
        for r in CustomerRow.objects.filter(scope).values("pk", "partner_id", "customer_id", *FACTS)
    }


def _band_stale(partner_ids: set[int]) -> None:
    """The partners' count bands are stale once this change commits (stale-while-revalidate:
    the next request serves the old band and one of them recounts it)."""
    for partner_id in partner_ids:
        transaction.on_commit(functools.partial(summary_cache_clear, "customers", partner_id))


def _apply(
    expected: dict[Pair, dict[str, Any]], stored: dict[Pair, dict[str, Any]], today: date
) -> int:
    gone = [row["pk"] for pair, row in stored.items() if pair not in expected]
    changed = [
        CustomerRow(partner_id=pair[0], customer_id=pair[1], as_of=today, **facts)
        for pair, facts in expected.items()
        if pair not in stored or any(stored[pair][k] != v for k, v in facts.items())
    ]
    if gone:
        CustomerRow.objects.filter(pk__in=gone).delete()
    if changed:
        # An upsert, so two transactions refreshing one customer at once never collide.
        CustomerRow.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["partner", "customer"],
            update_fields=[*FACTS, "as_of"],
        )
    gone_ids = set(gone)
    touched = {
        row.partner_id
        for row in changed
        if (row.partner_id, row.customer_id) not in stored
        or any(
            stored[(row.partner_id, row.customer_id)][k] != getattr(row, k)
            for k in FACTS
            if k not in BAND_NEUTRAL
        )
    }
    touched |= {pair[0] for pair, row in stored.items() if row["pk"] in gone_ids}
    _band_stale(touched)
    return len(gone) + len(changed)


def customer_rows_refresh(*, customer_ids: Iterable[int], today: date | None = None) -> int:
    """Make the rows of these customers (on every partner's list) exact again, as of ``today``.
    Call it at the end of a service that changed what the list filters or sorts by, inside the
    service's transaction. Writes only the rows that differ; returns how many."""
    today = today or business_today()
    ids = sorted({int(i) for i in customer_ids if i is not None})
    written = 0
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            expected = customer_rows_expected(today=today, customer_ids=chunk)
            stored = _stored(Q(customer_id__in=chunk))
            written += _apply(expected, stored, today)
            # Only a customer that got its first row or lost its last one changes its flag (a
            # refresh of a listed customer, the common case, writes nothing more).
            listed = {customer for _partner, customer in expected}
            moved = listed ^ {customer for _partner, customer in stored}
            if moved:
                _on_partner_list_set(moved, listed=listed)
    return written


def _on_partner_list_set(customer_ids: Iterable[int], *, listed: set[int]) -> None:
    """``Organization.on_partner_list`` of these orgs: true for those in ``listed`` (they have
    rows now), false for the others; only the orgs whose flag differs are written."""
    ids = set(customer_ids)
    Organization.objects.filter(pk__in=listed & ids, on_partner_list=False).update(
        on_partner_list=True
    )
    Organization.objects.filter(pk__in=ids - listed, on_partner_list=True).update(
        on_partner_list=False
    )


def _id_ranges(step: int = CHUNK * 5) -> Iterator[tuple[int, int]]:
    bounds = Organization.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return
    for lo in range(bounds["lo"], bounds["hi"] + 1, step):
        yield lo, lo + step


def _fill_set(today: date) -> None:
    ReadModelFill.objects.update_or_create(name=FILL_NAME, defaults={"done_through": today})


def _indexes_dropped() -> list[Any]:
    """Drop the read model's sort and filter indexes (a bulk insert then costs a fraction);
    returns them for ``_indexes_restored``. Idempotent, so a rebuild that died is rerun."""
    from django.db import connection

    from .models import customer_row_search_indexes

    indexes = list(CustomerRow._meta.indexes)
    if connection.vendor == "postgresql":
        indexes += customer_row_search_indexes()
    with connection.cursor() as cursor:
        for index in indexes:
            name = connection.ops.quote_name(index.name)
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
    return indexes


def _indexes_restored(indexes: list[Any]) -> None:
    from django.db import connection

    if not indexes:
        return
    with connection.cursor() as cursor:
        existing = set(connection.introspection.get_constraints(cursor, CustomerRow._meta.db_table))
    with connection.schema_editor(atomic=False) as editor:
        for index in indexes:
            if index.name not in existing:
                editor.add_index(CustomerRow, index)


def _insert_rows(expected: dict[Pair, dict[str, Any]], today: date) -> int:
    """One multi-row INSERT per batch, without building model instances (which cost most of a
    rebuild's time): values adapted by the backend exactly as the ORM would."""
    from django.db import connection

    ops = connection.ops
    columns = ["partner_id", "customer_id", *FACTS, "as_of"]
    adapt = {
        "created": ops.adapt_datetimefield_value,
        "deletion_marked_at": ops.adapt_datetimefield_value,
        "trial_end_date": ops.adapt_datefield_value,
        "warning_on": ops.adapt_datefield_value,
        "deletion_on": ops.adapt_datefield_value,
        "admin_signin_at": ops.adapt_datetimefield_value,
    }
    as_of = ops.adapt_datefield_value(today)
    values = [
        (p, c, *[adapt[k](f[k]) if k in adapt else f[k] for k in FACTS], as_of)
        for (p, c), f in expected.items()
    ]
    table = ops.quote_name(CustomerRow._meta.db_table)
    names = ", ".join(ops.quote_name(c) for c in columns)
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    batch = 500
    with connection.cursor() as cursor:
        for start in range(0, len(values), batch):
            chunk = values[start : start + batch]
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES " + ", ".join([row_sql] * len(chunk)),
                [v for row in chunk for v in row],
            )
    return len(values)


def customer_rows_rebuild(*, today: date | None = None) -> int:
    """Recompute every row from the source tables (``manage.py customer_rows_rebuild``, the
    bulk demo builder). Empties the table, drops its secondary indexes, inserts every id
    range in its own transaction, then builds the indexes once: minutes at a million, but the
    list is incomplete meanwhile — run it when the site is quiet (a service's refresh of a
    customer stays correct either way). Returns the number of rows."""
    today = today or business_today()
    total = 0
    from django.db import connection

    CustomerRow.objects.all().delete()
    # Outside a transaction (the command, the bulk loader) the indexes are rebuilt once at the
    # end; inside one (the small demo world, tests) they stay — DDL there is not portable.
    indexes = [] if connection.in_atomic_block else _indexes_dropped()
    try:
        for id_range in _id_ranges():
            with transaction.atomic():
                expected = customer_rows_expected(today=today, id_range=id_range)
                total += _insert_rows(expected, today)
                _on_partner_list_range(id_range)
    finally:
        _indexes_restored(indexes)
    _fill_set(today)
    for partner_id in set(CustomerRow.objects.values_list("partner_id", flat=True).distinct()):
        summary_cache_clear("customers", partner_id)
    return total


def customers_crossing_boundaries(*, since: date, today: date) -> set[int]:
    """P3: the customers one of whose (partner-managed) subscriptions changes status between
    ``since`` and ``today``: its end date became past, or entered the 30- or 60-day window."""
    windows = Q(end_date__gte=since, end_date__lt=today)
    for days in (EXPIRING_SOON_DAYS, EXPIRING_LATER_DAYS):
        windows |= Q(
            end_date__gt=since + timedelta(days=days), end_date__lte=today + timedelta(days=days)
        )
    return set(
        Subscription.objects.filter(windows, partner_id__isnull=False)
        .exclude(state=SubscriptionState.CONVERTED)
        .values_list("customer_id", flat=True)
        .distinct()
    )


def customer_rows_advance(*, today: date) -> SweepResult:
    """The daily part (P3): move the rows whose statuses change between the last advance and
    ``today`` — set-based, through the end-date index, for a gap of any length. With no record
    of a last advance yet, the oldest row's ``as_of`` is where the rows stand."""
    result = SweepResult(name="customer_rows_advance", rule="P3")
    fill = ReadModelFill.objects.filter(name=FILL_NAME).first()
    since = fill.done_through if fill is not None else None
    if since is None:
        since = CustomerRow.objects.aggregate(d=Min("as_of"))["d"] or today
    if fill is not None and since >= today:
        return result
    with transaction.atomic():
        if since < today:
            ids = customers_crossing_boundaries(since=since, today=today)
            # D3/D4: forecasts that count from today (an overdue step) move with it.
            ids |= set(
                CustomerRow.objects.filter(forecast_floats=True).values_list(
                    "customer_id", flat=True
                )
            )
            result.count = customer_rows_refresh(customer_ids=ids, today=today)
        _fill_set(today)
    return result


@dataclass(frozen=True)
class RowDifference:
    partner_id: int
    customer_id: int
    problem: str  # "missing", "extra", or "field: stored ≠ expected"

    def __str__(self) -> str:
        return f"partner {self.partner_id}, customer {self.customer_id}: {self.problem}"


def customer_rows_check(*, limit: int = 1000) -> list[RowDifference]:
    """Every difference between the stored rows and the source tables (at most ``limit``).

    A row must be exact as of the later of the day it was computed (``as_of``) and the last
    advance (``ReadModelFill``): a service that changed a listed fact without refreshing shows
    here, and so does a row the tick failed to move across a boundary."""
    fill = ReadModelFill.objects.filter(name=FILL_NAME).values_list("done_through", flat=True)
    advanced = fill.first()
    found: list[RowDifference] = []
    stray = CustomerRow.objects.exclude(customer__kind=OrgKind.CUSTOMER)
    for p, c in stray.values_list("partner_id", "customer_id")[:limit]:
        found.append(RowDifference(p, c, "extra"))
    # Each org's on_partner_list says whether it has rows (partner 0: a fact of the org).
    listed_rows = CustomerRow.objects.filter(customer_id=OuterRef("pk"))
    wrong = Organization.objects.alias(has_rows=Exists(listed_rows)).filter(
        Q(on_partner_list=True, has_rows=False) | Q(on_partner_list=False, has_rows=True)
    )
    for pk, flag in wrong.values_list("pk", "on_partner_list")[:limit]:
        found.append(RowDifference(0, pk, f"on_partner_list: {flag!r} ≠ {not flag!r}"))
    for id_range in list(_id_ranges()):
        stored = _stored(_scope("customer_id", None, id_range))
        as_of = dict(
            CustomerRow.objects.filter(_scope("customer_id", None, id_range)).values_list(
                "pk", "as_of"
            )
        )
        due = {
            pair: max(as_of[row["pk"]], advanced) if advanced else as_of[row["pk"]]
            for pair, row in stored.items()
        }
        days = set(due.values()) or {advanced or business_today()}
        expected_on = {
            day: customer_rows_expected(today=day, id_range=id_range) for day in sorted(days)
        }
        any_day = expected_on[max(days)]
        for pair in sorted(any_day.keys() | stored.keys()):
            if pair not in stored:
                found.append(RowDifference(*pair, "missing"))
            elif pair not in any_day:
                found.append(RowDifference(*pair, "extra"))
            else:
                expected = expected_on[due[pair]][pair]
                for key, value in expected.items():
                    if stored[pair][key] != value:
                        found.append(
                            RowDifference(*pair, f"{key}: {stored[pair][key]!r} ≠ {value!r}")
                        )
            if len(found) >= limit:
                return found[:limit]
    return found


def customer_rows_admin_signed_in(*, customer_id: int, at: Any) -> int:
    """A current, active admin of the customer signed in to Control Hub at ``at`` (the caller
    knows they are one): the customer's rows keep the later instant — exactly what a refresh
    would compute (the latest such sign-in), in one UPDATE. The cached count band and dashboard
    are left to expire (``BAND_NEUTRAL``)."""
    return (
        CustomerRow.objects.filter(customer_id=customer_id)
        .filter(Q(admin_signin_at__isnull=True) | Q(admin_signin_at__lt=at))
        .update(admin_signin_at=at)
    )


def _on_partner_list_range(id_range: tuple[int, int]) -> None:
    """``_on_partner_list_set`` for every org of an id range (the rebuild)."""
    orgs = Organization.objects.filter(_scope("pk", None, id_range))
    listed_rows = CustomerRow.objects.filter(customer_id=OuterRef("pk"))
    orgs.filter(on_partner_list=False).filter(Exists(listed_rows)).update(on_partner_list=True)
    orgs.filter(on_partner_list=True).exclude(Exists(listed_rows)).update(on_partner_list=False)


def customer_rows_forget(*, org_ids: Iterable[int]) -> int:
    """Before orgs are deleted (D4, D9): drop their rows — as customers and as partners — and
    mark the bands of the partners that listed them stale. (The foreign keys cascade too; this
    keeps the bands honest and lets a set-based delete skip the collector for this table.)"""
    ids = set(org_ids)
    rows = CustomerRow.objects.filter(Q(customer_id__in=ids) | Q(partner_id__in=ids))
    pairs = set(rows.values_list("partner_id", "customer_id"))
    _band_stale({partner for partner, _customer in pairs} - set(ids))
    # A deleted partner's customers may be on no list any more.
    customers = {customer for partner, customer in pairs if partner in ids} - set(ids)
    deleted, _ = rows.delete()
    if customers:
        still = CustomerRow.objects.filter(customer_id__in=customers).values_list(
            "customer_id", flat=True
        )
        _on_partner_list_set(customers, listed=set(still))
    return deleted
