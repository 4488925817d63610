"""Bulk customers for benchmarks: ``seed_demo --customers N`` (issue 11, item 5).

N customers with about ten people each, their subscriptions, services and consent requests,
mostly on Northwind's list, written straight into the tables: ``COPY`` on PostgreSQL (the
secondary indexes, unique and foreign-key constraints dropped first and rebuilt once after the
load), ``executemany`` on SQLite. Nothing is read back: ids are assigned after the current
maxima, and the customer list's read model rows (``CustomerRow``) are computed from what the
generator itself just wrote, through the read model's own computation
(``licensing.readmodel.customer_rows_compute``), so ``customer_rows_check`` finds them exact.

**The steady state.** The world is what the lifecycle tick would have left had it run every
day up to today (the daily tick at 02:00 UTC, the hourly one at a quarter past): subscriptions
past their end are suspended (S1), past their renewal or grace period ended (S2), a Calling
trial's numbers released 15 days later (T13); consent requests older than 10 days do not exist
(T3); an org that holds no licenses is marked at the tick its last licenses went (D1) and
warned at the first tick after 30 quiet days (D3), and nobody's warning is 30 quiet days old
(D4 would have deleted the org); the D1 re-check flag is cleared (every org was decided); the
trial notices (T11) and welcome emails (T2) that the ticks would have owed are in the outbox,
sent. So the first tick after a seed has only today's work to do, not months of it. Sent
emails of the past are recorded by their key, recipient and time only (no rendered text).
"""

from __future__ import annotations

import functools
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from types import TracebackType
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Model
from django.db.models.fields import NOT_PROVIDED

from customers.lifecycle import warning_due_at
from licensing.choices import (
    LICENSE_HOLDING_STATES,
    MeetingsEdition,
    ProvisioningStatus,
    ServiceType,
    SubscriptionKind,
    SubscriptionState,
)
from licensing.lifecycle import period_end_date
from licensing.models import CustomerRow, Service, Subscription
from licensing.readmodel import FACTS as ROW_FACTS
from licensing.readmodel import RowSources, customer_rows_compute
from licensing.status_sql import subscription_status_rank
from partnerhub.accounts.choices import (
    PARTNER_ROLES,
    OrgKind,
    PartnerAccess,
    Role,
    Vertical,
)
from partnerhub.accounts.lifecycle import name_prefix, region_for_country
from partnerhub.accounts.models import CustomerRelationship, Membership, Organization, User
from partnerhub.core.clock import business_today
from partnerhub.core.listview import summary_cache_clear
from partnerhub.core.models import OutboxEmail
from partnerhub.core.outbox import outbox_key
from trials.choices import ConsentStatus
from trials.lifecycle import (
    GRACE_PERIOD_DAYS,
    NOTICE_DAYS_BEFORE_END,
    consent_expires_at,
    number_release_date,
    trial_notice_dates,
)
from trials.models import ConsentRequest
from trials.sweeps import WELCOME_WINDOW

from .world import DEMO_SEED, FIRST_NAMES, LAST_NAMES, PARTNERS

# The instants the beat schedule of partnerhub/celery.py runs the tick at: daily at 02:00 UTC
# (everything), hourly at a quarter past (T3 consent expiry, T2 welcome emails).
DAILY_TICK = dt_time(2, 0)
HOURLY_TICK_MINUTE = 15
DEFER_INDEXES_FROM = 10_000  # below this, keeping the indexes is cheaper than rebuilding them

_WORDS_A = (  # noqa: SIM905
    "Acme Apex Arctic Aurora Azure Beacon Birch Blue Bright Cedar Central Civic Clear Coastal "
    "Cobalt Copper Crest Crown Delta Eagle East Echo Ember Falcon First Fjord Golden Granite "
    "Green Harbor Horizon Iron Island Jade Keystone Lake Liberty Lunar Maple Meridian Metro Noble "
    "North Nova Oak Ocean Orbit Pacific Peak Pine Pioneer Polar Prime Quantum Radiant Red Ridge "
    "River Royal Sage Silver Sky Solar South Spring Star Sterling Stone Summit Sun Terra Tidal "
    "Titan True Union United Valley Vector Vista West Willow Zenith"
).split()
_WORDS_B = (  # noqa: SIM905
    "Analytics Apparel Bakery Bank Biotech Brewing Builders Capital Care Clinic Cloud Consulting "
    "Design Dynamics Energy Engineering Farms Foods Freight Games Health Hotels Imaging Insurance "
    "Labs Law Logistics Marine Media Medical Motors Networks Optics Partners Pharma Power Press "
    "Realty Robotics Security Shipping Software Solutions Studios Systems Textiles Tools Travel "
    "Ventures Works"
).split()
_SUFFIXES = ("Inc", "Ltd", "GmbH", "AB", "ApS", "SpA", "BV", "LLC", "Group", "")
_COUNTRIES: dict[str, str] = {}

# COPY's text format gives these characters a meaning. The generator's own strings (names,
# emails, references: all made of the word lists above) go into COPY unescaped, formatted with
# one ``%`` per row — a tenth of the time of adapting each value (issue 11) — so the lists must
# not contain them; anything else is escaped by ``_copy_text``.
COPY_SPECIAL = frozenset("\t\n\r\\")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_GENERATED_WORDS = (*_WORDS_A, *_WORDS_B, *_SUFFIXES, *FIRST_NAMES, *LAST_NAMES)
if COPY_SPECIAL & set("".join(_GENERATED_WORDS)):  # pragma: no cover - a word list was edited
    raise ValueError("The bulk loader's word lists must not contain tabs, newlines or backslashes")

P, T = SubscriptionKind.PAID.value, SubscriptionKind.TRIAL.value
ST = SubscriptionState
PS = ProvisioningStatus
MEET = ServiceType.MEETINGS.value
CALLING = ServiceType.CALLING.value
HOLDING = frozenset(str(s) for s in LICENSE_HOLDING_STATES)


@dataclass(frozen=True)
class BulkStats:
    customers: int
    users: int
    subscriptions: int
    services: int
    seconds: float
    read_model_seconds: float = 0.0  # of ``seconds``: computing and writing the list's rows
    emails: int = 0  # sent emails of the past recorded in the outbox (T2, T11)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase of the load
    phases_cpu: dict[str, float] = field(default_factory=dict)  # of which this process's CPU


class _Phases:
    """Seconds per named phase (generation, COPY of each table, indexes …): wall clock, and the
    CPU time of this process (the rest of a phase is the database's, or waiting for a core)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started
            self.cpu[name] += time.process_time() - cpu


def _copy_text(value: Any) -> str:
    """One value in COPY's text format (``\\N`` for NULL, backslash escapes)."""
    kind = type(value)
    if kind is str:
        return value.translate(_COPY_ESCAPES)
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    if kind is int:
        return str(value)
    if kind is datetime or kind is date:
        return value.isoformat()
    import json

    obj = getattr(value, "obj", None)  # psycopg's Json/Jsonb wrapper (a JSONField default)
    if obj is not None or kind.__name__ in ("Json", "Jsonb"):
        return json.dumps(obj).translate(_COPY_ESCAPES)
    return str(value).translate(_COPY_ESCAPES)


def _iso(value: date | None) -> str:
    return "\\N" if value is None else value.isoformat()


def _sqlite_naive(value: datetime | None) -> str | None:
    return None if value is None else str(value.replace(tzinfo=None))


def _sqlite_datetime_adapter() -> Callable[[datetime | None], Any]:
    """The backend's datetime adapter, or — when the database's zone is UTC, as the generator's
    instants are — the same result without its zone conversion (millions of calls at 100k
    customers)."""
    adapt = connection.ops.adapt_datetimefield_value
    samples = [datetime(2026, 1, 15, 9, 30, 5, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)]
    if all(adapt(s) == _sqlite_naive(s) for s in samples):
        return _sqlite_naive
    return adapt  # pragma: no cover - a database in another zone


class _Values:
    """Column values as the load writes them. On PostgreSQL: COPY text already (``\\N``, ISO
    dates, ``t``/``f``), so a row is one ``%`` format; elsewhere the backend's adapted values
    for ``executemany``."""

    def __init__(self) -> None:
        self.copy = connection.vendor == "postgresql"
        ops = connection.ops
        self.null: Any = "\\N" if self.copy else None
        self.dt: Callable[[datetime | None], Any] = (
            _iso if self.copy else _sqlite_datetime_adapter()
        )
        self.day: Callable[[date | None], Any] = (
            _iso if self.copy else functools.lru_cache(maxsize=4096)(ops.adapt_datefield_value)
        )
        self.flag: Callable[[bool], Any] = (lambda v: "t" if v else "f") if self.copy else bool
        null = self.null
        # A nullable number or text (e.g. a row's licenses used share, None when none bought).
        self.maybe: Callable[[Any], Any] = lambda v: null if v is None else v

    def text(self, value: str) -> str:
        """A string that did not come from the word lists (read from the database)."""
        return value.translate(_COPY_ESCAPES) if self.copy else value


class _Table:
    """``INSERT`` many rows of one model: ``COPY`` on PostgreSQL, ``executemany`` elsewhere.

    Rows are tuples of values for ``columns`` (attnames) made by ``_Values``; every other
    concrete field without a database default gets its Python default, adapted once (the
    database fills the ones with a ``db_default``)."""

    def __init__(self, model: type[Model], columns: tuple[str, ...], values: _Values) -> None:
        opts = model._meta
        fields = {f.attname: f for f in opts.concrete_fields}
        rest = [
            f
            for name, f in fields.items()
            if name not in columns and not f.primary_key and f.db_default is NOT_PROVIDED
        ]
        names = [fields[c].column for c in columns] + [f.column for f in rest]
        quote = connection.ops.quote_name
        self.name = opts.db_table
        self.sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(opts.db_table),
            ", ".join(quote(n) for n in names),
            ", ".join(["%s"] * len(names)),
        )
        self.copy_sql = "COPY {} ({}) FROM STDIN".format(
            quote(opts.db_table), ", ".join(quote(n) for n in names)
        )
        self.copy = values.copy
        self.defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
        defaults_text = "".join("\t" + _copy_text(d) for d in self.defaults)
        self.line = "\t".join(["%s"] * len(columns)) + defaults_text.replace("%", "%%") + "\n"
        self.rows: list[tuple[Any, ...]] = []
        self.add = self.rows.append
        self.total = 0

    def flush(self, phases: _Phases) -> int:
        count = len(self.rows)
        if not count:
            return 0
        with connection.cursor() as cursor:
            if self.copy:
                with phases("format COPY text"):
                    text = "".join(map(self.line.__mod__, self.rows))
                with phases(f"copy {self.name}"), cursor.copy(self.copy_sql) as copy:
                    copy.write(text)
            else:
                with phases(f"insert {self.name}"):
                    cursor.executemany(self.sql, [row + self.defaults for row in self.rows])
        self.rows.clear()
        self.total += count
        return count


class _Draw:
    """The load's random draws, from one seeded stream. ``random.Random``'s own ``randint``,
    ``choice`` and weighted ``choices`` cost several times a scaled ``random()``, and a million
    customers take tens of millions of draws (issue 11)."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        self.random = rng.random
        self.sample = rng.sample

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq: Sequence[Any]) -> Any:
        return seq[int(self.random() * len(seq))]


def _weighted(pairs: Sequence[tuple[Any, int]]) -> tuple[Any, ...]:
    """A table to ``choice`` from: each value as many times as its weight."""
    return tuple(value for value, weight in pairs for _ in range(weight))


def _tick_on(day: date) -> datetime:
    return datetime.combine(day, DAILY_TICK, tzinfo=UTC)


def _first_tick(at: datetime) -> datetime:
    """The first daily tick at or after ``at``."""
    tick = _tick_on(at.date())
    return tick if tick >= at else _tick_on(at.date() + timedelta(days=1))


def _first_hourly_tick(at: datetime) -> datetime:
    tick = at.replace(minute=HOURLY_TICK_MINUTE, second=0, microsecond=0)
    return tick if tick >= at else tick + timedelta(hours=1)


@dataclass
class _Sub:
    pk: int
    partner_id: int | None
    kind: str
    state: str
    start: date
    end: date
    period_end: date | None
    ended_at: datetime | None
    created: datetime
    converted_from: int | None
    services: list[tuple[str, int, str]]  # type, quantity, provisioning status


def _state(
    rng: _Draw, *, kind: str, end: date, today: date
) -> tuple[str, date | None, datetime | None]:
    """The state a subscription ending on ``end`` is in after every tick up to today: active
    to its end day, suspended for its renewal or grace period (S1), then ended (S2) at the tick
    of the period's last day — or, a trial, converted (T9). Some live ones are cancelled or, a
    trial, waiting for consent (T3)."""
    if end >= today:
        if kind == T and rng.random() < 0.02:
            return ST.PENDING, None, None
        if rng.random() < 0.02:
            return ST.CANCELLED, None, None
        return ST.ACTIVE, None, None
    period_end = period_end_date(kind=kind, end_date=end)
    if period_end > today:
        return ST.SUSPENDED, period_end, None
    if kind == T and rng.random() < 0.3:
        return ST.CONVERTED, None, None
    return ST.ENDED, period_end, _tick_on(period_end)


@dataclass
class _Facts:
    """What a chunk wrote, in the shapes of ``RowSources``: its list rows are computed from it."""

    orgs: dict[int, dict[str, Any]] = field(default_factory=dict)
    relationships: list[tuple[int, int]] = field(default_factory=list)
    subscriptions: list[tuple[int, int | None, int, str, str, date, date | None, int | None]] = (
        field(default_factory=list)
    )
    services: list[tuple[int, int, str, str, int, str]] = field(default_factory=list)
    admins: list[tuple[int, str]] = field(default_factory=list)


class _Chunk:
    """One chunk of customers: generated, written, its read model rows and past emails added."""

    def __init__(
        self,
        *,
        rng: _Draw,
        today: date,
        now: datetime,
        partner_ids: list[int],
        partner_weights: list[int],
        partner_admins: dict[int, list[str]],
        values: _Values,
        phases: _Phases,
    ) -> None:
        self.rng, self.today, self.now, self.v, self.phases = rng, today, now, values, phases
        self.partner_ids = partner_ids
        self.partner_table = _weighted(list(zip(partner_ids, partner_weights, strict=True)))
        self.partner_admins = partner_admins
        self.tables = {
            "orgs": _Table(
                Organization,
                (
                    "id",
                    "kind",
                    "name",
                    "name_prefix",
                    "created",
                    "vertical",
                    "country",
                    "data_region",
                    "last_activity_at",
                    "deletion_marked_at",
                    "deletion_warned_at",
                    "deletion_recheck",
                    "on_partner_list",
                ),
                values,
            ),
            "users": _Table(
                User,
                (
                    "id",
                    "email",
                    "email_domain",
                    "org_id",
                    "password",
                    "first_name",
                    "last_name",
                    "date_joined",
                ),
                values,
            ),
            "memberships": _Table(Membership, ("user_id", "org_id", "role", "created"), values),
            "relationships": _Table(
                CustomerRelationship, ("partner_id", "customer_id", "access", "created"), values
            ),
            "subs": _Table(
                Subscription,
                (
                    "id",
                    "customer_id",
                    "partner_id",
                    "kind",
                    "state",
                    "reference",
                    "start_date",
                    "end_date",
                    "period_end_date",
                    "ended_at",
                    "created",
                    "converted_from_id",
                    "calling_stopped_at",
                    "numbers_released_at",
                    "ending_soon_noticed_for",
                    "end_noticed_for",
                    "welcome_decided",
                ),
                values,
            ),
            "services": _Table(
                Service,
                (
                    "id",
                    "subscription_id",
                    "type",
                    "quantity",
                    "provisioning_status",
                    "provisioned_at",
                    "edition",
                ),
                values,
            ),
            "consents": _Table(
                ConsentRequest,
                (
                    "trial_id",
                    "partner_id",
                    "customer_id",
                    "admin_email",
                    "status",
                    "requested_at",
                    "last_sent_at",
                    "expires_at",
                ),
                values,
            ),
            "emails": _Table(
                OutboxEmail,
                (
                    "key",
                    "kind",
                    "to_email",
                    "subject",
                    "body_text",
                    "org_id",
                    "created_at",
                    "sent_at",
                    "attempts",
                ),
                values,
            ),
        }
        self.rows = _Table(CustomerRow, ("partner_id", "customer_id", "as_of", *ROW_FACTS), values)
        fields = {f.attname: f.get_internal_type() for f in CustomerRow._meta.concrete_fields}
        nullable = {f.attname: f.null for f in CustomerRow._meta.concrete_fields}
        self.row_adapters: list[Callable[[Any], Any] | None] = [
            values.dt
            if fields[name] == "DateTimeField"
            else values.day
            if fields[name] == "DateField"
            else values.flag
            if fields[name] == "BooleanField"
            else values.maybe
            if nullable[name]
            else None
            for name in ROW_FACTS
        ]
        self.countries = sorted(_COUNTRIES)
        self.verticals = list(Vertical.values)
        statuses = [
            (PS.PROVISIONED, 880),
            (PS.PROVISIONING, 40),
            (PS.AWAITING_DETAILS, 25),
            (PS.MANUAL_PARTNER, 20),
            (PS.MANUAL_VENDOR, 20),
            (PS.FAILED, 15),
        ]
        self.statuses = _weighted([(str(s), w) for s, w in statuses])
        self.service_types = list(ServiceType.values)
        self.partners_touched: set[int] = set()

    # --- one customer -------------------------------------------------------------------

    def _subscriptions(self, ids: dict[str, int], *, marked: bool, partner_id: int) -> list[_Sub]:
        rng, today = self.rng, self.today
        subs: list[_Sub] = []

        def sub(
            kind: str,
            start: date,
            end: date,
            state: str,
            period_end: date | None,
            ended_at: datetime | None,
            converted_from: int | None = None,
        ) -> _Sub:
            if state == ST.PENDING:
                services = [
                    (t, rng.randint(1, 50), PS.PENDING_CONSENT.value) for t in self._types()
                ]
            else:
                services = [
                    (
                        t,
                        rng.randint(1, 50),
                        rng.choice(self.statuses),
                    )
                    for t in self._types()
                ]
            # A few subscriptions name no partner; a trial waiting for consent always names the
            # partner that asked (T3).
            named = rng.random() < 0.97 or state == ST.PENDING
            made = _Sub(
                pk=ids["sub"],
                partner_id=partner_id if named else None,
                kind=kind,
                state=str(state),
                start=start,
                end=end,
                period_end=period_end,
                ended_at=ended_at,
                # Made on its first day, or today for one that starts later (ordered ahead).
                created=datetime.combine(min(start, today), dt_time(8, 0), tzinfo=UTC),
                converted_from=converted_from,
                services=services,
            )
            ids["sub"] += 1
            subs.append(made)
            return made

        pending_used = False
        for _k in range(rng.randint(1, 3)):
            kind = P if rng.random() < 0.7 else T
            length = 365 if kind == P else rng.choice((30, 60, 90))
            # A trial started on or before today; a paid subscription may start later.
            end = today + timedelta(days=rng.randint(-150, 400 if kind == P else length))
            state: str
            period_end: date | None
            ended_at: datetime | None
            if marked:  # D1: a marked org holds no licenses; its subscriptions are long over
                end = today - timedelta(days=rng.randint(100, 400))
                period_end = period_end_date(kind=kind, end_date=end)
                state, ended_at = ST.ENDED, _tick_on(period_end)
            else:
                state, period_end, ended_at = _state(rng, kind=kind, end=end, today=today)
            if state == ST.PENDING and pending_used:
                state = ST.ACTIVE  # T3: one pending consent per partner and customer
            pending_used = pending_used or state == ST.PENDING
            trial = sub(kind, end - timedelta(days=length), end, state, period_end, ended_at)
            if state == ST.CONVERTED:
                # T9: the paid subscription the trial became, usage data kept.
                paid_end = end + timedelta(days=365)
                paid_state, paid_period, paid_ended = _state(rng, kind=P, end=paid_end, today=today)
                sub(P, end, paid_end, paid_state, paid_period, paid_ended, trial.pk)
        holds = any(s.state in HOLDING for s in subs)
        if not marked and not holds and rng.random() < 0.9:
            # Most unmarked orgs hold licenses; the rest were marked when theirs went (D1).
            end = today + timedelta(days=rng.randint(1, 365))
            sub(P, end - timedelta(days=365), end, ST.ACTIVE, None, None)
        return subs

    def _types(self) -> list[str]:
        return self.rng.sample(self.service_types, self.rng.randint(1, 4))

    def _countdown(
        self, subs: list[_Sub], activity: datetime
    ) -> tuple[datetime | None, datetime | None]:
        """D1/D3 as the daily ticks left them: (marked at, warned at). An org that holds no
        licenses was marked at the tick its last ones went (S2 ends a subscription and D1 marks
        in the same tick; a cancelled one counts from the day it was made, capped at today's
        tick); it was warned at the first tick after 30 quiet days from the later of the mark
        and the last activity (D3, D5)."""
        if any(s.state in HOLDING for s in subs):
            return None, None
        gone = [
            s.ended_at if s.ended_at is not None else _first_tick(s.created)
            for s in subs
            if s.state != ST.CONVERTED
        ]
        marked_at = min(max(gone, default=_tick_on(self.today)), _tick_on(self.today))
        warning = _first_tick(warning_due_at(marked_at=marked_at, last_activity_at=activity))
        return marked_at, warning if warning <= self.now else None

    def customer(self, ids: dict[str, int], facts: _Facts) -> None:
        rng, v, now = self.rng, self.v, self.now
        tables = self.tables
        org_id = ids["org"]
        a, b_word, suffix = rng.choice(_WORDS_A), rng.choice(_WORDS_B), rng.choice(_SUFFIXES)
        name = f"{a} {b_word} {suffix}".strip()
        # Orgs with the same two words share a domain: W2's prefix + domain matching has work.
        domain = f"{a}-{b_word}.example".lower()
        country = rng.choice(self.countries)
        created = now - timedelta(days=rng.randint(30, 2500), seconds=rng.randint(0, 86399))
        created_v = v.dt(created)
        marked = rng.random() < 0.02  # D1: some orgs were marked for deletion long ago
        # Activity within 59 days for every org: one quiet for 60 days since its mark would
        # have been warned and, 30 days later, deleted (D3, D4).
        activity = now - timedelta(
            days=rng.randint(0, 58 if marked else 40), seconds=rng.randint(0, 86399)
        )
        partner_id = rng.choice(self.partner_table)
        tables["relationships"].add((partner_id, org_id, PartnerAccess.FULL_ADMIN.value, created_v))
        facts.relationships.append((partner_id, org_id))
        # About ten people per customer on average: a full admin, maybe a read-only admin,
        # the rest plain users (no role).
        users, memberships = tables["users"].add, tables["memberships"].add
        user_id = ids["user"]
        admins: list[str] = []
        full_admin = ""
        for j in range(rng.randint(1, 19)):
            email = f"u{user_id}@{domain}"
            users(
                (
                    user_id,
                    email,
                    domain,
                    org_id,
                    "!",  # unusable password: never hash a million of them
                    rng.choice(FIRST_NAMES),
                    rng.choice(LAST_NAMES),
                    created_v,
                )
            )
            if j == 0:
                full_admin = email
                admins.append(email)
                memberships((user_id, org_id, Role.CUSTOMER_FULL_ADMIN.value, created_v))
            elif j == 1 and rng.random() < 0.5:
                admins.append(email)
                memberships((user_id, org_id, Role.CUSTOMER_READ_ONLY.value, created_v))
            user_id += 1
        ids["user"] = user_id
        facts.admins.extend((org_id, email) for email in admins)

        subs = self._subscriptions(ids, marked=marked, partner_id=partner_id)
        marked_at, warned_at = self._countdown(subs, activity)
        tables["orgs"].add(
            (
                org_id,
                OrgKind.CUSTOMER.value,
                name,
                name_prefix(name),
                created_v,
                rng.choice(self.verticals),
                country,
                _COUNTRIES[country],
                v.dt(activity),
                v.dt(marked_at),
                v.dt(warned_at),
                v.flag(False),  # D1 decided by the ticks so far (marked or holding)
                v.flag(True),  # on its partner's list (its read-model row is written below)
            )
        )
        facts.orgs[org_id] = {
            "pk": org_id,
            "name": name,
            "data_region": _COUNTRIES[country],
            "created": created,
            "deletion_marked_at": marked_at,
            "deletion_warned_at": warned_at,
            "last_activity_at": activity,
        }
        self._write_subscriptions(ids, org_id, subs, facts, full_admin, admins)
        ids["org"] = org_id + 1

    def _write_subscriptions(
        self,
        ids: dict[str, int],
        org_id: int,
        subs: list[_Sub],
        facts: _Facts,
        full_admin: str,
        admins: list[str],
    ) -> None:
        v, today = self.v, self.today
        add_sub, add_service = self.tables["subs"].add, self.tables["services"].add
        first_created = min(s.created for s in subs)
        service_id = ids["service"]
        for s in subs:
            calling_stopped = numbers_released = None
            if s.kind == T and s.state == ST.ENDED and any(t == CALLING for t, *_ in s.services):
                # T13: calling stopped when the grace period ended, numbers released 15 days on.
                calling_stopped = s.ended_at
                release = number_release_date(end_date=s.end)
                numbers_released = _tick_on(release) if release <= today else None
            ending_soon_for = end_for = None
            welcome_decided = True  # paid, a consent request's trial, or decided below
            if s.kind == T and s.state != ST.PENDING:
                ending_soon_for, end_for, welcome_decided = self._trial_emails(
                    s, org_id, full_admin, admins, first=s.created == first_created
                )
            add_sub(
                (
                    s.pk,
                    org_id,
                    s.partner_id if s.partner_id is not None else v.null,
                    s.kind,
                    s.state,
                    f"B-{s.pk}",
                    v.day(s.start),
                    v.day(s.end),
                    v.day(s.period_end),
                    v.dt(s.ended_at),
                    v.dt(s.created),
                    s.converted_from if s.converted_from is not None else v.null,
                    v.dt(calling_stopped),
                    v.dt(numbers_released),
                    v.day(ending_soon_for),
                    v.day(end_for),
                    v.flag(welcome_decided),
                )
            )
            facts.subscriptions.append(
                (
                    s.pk,
                    s.partner_id,
                    org_id,
                    s.kind,
                    s.state,
                    s.end,
                    s.period_end,
                    subscription_status_rank(
                        kind=s.kind, state=s.state, end_date=s.end, today=today
                    ),
                )
            )
            managed = s.partner_id is not None and s.state in HOLDING
            provisioned_at = v.dt(datetime.combine(s.start, dt_time(9, 0), tzinfo=UTC))
            for service_type, quantity, status in s.services:
                add_service(
                    (
                        service_id,
                        s.pk,
                        service_type,
                        quantity,
                        status,
                        provisioned_at if status == PS.PROVISIONED else v.null,
                        MeetingsEdition.STANDARD.value if service_type == MEET else "",
                    )
                )
                if managed:
                    facts.services.append(
                        (service_id, s.pk, service_type, status, quantity, s.state)
                    )
                service_id += 1
            if s.state == ST.PENDING:
                self._consent(s, org_id, full_admin)
        ids["service"] = service_id

    def _consent(self, s: _Sub, org_id: int, admin_email: str) -> None:
        """T3: asked within the last 10 days (an older request has expired at an hourly tick
        and its trial was cancelled)."""
        rng, v = self.rng, self.v
        requested = self.now - timedelta(days=rng.randint(0, 9), hours=rng.randint(0, 23))
        self.tables["consents"].add(
            (
                s.pk,
                s.partner_id,
                org_id,
                admin_email,
                ConsentStatus.PENDING.value,
                v.dt(requested),
                v.dt(requested),
                v.dt(consent_expires_at(requested_at=requested)),
            )
        )

    def _trial_emails(
        self, s: _Sub, org_id: int, full_admin: str, admins: list[str], *, first: bool
    ) -> tuple[date | None, date | None, bool]:
        """The T2 welcome and T11 notices the ticks so far owed for this trial, sent: the same
        keys and recipients as ``trials.sweeps``. Returns what the trial records of them, as
        the sweeps leave it: the end dates its 7-day and end-day notices were owed for, and
        whether its welcome is decided."""
        v, today = self.v, self.today
        add = self.tables["emails"].add
        partner = self.partner_admins.get(s.partner_id, []) if s.partner_id is not None else []

        def sent(kind: str, to: list[str], at: datetime, *key: object) -> None:
            at_v = v.dt(at)
            for email in to:
                add((outbox_key(kind, email, *key), kind, email, "", "", org_id, at_v, at_v, 1))

        welcome_decided = True  # not a new customer's first trial, or not active, or old
        if (
            first
            and s.state == ST.ACTIVE
            and s.created >= datetime.combine(today, dt_time(0, 0), tzinfo=UTC) - WELCOME_WINDOW
        ):
            if all(status == PS.PROVISIONED for _t, _q, status in s.services):
                # T2: a new customer's first trial, every service provisioned: welcomed at the
                # hourly tick after it was made (for every trial a tick today could pick).
                sent("trial_welcome", [full_admin], _first_hourly_tick(s.created), s.pk)
            else:
                welcome_decided = False  # waits for its services
        # T11, in the windows trials.sweeps selects from: sent at the tick of the notice's day
        # (or the first one after the trial was made), never later than today's.
        notices = trial_notice_dates(end_date=s.end)
        end, last_tick = s.end.isoformat(), _tick_on(today)
        ending_soon_for = end_for = None
        if s.state == ST.ACTIVE and today < s.end <= today + timedelta(days=NOTICE_DAYS_BEFORE_END):
            at = max(_tick_on(notices["ending_soon"]), _first_tick(s.created))
            sent("trial_ending_soon", admins + partner, min(at, last_tick), s.pk, end)
            ending_soon_for = s.end
        if s.state in (ST.ACTIVE, ST.SUSPENDED) and (
            today - timedelta(days=GRACE_PERIOD_DAYS) < s.end <= today
        ):
            at = max(_tick_on(notices["ends_today"]), _first_tick(s.created))
            sent("trial_ends_today", admins + partner, min(at, last_tick), s.pk, end)
            end_for = s.end
        return ending_soon_for, end_for, welcome_decided

    # --- the chunk ------------------------------------------------------------------------

    def write(self, *, count: int, ids: dict[str, int]) -> int:
        """Generate and write ``count`` customers; returns how many list rows were written."""
        phases = self.phases
        facts = _Facts()
        with phases("generate rows"):
            for _ in range(count):
                self.customer(ids, facts)
        for table in self.tables.values():
            table.flush(phases)
        # The list's rows, from what was just written (the forecast reads the consent
        # deadlines of pending trials back: one query).
        with phases("compute list rows"):
            expected = customer_rows_compute(
                RowSources(
                    orgs=facts.orgs,
                    relationships=facts.relationships,
                    subscriptions=facts.subscriptions,
                    services=facts.services,
                    admins=facts.admins,
                    # The loader assigns no licenses and records no sign-ins (issue 16 facts).
                    licenses=(),
                    admin_signins=_no_signins,
                ),
                today=self.today,
            )
            as_of = self.v.day(self.today)
            adapters = self.row_adapters
            add = self.rows.add
            for (partner_id, customer_id), row in expected.items():
                self.partners_touched.add(partner_id)
                add(
                    (
                        partner_id,
                        customer_id,
                        as_of,
                        *[
                            row[name] if adapt is None else adapt(row[name])
                            for name, adapt in zip(ROW_FACTS, adapters, strict=True)
                        ],
                    )
                )
        return self.rows.flush(phases)


def _no_signins(customer_ids: list[int]) -> dict[int, Any]:
    return {}


def bulk_customers_build(
    *,
    count: int,
    today: date | None = None,
    seed: int = DEMO_SEED,
    chunk: int = 5000,
    progress: Callable[[int], None] | None = None,
    defer_indexes: bool | None = None,
) -> BulkStats:
    """Add ``count`` customers (about ten users each) for benchmarks, mostly on Northwind's list,
    in the steady state of the daily tick (module docstring).

    Needs the demo partners (``demo_world_build`` first). Explicit ids are assigned after the
    current maxima so nothing has to be read back. The rows come from one seeded random
    stream, so the same ``count``, ``seed`` and ``today`` give the same customers on every
    database. On PostgreSQL the rows are streamed with ``COPY`` and, with ``defer_indexes``
    (by default from ``DEFER_INDEXES_FROM`` customers on), the secondary indexes, unique and
    foreign-key constraints of the loaded tables are dropped first and rebuilt once after the
    load, all in one transaction (a failure leaves the database as it was). Elsewhere each
    chunk commits on its own.
    """
    started = time.perf_counter()
    phases = _Phases()
    today = today or business_today()
    now = datetime.combine(today, dt_time(9, 0), tzinfo=UTC)
    if not _COUNTRIES:
        from partnerhub.accounts.choices import Country

        _COUNTRIES.update({c: region_for_country(c).value for c in Country.values})
    partners = [Organization.objects.get(kind=OrgKind.PARTNER, name=n) for n, *_ in PARTNERS]
    values = _Values()
    partner_admins: dict[int, list[str]] = defaultdict(list)
    for org_id, email in (
        Membership.objects.filter(org__in=partners, role__in=PARTNER_ROLES, user__is_active=True)
        .order_by("org_id", "user__email")
        .values_list("org_id", "user__email")
    ):
        partner_admins[org_id].append(values.text(email))
    rng = _Draw(seed * 7919 + count)

    def next_id(model: type[Model]) -> int:
        return (model._default_manager.aggregate(m=Max("id"))["m"] or 0) + 1

    ids = {
        "org": next_id(Organization),
        "user": next_id(User),
        "sub": next_id(Subscription),
        "service": next_id(Service),
    }
    first = dict(ids)
    if defer_indexes is None:
        defer_indexes = count >= DEFER_INDEXES_FROM
    if connection.vendor == "postgresql":
        chunk = max(chunk, 20_000)  # one COPY per table and chunk: fewer, longer streams
    writer = _Chunk(
        rng=rng,
        today=today,
        now=now,
        partner_ids=[p.pk for p in partners],
        partner_weights=[80, 17, 3],
        partner_admins=partner_admins,
        values=values,
        phases=phases,
    )
    done = 0
    with (
        _fast_sqlite(),
        _deferred_indexes(_bulk_models, enabled=defer_indexes, phases=phases),
    ):
        while done < count:
            n = min(chunk, count - done)
            with transaction.atomic():
                writer.write(count=n, ids=ids)
            done += n
            if progress is not None:
                progress(done)
    with phases("reset sequences"):
        _reset_sequences()
    for partner_id in writer.partners_touched:
        transaction.on_commit(functools.partial(summary_cache_clear, "customers", partner_id))
    seconds = dict(phases.seconds)
    return BulkStats(
        customers=count,
        users=ids["user"] - first["user"],
        subscriptions=ids["sub"] - first["sub"],
        services=ids["service"] - first["service"],
        seconds=time.perf_counter() - started,
        read_model_seconds=sum(
            s for name, s in seconds.items() if name == "compute list rows" or "customerrow" in name
        ),
        emails=writer.tables["emails"].total,
        phases=seconds,
        phases_cpu=dict(phases.cpu),
    )


def _bulk_models() -> tuple[type[Model], ...]:
    return (
        Organization,
        User,
        Membership,
        CustomerRelationship,
        Subscription,
        Service,
        ConsentRequest,
        OutboxEmail,
        CustomerRow,
    )


class _deferred_indexes:
    """On PostgreSQL, drop the secondary indexes and the unique and foreign-key constraints of
    ``models``' tables, and put them back (then ANALYZE) on the way out, in one transaction.

    Building an index once over a loaded table is much cheaper than keeping it up to date row
    by row, and a foreign key added to a full table is checked by one join instead of one
    trigger per row. Primary keys stay (the ids are ascending, so they append cheaply); so
    do check constraints. A unique constraint another table's foreign key depends on stays
    too. Everything dropped is rebuilt from its own definition (``pg_get_indexdef``,
    ``pg_get_constraintdef``), so nothing here repeats the models' Meta. Elsewhere (SQLite)
    this does nothing.
    """

    def __init__(
        self,
        models: Callable[[], tuple[type[Model], ...]],
        *,
        enabled: bool,
        phases: _Phases | None = None,
    ) -> None:
        self.models = models
        self.enabled = enabled and connection.vendor == "postgresql"
        self.phases = phases or _Phases()
        self.atomic = transaction.atomic()
        self.indexes: list[str] = []
        self.constraints: list[tuple[str, str, str, str]] = []  # (table, name, type, def)

    def __enter__(self) -> None:
        if not self.enabled:
            return
        self.atomic.__enter__()
        tables = [m._meta.db_table for m in self.models()]
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute("SET LOCAL synchronous_commit = off")
            # Run the checks still deferred from this transaction's earlier writes now: a
            # table with pending trigger events cannot be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                """
                SELECT c.conrelid::regclass::text, c.conname, c.contype,
                       pg_get_constraintdef(c.oid)
                FROM pg_constraint c
                WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('f', 'u')
                  AND NOT EXISTS (
                    SELECT 1 FROM pg_constraint d
                    WHERE d.contype = 'f' AND d.conindid = c.conindid AND c.contype = 'u'
                  )
                ORDER BY c.contype, c.conname
                """,
                [tables],
            )
            self.constraints = list(cursor.fetchall())
            cursor.execute(
                """
                SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                FROM pg_index i
                WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                ORDER BY 1
                """,
                [tables],
            )
            indexes = cursor.fetchall()
            self.indexes = [definition for _name, definition in indexes]
            # Foreign keys first ('f' sorts before 'u'): a unique constraint may back one.
            for table, name, _type, _definition in self.constraints:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {name}")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.enabled:
            return
        if exc_type is None:
            quote = connection.ops.quote_name
            phases = self.phases
            with connection.cursor() as cursor:
                with phases("build indexes"):
                    for definition in self.indexes:
                        cursor.execute(definition)
                # Unique constraints before the foreign keys that may need them.
                with phases("add constraints (unique, foreign keys)"):
                    for table, name, _type, definition in sorted(
                        self.constraints, key=lambda c: c[2] != "u"
                    ):
                        cursor.execute(
                            f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}"
                        )
                with phases("analyze"):
                    for model in self.models():
                        cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's foreign keys again
        with self.phases("commit"):
            self.atomic.__exit__(exc_type, exc, tb)


class _fast_sqlite:
    """On SQLite, trade durability for speed while seeding (a crash just means seeding again)."""

    def __enter__(self) -> None:
        if connection.vendor == "sqlite" and not connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=OFF")
                cursor.execute("PRAGMA cache_size=-262144")

    def __exit__(self, *exc: object) -> None:
        if connection.vendor == "sqlite" and not connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=NORMAL")


def _reset_sequences() -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the new rows."""
    if connection.vendor != "postgresql":
        return
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(
            no_style(), [Organization, User, Subscription, Service]
        ):
            cursor.execute(sql)


__all__ = ["BulkStats", "bulk_customers_build"]
