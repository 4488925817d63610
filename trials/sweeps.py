"""Due-sweeps of trials: notices before and on the end day (T11), "services removed" 30 days
after (T12, owed when the grace period's removal happens), consent expiry (T3) and the welcome
email once every service of a new customer's trial is provisioned (T2).

Notices are keyed in the outbox by recipient, kind, trial and end date: a trial selected on
several days (a window makes a late tick still send them) is emailed once per end date, and an
extended trial (T6, a new end date) gets fresh notices. The trial records the end date each
notice was owed for (``ending_soon_noticed_for``, ``end_noticed_for``) and whether its welcome
is decided (``welcome_decided``), in the same transaction as the emails, so the sweeps read only
what is still to do through partial indexes: an idle tick costs the same at a million
customers as at a hundred (issue 11).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse

from licensing.choices import (
    LICENSE_HOLDING_STATES,
    ProvisioningStatus,
    SubscriptionKind,
    SubscriptionState,
)
from licensing.models import (
    Service,
    Subscription,
    trial_end_notice_open,
    trial_ending_soon_open,
    welcome_undecided,
)
from licensing.readmodel import customer_rows_refresh
from licensing.sweeps import EndedSubscription
from partnerhub.accounts.choices import (
    CUSTOMER_ADMIN_ROLES,
    PARTNER_ROLES,
    Event,
    NotificationKind,
    Role,
    webhook_type,
)
from partnerhub.accounts.models import Membership, Organization, User
from partnerhub.accounts.notifications import Notice, notifications_owe_bulk
from partnerhub.accounts.services import audit_bulk, deletion_recheck, relationship_revoke
from partnerhub.accounts.webhooks import webhooks_owe_bulk
from partnerhub.core.clock import business_date
from partnerhub.core.models import OutboxEmail
from partnerhub.core.outbox import outbox_key
from partnerhub.core.sweeps import (
    CHUNK_SIZE,
    OwedEmail,
    PkRange,
    SweepResult,
    emails_owe_bulk,
    lock_rows,
    within_range,
)

from .choices import ConsentStatus
from .lifecycle import GRACE_PERIOD_DAYS, NOTICE_DAYS_BEFORE_END
from .models import ConsentRequest

# T2: the welcome email is for a new trial; one provisioned later than this is not "new".
WELCOME_WINDOW = timedelta(days=30)


def _recipients(
    org_ids: set[int], roles: frozenset[str] | list[str]
) -> dict[int, list[tuple[str, str]]]:
    """Active people holding one of ``roles`` in each org, as (email, language)."""
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    if not org_ids:
        return out
    for org_id, email, language in (
        Membership.objects.filter(org_id__in=org_ids, role__in=roles, user__is_active=True)
        .order_by("org_id", "user__email")
        .values_list("org_id", "user__email", "user__language")
    ):
        out[org_id].append((email, language))
    return out


def _names(org_ids: set[int]) -> dict[int, str]:
    return dict(Organization.objects.filter(pk__in=org_ids).values_list("pk", "name"))


# --- T11 ----------------------------------------------------------------------------------


def trials_due_for_ending_soon_notice(*, today: date) -> QuerySet[Subscription]:
    """T11: active trials ending within the next 7 days (7 days before, or later if a tick was
    missed or the trial was started or extended short) not yet noticed for that end date."""
    return Subscription.objects.filter(
        trial_ending_soon_open(),
        end_date__gt=today,
        end_date__lte=today + timedelta(days=NOTICE_DAYS_BEFORE_END),
    ).order_by()


def trials_due_for_end_notice(*, today: date) -> QuerySet[Subscription]:
    """T11: trials whose end day is today — or has passed while the trial is still in its
    30-day grace period and can be bought (a tick outage of any length inside it), not yet
    noticed for that end date: the late notice is worded for the real end date."""
    return Subscription.objects.filter(
        trial_end_notice_open(),
        end_date__lte=today,
        end_date__gt=today - timedelta(days=GRACE_PERIOD_DAYS),
    ).order_by()


def _trial_notice_emails(
    *, kind: str, trials: list[Subscription], today: date
) -> tuple[list[OwedEmail], set[int]]:
    """The notice emails of ``trials``, and the trials that have anybody to email (the others
    stay due: a notice goes to an admin added later while the window lasts)."""
    customer_ids = {t.customer_id for t in trials}
    partner_ids = {t.partner_id for t in trials if t.partner_id}
    names = _names(customer_ids | partner_ids)
    customer_admins = _recipients(customer_ids, CUSTOMER_ADMIN_ROLES)
    partner_admins = _recipients(partner_ids, PARTNER_ROLES)
    emails = []
    reached: set[int] = set()
    for trial in trials:
        context = {
            "org_name": names.get(trial.customer_id, ""),
            "org_pk": trial.customer_id,
            "end_date": trial.end_date,
            "days_left": (trial.end_date - today).days,
            "grace_end_date": trial.end_date + timedelta(days=GRACE_PERIOD_DAYS),
            "partner_name": names.get(trial.partner_id, "") if trial.partner_id else "",
        }
        audiences = [("customer", customer_admins.get(trial.customer_id, []))]
        if trial.partner_id:
            audiences.append(("partner", partner_admins.get(trial.partner_id, [])))
        for audience, people in audiences:
            for email, language in people:
                reached.add(trial.pk)
                emails.append(
                    OwedEmail(
                        key=outbox_key(kind, email, trial.pk, trial.end_date.isoformat()),
                        kind=kind,
                        to=email,
                        template=kind,
                        context={**context, "audience": audience},
                        org_id=trial.customer_id,
                        language=language or None,
                    )
                )
    return emails, reached


def _notice_sweep(
    *,
    name: str,
    kind: str,
    event: Event,
    queryset: QuerySet[Subscription],
    noticed_field: str,
    now: datetime,
) -> SweepResult:
    """Notices change no state of the trial: it records the end date the notice was owed for
    (``noticed_field``) in the chunk's transaction, so trials noticed before are not selected
    again and an idle tick reads none of them (the selection's partial index holds only trials
    still to notify). Chunks go in end-date order, which that index gives (keyset: a trial with
    nobody to email stays due without being read twice): a LIMIT over the primary key made
    PostgreSQL walk every subscription when nothing was due (issue 11). The
    outbox keys of each chunk are checked in one query as well, for recipients of a trial only
    partly noticed."""
    result = SweepResult(name=name, rule="T11")
    after: Q = Q()
    while True:
        with transaction.atomic():
            trials = list(
                queryset.filter(after)
                .only("pk", "customer_id", "partner_id", "end_date")
                .order_by("end_date", "pk")[:CHUNK_SIZE]
            )
            if not trials:
                return result
            last = trials[-1]
            after = Q(end_date__gt=last.end_date) | Q(end_date=last.end_date, pk__gt=last.pk)
            emails, reached = _trial_notice_emails(kind=kind, trials=trials, today=now.date())
            owed = emails_owe_bulk(emails)
            result.emails += owed
            # The trial.ending / trial.ended webhook of the same notice, in the same transaction.
            webhooks_owe_bulk(
                (
                    t.partner_id,
                    webhook_type(event),
                    f"{event}:{t.pk}:{t.end_date.isoformat()}",
                    {
                        "customer": {"id": t.customer_id},
                        "trial": {"id": t.pk, "end_date": t.end_date},
                    },
                )
                for t in trials
                if t.partner_id
            )
            # Done for this end date (one statement per end date of the chunk): a trial whose
            # end date moved meanwhile (T6) stays due for its new one.
            by_end: dict[date, list[int]] = defaultdict(list)
            for t in trials:
                if t.pk in reached:
                    by_end[t.end_date].append(t.pk)
            for end_date, ids in by_end.items():
                Subscription.objects.filter(pk__in=ids, end_date=end_date).update(
                    **{noticed_field: end_date}
                )
            if owed:
                result.add(f"trial {t.pk} ends {t.end_date.isoformat()}" for t in trials)


def trial_ending_soon_notices_due(*, now: datetime, within: PkRange | None = None) -> SweepResult:
    """T11: 7 days before the end, every customer admin (with a link to the Buy page) and every
    admin of the managing partner is emailed."""
    return _notice_sweep(
        name="trial_ending_soon",
        kind="trial_ending_soon",
        event=Event.TRIAL_ENDING,
        queryset=within_range(trials_due_for_ending_soon_notice(today=now.date()), within),
        noticed_field="ending_soon_noticed_for",
        now=now,
    )


def trial_end_notices_due(*, now: datetime, within: PkRange | None = None) -> SweepResult:
    """T11: on the end day, the same people are emailed again."""
    return _notice_sweep(
        name="trial_ends_today",
        kind="trial_ends_today",
        event=Event.TRIAL_ENDED,
        queryset=within_range(trials_due_for_end_notice(today=now.date()), within),
        noticed_field="end_noticed_for",
        now=now,
    )


def trials_due_for_notice(*, kind: str, now: datetime) -> QuerySet[Subscription]:
    """T11 trials still to notify (for splitting a fan-out tick into chunks)."""
    today = now.date()
    if kind == "trial_ending_soon":
        return trials_due_for_ending_soon_notice(today=today)
    return trials_due_for_end_notice(today=today)


def trial_notices_due(*, now: datetime) -> list[SweepResult]:
    """T11: 7 days before the end and on the end day, every customer admin (with a link to the
    Buy page) and every admin of the managing partner is emailed."""
    return [trial_ending_soon_notices_due(now=now), trial_end_notices_due(now=now)]


# --- T12 ----------------------------------------------------------------------------------


def trial_services_removed_owe(ended: list[EndedSubscription], now: datetime) -> int:
    """T12: called by ``licensing.sweeps.subscriptions_end_due`` inside its transaction: the
    users of an org whose trial ran out of grace are told they no longer have its services."""
    trials = [sub for sub in ended if sub.kind == SubscriptionKind.TRIAL]
    if not trials:
        return 0
    people: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for org_id, email, language in (
        User.objects.filter(org_id__in={t.customer_id for t in trials}, is_active=True)
        .order_by("org_id", "email")
        .values_list("org_id", "email", "language")
    ):
        people[org_id].append((email, language))
    services = defaultdict(list)
    for sub_id, service_type in Service.objects.filter(
        subscription_id__in=[t.pk for t in trials]
    ).values_list("subscription_id", "type"):
        services[sub_id].append(service_type)
    return emails_owe_bulk(
        OwedEmail(
            key=outbox_key("trial_services_removed", email, trial.pk, trial.end_date.isoformat()),
            kind="trial_services_removed",
            to=email,
            template="trial_services_removed",
            context={
                "org_name": trial.customer_name,
                "org_pk": trial.customer_id,
                "end_date": trial.end_date,
                "removed_date": now.date(),
                "service_types": sorted(services.get(trial.pk, [])),
            },
            org_id=trial.customer_id,
            language=language or None,
        )
        for trial in trials
        for email, language in people.get(trial.customer_id, [])
    )


# --- T3 -----------------------------------------------------------------------------------


def consent_requests_due_for_expiry(*, now: datetime) -> QuerySet[ConsentRequest]:
    """T3: requests nobody answered within 10 days."""
    return ConsentRequest.objects.filter(
        status=ConsentStatus.PENDING, expires_at__lte=now
    ).order_by()


def consent_expire_due(*, now: datetime, within: PkRange | None = None) -> SweepResult:
    """T3: with no answer in 10 days the trial is cancelled and the customer leaves the
    partner's list — unless the partner still has another live subscription with it."""
    result = SweepResult(name="consent_expire", rule="T3")
    seen: set[int] = set()
    while True:
        with transaction.atomic():
            requests = [
                r
                for r in lock_rows(
                    within_range(consent_requests_due_for_expiry(now=now), within).select_related(
                        "partner", "customer"
                    )[:CHUNK_SIZE]
                )
                if r.pk not in seen
            ]
            if not requests:
                return result
            seen.update(r.pk for r in requests)
            ids = [r.pk for r in requests]
            trial_ids = [r.trial_id for r in requests]
            ConsentRequest.objects.filter(pk__in=ids, status=ConsentStatus.PENDING).update(
                status=ConsentStatus.EXPIRED
            )
            Subscription.objects.filter(
                pk__in=trial_ids, state__in=[SubscriptionState.PENDING, SubscriptionState.ACTIVE]
            ).update(state=SubscriptionState.CANCELLED)
            deletion_recheck(org_ids=[r.customer_id for r in requests])
            audit_bulk(
                action="consent.expire",
                rows=((r.customer_id, r.customer.name, r.partner.name) for r in requests),
                at=now,
                details={"rule": "T3"},
            )
            for request in requests:
                live = Subscription.objects.filter(
                    partner_id=request.partner_id,
                    customer_id=request.customer_id,
                    state__in=LICENSE_HOLDING_STATES,
                ).exclude(pk=request.trial_id)
                if not live.exists():
                    relationship_revoke(partner=request.partner, customer=request.customer)
            customer_rows_refresh(
                customer_ids={r.customer_id for r in requests}, today=business_date(now)
            )
            # The partner hears it in its feed and by email (the T3 expiry's own wording).
            result.emails += notifications_owe_bulk(
                (
                    Notice(
                        partner_id=r.partner_id,
                        kind=NotificationKind.CONSENT_EXPIRED,
                        key=str(r.pk),
                        link_path=reverse("customers:customer_list"),
                        customer_id=r.customer_id,
                        customer_name=r.customer.name,
                        context={
                            "org_name": r.customer.name,
                            "partner_name": r.partner.name,
                            "requested_date": r.requested_at.date(),
                            "expired_date": r.expires_at.date(),
                            "date": r.expires_at.date(),
                            "admin_email": r.admin_email,
                        },
                        template="consent_expired",
                    )
                    for r in requests
                ),
                now=now,
            )
            result.add(f"{r.partner.name} → {r.customer.name}" for r in requests)


# --- T2 -----------------------------------------------------------------------------------


def _earlier_subscription() -> Exists:
    return Exists(
        Subscription.objects.filter(customer=OuterRef("customer"), created__lt=OuterRef("created"))
    )


def _welcomed() -> Exists:
    return Exists(OutboxEmail.objects.filter(kind="trial_welcome", org_id=OuterRef("customer_id")))


def _consent_trial() -> Exists:
    return Exists(ConsentRequest.objects.filter(trial=OuterRef("pk")))


def trials_due_for_welcome(*, now: datetime) -> QuerySet[Subscription]:
    """T2: a new customer's trial (the org's first subscription, not a consent request on an
    existing org) created within 30 days, every service provisioned, and no welcome owed yet
    (the owed email itself is the record that it was done) — among the trials whose welcome
    is undecided (``welcome_undecided``, a partial index)."""
    not_provisioned = Service.objects.filter(subscription=OuterRef("pk")).exclude(
        provisioning_status=ProvisioningStatus.PROVISIONED
    )
    return (
        Subscription.objects.filter(
            welcome_undecided(),
            kind=SubscriptionKind.TRIAL,
            state=SubscriptionState.ACTIVE,
            created__gte=now - WELCOME_WINDOW,
        )
        .filter(Exists(Service.objects.filter(subscription=OuterRef("pk"))))
        .exclude(Exists(not_provisioned))
        .exclude(_earlier_subscription())
        .exclude(_consent_trial())
        .exclude(_welcomed())
        .order_by()
    )


def trials_welcome_settle(*, now: datetime, within: PkRange | None = None) -> int:
    """T2: decide the undecided subscriptions that can never be welcomed — not a trial, 30
    days old, not their org's first subscription, or a consent request's trial — so the sweep
    never reads them again. What stays undecided is a trial waiting for its services (or for a
    full admin to email). One statement, through the partial index. (An org welcomed already
    is left to the selection, which excludes it: checking it here read every welcome email of
    the outbox at every tick.)"""
    return (
        within_range(Subscription.objects.filter(welcome_undecided()), within)
        .filter(
            ~Q(kind=SubscriptionKind.TRIAL)
            | Q(created__lt=now - WELCOME_WINDOW)
            | _earlier_subscription()
            | _consent_trial()
        )
        .update(welcome_decided=True)
    )


def trial_welcome_due(
    *,
    now: datetime,
    subscription_ids: Iterable[int] | None = None,
    within: PkRange | None = None,
) -> SweepResult:
    """T2: when every service of a new trial is provisioned, the customer admin gets a welcome
    email with a sign-in link — once. ``subscription_ids`` narrows it to the trials whose
    services just changed (the provisioning engine's hook); the sweep without it catches any
    other path, and first decides the trials that can never be welcomed."""
    result = SweepResult(name="trial_welcome", rule="T2")
    due = trials_due_for_welcome(now=now)
    if subscription_ids is not None:
        due = due.filter(pk__in=list(subscription_ids))
    else:
        trials_welcome_settle(now=now, within=within)
    after: Q = Q()
    while True:
        with transaction.atomic():
            trials = list(
                within_range(due, within)
                .filter(after)
                .only("pk", "customer_id", "partner_id", "end_date", "created")
                .order_by("created", "pk")[:CHUNK_SIZE]
            )
            if not trials:
                return result
            last = trials[-1]
            after = Q(created__gt=last.created) | Q(created=last.created, pk__gt=last.pk)
            customer_ids = {t.customer_id for t in trials}
            names = _names(customer_ids | {t.partner_id for t in trials if t.partner_id})
            admins = _recipients(customer_ids, [Role.CUSTOMER_FULL_ADMIN])
            services = defaultdict(list)
            for sub_id, service_type in Service.objects.filter(
                subscription_id__in=[t.pk for t in trials]
            ).values_list("subscription_id", "type"):
                services[sub_id].append(service_type)
            result.emails += emails_owe_bulk(
                OwedEmail(
                    key=outbox_key("trial_welcome", email, t.pk),
                    kind="trial_welcome",
                    to=email,
                    template="trial_welcome",
                    context={
                        "org_name": names.get(t.customer_id, ""),
                        "org_pk": t.customer_id,
                        "partner_name": names.get(t.partner_id, "") if t.partner_id else "",
                        "end_date": t.end_date,
                        "email": email,
                        "service_types": sorted(services.get(t.pk, [])),
                    },
                    org_id=t.customer_id,
                    language=language or None,
                )
                for t in trials
                for email, language in admins.get(t.customer_id, [])
            )
            # Welcomed: decided. A trial of an org with no full admin yet stays undecided.
            Subscription.objects.filter(
                pk__in=[t.pk for t in trials if admins.get(t.customer_id)]
            ).update(welcome_decided=True)
            result.add(f"{names.get(t.customer_id, '')}: trial {t.pk}" for t in trials)


def trial_welcome_hook(subscription_ids: set[int], now: datetime) -> None:
    """T2, timely: registered with the provisioning engine, it owes the welcome inside the
    transaction that provisions a trial's last service (the outbox key keeps it to once)."""
    trial_welcome_due(now=now, subscription_ids=subscription_ids)
