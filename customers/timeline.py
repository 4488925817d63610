"""The timeline of an org (issue 16): every past event that moved a date, and every future date
the rules predict, each with who or what caused it or what would change it.

Past events come from the audit log (one row per change, kept after deletion, D10) and the
org's own instants (last activity). Future dates come from ``customers.lifecycle.org_forecast``,
the same pure rules the tick's sweeps apply. Three queries whatever the org's history (the audit
rows are capped).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from licensing.choices import SubscriptionKind, SubscriptionState
from licensing.models import Subscription
from partnerhub.accounts.models import AuditEntry, CustomerRelationship, Organization
from trials.choices import ConsentStatus
from trials.models import ConsentRequest

from .choices import ActivityKind
from .lifecycle import (
    ForecastKind,
    OrgFacts,
    Prediction,
    SubscriptionFacts,
    org_forecast,
)
from .models import ActivityEvent

PAST_EVENTS_SHOWN = 100

# Audit actions that moved a date of the org, with the words the timeline uses for them.
DATE_MOVING_ACTIONS = {
    "subscription.create": gettext_lazy("Subscription started"),
    "trial.start": gettext_lazy("Trial started"),
    "trial.consent_request": gettext_lazy("Trial consent requested"),
    "trial.consent_accept": gettext_lazy("Trial consent accepted"),
    "trial.consent_decline": gettext_lazy("Trial consent declined"),
    "trial.consent_cancel": gettext_lazy("Trial consent request cancelled"),
    "consent.expire": gettext_lazy("Trial cancelled: consent not given in time"),
    "trial.extend": gettext_lazy("Trial extended"),
    "trial.extension_approve": gettext_lazy("Trial extension approved"),
    "trial.convert": gettext_lazy("Trial bought"),
    "trial.delete": gettext_lazy("Trial deleted"),
    "subscription.renew": gettext_lazy("Subscription renewed"),
    "subscription.take_over": gettext_lazy("Licenses taken over by a new subscription"),
    "subscription.cancel": gettext_lazy("Subscription cancelled"),
    "subscription.suspend": gettext_lazy("Licenses suspended"),
    "subscription.end": gettext_lazy("Licenses removed"),
    "org.deletion_mark": gettext_lazy("Marked for deletion: no licenses left"),
    "org.deletion_unmark": gettext_lazy("No longer marked for deletion"),
    "org.deletion_warn": gettext_lazy("Deletion warning emailed to the full admins"),
    "org.delete": gettext_lazy("Organization deleted"),
}
ACTIVITY = "activity"  # the org's last activity (not audited: it is far too frequent)


def _day(value: date) -> str:
    return formats.date_format(value, "DATE_FORMAT")


@dataclass(frozen=True)
class PastEvent:
    at: datetime
    action: str
    title: str
    by: str  # a person's label, or "automatic" for the lifecycle
    subscription_pk: int | None = None


@dataclass(frozen=True)
class FutureEntry:
    prediction: Prediction
    title: str
    change: str  # the sentence that says what would change it

    @property
    def kind(self) -> str:
        return str(self.prediction.kind)

    @property
    def on(self) -> date:
        return self.prediction.on


@dataclass(frozen=True)
class Timeline:
    past: list[PastEvent]
    future: list[FutureEntry]
    predictions: list[Prediction]  # every prediction, also those not shown (another partner's)

    @property
    def past_actions(self) -> set[str]:
        return {event.action for event in self.past}


def org_facts(*, org: Organization) -> tuple[OrgFacts, dict[int, int | None]]:
    """The facts ``org_forecast`` needs, read in two or three queries, and each subscription's
    partner id (for scoping what a partner is shown)."""
    subs = list(
        Subscription.objects.filter(
            customer=org,
            state__in=[
                SubscriptionState.PENDING,
                SubscriptionState.ACTIVE,
                SubscriptionState.SUSPENDED,
            ],
        ).values_list("pk", "kind", "state", "end_date", "period_end_date", "partner_id")
    )
    pending = [pk for pk, _k, state, *_rest in subs if state == SubscriptionState.PENDING]
    deadlines: dict[int, datetime] = {}
    if pending:
        deadlines = dict(
            ConsentRequest.objects.filter(
                trial_id__in=pending, status=ConsentStatus.PENDING
            ).values_list("trial_id", "expires_at")
        )
    manages = (
        org.is_partner and CustomerRelationship.objects.filter(partner=org).exists()
    )  # D1: a partner with customers is never marked
    facts = OrgFacts(
        subscriptions=tuple(
            SubscriptionFacts(
                pk=pk,
                kind=kind,
                state=state,
                end_date=end_date,
                period_end=period_end,
                consent_expires_at=deadlines.get(pk),
            )
            for pk, kind, state, end_date, period_end, _partner in subs
        ),
        is_partner=org.is_partner,
        manages_customers=manages,
        marked_at=org.deletion_marked_at,
        warned_at=org.deletion_warned_at,
        last_activity_at=org.last_activity_at,
    )
    return facts, {pk: partner for pk, *_rest, partner in subs}


ACTIVITY_WORDS = gettext_lazy(
    "a sign-in to the app or to Control Hub, a message sent or received, or a user token refresh"
)


def _future_entry(p: Prediction, *, trial_notice: date | None) -> FutureEntry | None:
    paid = p.subscription_kind == SubscriptionKind.PAID
    day = _day(p.on)
    match p.kind:
        case ForecastKind.TRIAL_ENDING_SOON:
            return None  # told with the trial's end (one line: "notices … and …")
        case ForecastKind.TRIAL_ENDS:
            title = (
                _("Trial ends %(end)s (notices %(soon)s and %(end)s)")
                % {"end": day, "soon": _day(trial_notice)}
                if trial_notice
                else _("Trial ends %(end)s (notice %(end)s)") % {"end": day}
            )
            change = _("Extending or buying the trial before then moves this date.")
        case ForecastKind.SUSPENSION:
            assert p.until is not None
            title = _("Suspended from %(date)s until %(until)s") % {
                "date": day,
                "until": _day(p.until),
            }
            change = (
                _("Renewing the subscription before then keeps its licenses active.")
                if paid
                else _("Extending or buying the trial before then keeps its licenses active.")
            )
        case ForecastKind.REMOVAL:
            title = _("Licenses removed on %(date)s") % {"date": day}
            change = (
                _("A renewal before then reactivates the suspended licenses.")
                if paid
                else _("Buying or extending the trial before then reactivates its licenses.")
            )
        case ForecastKind.CONSENT_EXPIRY:
            title = _("Trial cancelled on %(date)s unless the customer accepts") % {"date": day}
            change = _("A customer full admin accepting the request before then starts the trial.")
        case ForecastKind.MARK:
            title = _("Marked for deletion on %(date)s if nothing is bought") % {"date": day}
            change = _("A new trial or subscription before then keeps the organization unmarked.")
        case ForecastKind.WARNING:
            title = _("Deletion warning email on %(date)s") % {"date": day}
            change = _(
                "Any activity before then (%(activity)s) restarts the 30 quiet days; "
                "a new trial or subscription removes the mark."
            ) % {"activity": ACTIVITY_WORDS}
        case ForecastKind.DELETION:
            title = _("Deletion on %(date)s unless someone is active") % {"date": day}
            change = _(
                "Any activity before then (%(activity)s) saves the organization and restarts "
                "the countdown; a new trial or subscription removes the mark."
            ) % {"activity": ACTIVITY_WORDS}
        case _:  # pragma: no cover - every kind is told above
            return None
    return FutureEntry(prediction=p, title=title, change=change)


def org_timeline(
    *, org: Organization, now: datetime, partner: Organization | None = None
) -> Timeline:
    """The org's timeline as of ``now``. With ``partner``, only that partner's subscriptions
    are told (a partner never sees another partner's subscriptions); the org's own dates (mark,
    warning, deletion) are told to every side."""
    facts, partner_of = org_facts(org=org)
    predictions = org_forecast(facts, now)

    def shown(sub_pk: int | None) -> bool:
        return partner is None or sub_pk is None or partner_of.get(sub_pk) == partner.pk

    soon = {
        p.subscription_pk: p.on for p in predictions if p.kind == ForecastKind.TRIAL_ENDING_SOON
    }
    future = [
        entry
        for p in predictions
        if shown(p.subscription_pk)
        and (entry := _future_entry(p, trial_notice=soon.get(p.subscription_pk))) is not None
    ]
    foreign = {pk for pk in partner_of if not shown(pk)}
    past = past_events(org_id=org.pk, last_activity_at=org.last_activity_at, hidden=foreign)
    return Timeline(past=past, future=future, predictions=predictions)


def past_events(
    *, org_id: int, last_activity_at: datetime | None = None, hidden: set[int] | None = None
) -> list[PastEvent]:
    """The events that moved the org's dates, latest first. Read by id from the audit log, so
    they outlive the org (D10). ``hidden``: subscriptions whose events are not told."""
    hidden = hidden or set()
    rows = list(
        AuditEntry.objects.filter(org_id_value=org_id, action__in=list(DATE_MOVING_ACTIONS))
        .order_by("-at", "-pk")
        .values_list("at", "action", "actor_label", "actor_id", "target")[:PAST_EVENTS_SHOWN]
    )
    past: list[PastEvent] = []
    for at, action, label, actor_id, target in rows:
        sub_pk = int(target) if target.isdigit() else None
        if sub_pk is not None and sub_pk in hidden:
            continue
        past.append(
            PastEvent(
                at=at,
                action=action,
                title=str(DATE_MOVING_ACTIONS[action]),
                by=label if actor_id is not None else _("automatic"),
                subscription_pk=sub_pk,
            )
        )
    if last_activity_at is not None:
        # D5: the latest activity, named by its kind (never by the user: the partner sees it).
        kind = (
            ActivityEvent.objects.filter(org_id=org_id, at=last_activity_at)
            .values_list("kind", flat=True)
            .first()
        )
        past.append(
            PastEvent(
                at=last_activity_at,
                action=ACTIVITY,
                title=_("Last activity: %(what)s") % {"what": ActivityKind(kind).label}
                if kind
                else _("Last activity in the organization"),
                by=_("a user of the organization"),
            )
        )
    past.sort(key=lambda e: e.at, reverse=True)
    return past
