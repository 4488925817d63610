"""Pure rules of the automatic deletion of unused organizations (D1–D5).

No ORM and no clock: the instant is passed in as ``now``. The countdown is carried by three
instants kept on the org: when it was marked, when the warning was sent, the latest activity.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from licensing.choices import SubscriptionKind, SubscriptionState
from licensing.lifecycle import period_end_date, suspension_date
from trials.lifecycle import trial_notice_dates

from .choices import DeletionStage

QUIET_DAYS_BEFORE_WARNING = 30  # D3
DAYS_FROM_WARNING_TO_DELETION = 30  # D4
# Control Hub: an invitation link to set a password works this long (a resend starts it again).
INVITATION_VALID_DAYS = 7
NO_SIGNIN_DAYS = 30  # issue 16: the dashboard's "nobody signed in lately"


def is_markable(*, holds_licenses: bool, is_partner: bool, manages_customers: bool) -> bool:
    """D1: an org with no paid or trial licenses at all (active, pending or suspended in a
    renewal period) and, for a partner, no customers, is marked for deletion."""
    return not holds_licenses and not (is_partner and manages_customers)


def countdown_start(*, marked_at: datetime, last_activity_at: datetime | None) -> datetime:
    """D3/D5: the quiet period is counted from the later of the mark and the last activity."""
    if last_activity_at is not None and last_activity_at > marked_at:
        return last_activity_at
    return marked_at


def warning_is_current(*, warned_at: datetime | None, last_activity_at: datetime | None) -> bool:
    """D3/D5: a warning stands only while the org has been quiet for the 30 days before it and
    since. Any activity later than 30 days before the warning voids it, including one that
    happened before the warning but was reported after it (the warning was premature: the
    countdown restarts from that activity, D5)."""
    if warned_at is None:
        return False
    return last_activity_at is None or last_activity_at <= warned_at - timedelta(
        days=QUIET_DAYS_BEFORE_WARNING
    )


def warning_due_at(*, marked_at: datetime, last_activity_at: datetime | None) -> datetime:
    """D3: the warning is owed once 30 quiet days have passed."""
    start = countdown_start(marked_at=marked_at, last_activity_at=last_activity_at)
    return start + timedelta(days=QUIET_DAYS_BEFORE_WARNING)


def deletion_due_at(*, warned_at: datetime) -> datetime:
    """D4: 30 quiet days after the warning, the org is deleted."""
    return warned_at + timedelta(days=DAYS_FROM_WARNING_TO_DELETION)


def deletion_stage(
    *,
    marked_at: datetime | None,
    warned_at: datetime | None,
    last_activity_at: datetime | None,
    now: datetime,
) -> DeletionStage:
    """Where an org stands in the countdown as of ``now`` (D1–D5)."""
    if marked_at is None:
        return DeletionStage.NOT_MARKED
    if warning_is_current(warned_at=warned_at, last_activity_at=last_activity_at):
        assert warned_at is not None
        if now >= deletion_due_at(warned_at=warned_at):
            return DeletionStage.DELETION_DUE
        return DeletionStage.WARNED
    if now >= warning_due_at(marked_at=marked_at, last_activity_at=last_activity_at):
        return DeletionStage.WARNING_DUE
    return DeletionStage.MARKED


def planned_deletion_at(
    *,
    marked_at: datetime,
    warned_at: datetime | None,
    last_activity_at: datetime | None,
    now: datetime,
) -> datetime:
    """D2: the date shown in the banner and beside the name: the earliest the org can go if
    nobody uses it from now on."""
    if warning_is_current(warned_at=warned_at, last_activity_at=last_activity_at):
        assert warned_at is not None
        return deletion_due_at(warned_at=warned_at)
    warn_at = max(warning_due_at(marked_at=marked_at, last_activity_at=last_activity_at), now)
    return warn_at + timedelta(days=DAYS_FROM_WARNING_TO_DELETION)


def warned_at_after_activity(
    *, warned_at: datetime | None, activity_at: datetime
) -> datetime | None:
    """D5: an activity voids a warning it makes premature or stale: one at or after the
    warning, or one reported late from the 30 quiet days the warning counted on. An activity
    from before those 30 days changes nothing."""
    if warned_at is not None and not warning_is_current(
        warned_at=warned_at, last_activity_at=activity_at
    ):
        return None
    return warned_at


# --- The forecast of an org: every future date the rules predict (issue 16) ----------------
#
# One source: the instants below are the ones the tick's sweeps test (``customers.sweeps``,
# ``licensing.sweeps``, ``trials.sweeps``): S1 suspends the day after the end date, S2/T12 remove
# licenses on the period's end, T11 notices 7 days before and on the end day, T3 cancels an
# unanswered trial at its consent deadline, D1 marks an org once nothing holds licenses, D3 warns
# 30 quiet days after the later of the mark and the last activity, D4 deletes 30 quiet days after
# the warning. A daily tick does each on its first run at or after ``due_at``.


class ForecastKind(enum.StrEnum):
    TRIAL_ENDING_SOON = "trial_ending_soon"  # T11: the "ends in 7 days" notice
    TRIAL_ENDS = "trial_ends"  # T11: the "ends today" notice, on the last day
    SUSPENSION = "suspension"  # S1
    REMOVAL = "removal"  # S2/T12: the renewal or grace period runs out
    CONSENT_EXPIRY = "consent_expiry"  # T3
    MARK = "mark"  # D1
    WARNING = "warning"  # D3
    DELETION = "deletion"  # D4


# The order the tick does them in within one run (customers.tick): it breaks ties of an instant.
TICK_ORDER = tuple(ForecastKind)


@dataclass(frozen=True)
class SubscriptionFacts:
    pk: int
    kind: str
    state: str
    end_date: date
    period_end: date | None = None  # set once suspended (S1)
    consent_expires_at: datetime | None = None  # a pending trial's open consent request (T3)


@dataclass(frozen=True)
class OrgFacts:
    subscriptions: tuple[SubscriptionFacts, ...] = ()
    is_partner: bool = False
    manages_customers: bool = False
    marked_at: datetime | None = None
    warned_at: datetime | None = None
    last_activity_at: datetime | None = None


@dataclass(frozen=True)
class Prediction:
    kind: ForecastKind
    due_at: datetime  # the earliest instant a tick does it
    subscription_pk: int | None = None
    subscription_kind: str = ""
    # For a subscription's suspension: the day its period runs out (the "until" date).
    until: date | None = None

    @property
    def on(self) -> date:
        return self.due_at.date()


def start_of(day: date) -> datetime:
    """The first instant of a day (UTC): a date rule is due from the tick of that day on."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def _subscription_forecast(
    sub: SubscriptionFacts, *, today: date
) -> tuple[list[Prediction], datetime | None, bool]:
    """What one subscription's dates predict, when it stops holding licenses, and whether it
    holds them with no end in sight (a pending subscription with no consent deadline)."""
    out: list[Prediction] = []
    is_trial = sub.kind == SubscriptionKind.TRIAL

    def add(kind: ForecastKind, at: datetime, until: date | None = None) -> None:
        out.append(Prediction(kind, at, sub.pk, sub.kind, until))

    if sub.state == SubscriptionState.PENDING:
        if sub.consent_expires_at is None:
            return out, None, True
        add(ForecastKind.CONSENT_EXPIRY, sub.consent_expires_at)
        return out, sub.consent_expires_at, False
    if sub.state == SubscriptionState.ACTIVE:
        period_end = period_end_date(kind=sub.kind, end_date=sub.end_date)
        if is_trial:
            notices = trial_notice_dates(end_date=sub.end_date)
            if notices["ending_soon"] > today:
                add(ForecastKind.TRIAL_ENDING_SOON, start_of(notices["ending_soon"]))
            if notices["ends_today"] >= today:
                add(ForecastKind.TRIAL_ENDS, start_of(notices["ends_today"]))
        add(ForecastKind.SUSPENSION, start_of(suspension_date(end_date=sub.end_date)), period_end)
    elif sub.state == SubscriptionState.SUSPENDED:
        period_end = sub.period_end or period_end_date(kind=sub.kind, end_date=sub.end_date)
    else:
        return out, None, False
    add(ForecastKind.REMOVAL, start_of(period_end))
    return out, start_of(period_end), False


def _soonest(p: Prediction) -> tuple[datetime, int]:
    return p.due_at, TICK_ORDER.index(p.kind)


def org_forecast(facts: OrgFacts, now: datetime) -> list[Prediction]:
    """Every future date the rules predict for one org if nobody does anything, soonest first.

    ``now`` is an instant (the deletion countdown counts instants, D3–D5); ``today`` is its date.
    """
    today = now.date()
    predictions: list[Prediction] = []
    licenses_gone: datetime | None = None
    held_for_good = False
    for sub in facts.subscriptions:
        subs, gone, forever = _subscription_forecast(sub, today=today)
        predictions.extend(subs)
        held_for_good = held_for_good or forever
        if gone is not None and (licenses_gone is None or gone > licenses_gone):
            licenses_gone = gone
    keeps_alive = held_for_good or (facts.is_partner and facts.manages_customers)
    holds_now = held_for_good or licenses_gone is not None
    if keeps_alive:
        return sorted(predictions, key=_soonest)
    marked_at = facts.marked_at if not holds_now else None  # D6: a holder is unmarked next tick
    warned_at = facts.warned_at if marked_at is not None else None
    activity = facts.last_activity_at
    if marked_at is None:
        mark_at = max(licenses_gone or now, now)
        predictions.append(Prediction(ForecastKind.MARK, mark_at))
        marked_at, warned_at = mark_at, None
    if warning_is_current(warned_at=warned_at, last_activity_at=activity):
        assert warned_at is not None
        predictions.append(Prediction(ForecastKind.DELETION, deletion_due_at(warned_at=warned_at)))
    else:
        warn_at = max(warning_due_at(marked_at=marked_at, last_activity_at=activity), now)
        predictions.append(Prediction(ForecastKind.WARNING, warn_at))
        predictions.append(Prediction(ForecastKind.DELETION, deletion_due_at(warned_at=warn_at)))
    return sorted(predictions, key=_soonest)
