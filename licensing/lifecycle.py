"""Pure rules of subscriptions, services and orders: no ORM, no clock (``today`` is passed in).

Every rule names its id in ../shared/DOMAIN.md.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from .choices import (
    OrderPurpose,
    ProvisioningStatus,
    SubscriptionKind,
    SubscriptionState,
    SubscriptionStatus,
)

RENEWAL_PERIOD_DAYS = 60  # S1: paid
GRACE_PERIOD_DAYS = 30  # S1/T12: trial
EXPIRING_SOON_DAYS = 30  # P3
EXPIRING_LATER_DAYS = 60  # P3

# P2 interpretation: most urgent first. ProvisioningStatus is declared in this order.
PROVISIONING_URGENCY: tuple[str, ...] = tuple(ProvisioningStatus.values)


def days_left(*, end_date: date, today: date) -> int:
    """Whole days until the end date; 0 on the end day itself, negative once it has passed."""
    return (end_date - today).days


def subscription_status(
    *, kind: str, state: str, end_date: date, today: date
) -> SubscriptionStatus | None:
    """P3: the status of one subscription as of ``today``.

    A subscription runs through its end date inclusive. The 30-day status wins over the 60-day
    one. A paid subscription past its end, or ended or cancelled, is *Cancelled* (not renewed); a
    trial past its end is *Trial expired*. A converted trial lives on as its paid subscription
    and has no status of its own (None).
    """
    if state == SubscriptionState.CONVERTED:
        return None
    is_trial = kind == SubscriptionKind.TRIAL
    left = days_left(end_date=end_date, today=today)
    if state == SubscriptionState.CANCELLED:
        return (
            SubscriptionStatus.TRIAL_EXPIRED
            if is_trial and left < 0
            else (SubscriptionStatus.CANCELLED)
        )
    if left < 0 or state in (SubscriptionState.SUSPENDED, SubscriptionState.ENDED):
        return SubscriptionStatus.TRIAL_EXPIRED if is_trial else SubscriptionStatus.CANCELLED
    if left <= EXPIRING_SOON_DAYS:
        return SubscriptionStatus.TRIAL_EXPIRING_30 if is_trial else SubscriptionStatus.EXPIRING_30
    if left <= EXPIRING_LATER_DAYS:
        return SubscriptionStatus.TRIAL_EXPIRING_60 if is_trial else SubscriptionStatus.EXPIRING_60
    return SubscriptionStatus.TRIAL_ACTIVE if is_trial else SubscriptionStatus.ACTIVE


def row_provisioning_status(statuses: Iterable[str]) -> ProvisioningStatus | None:
    """P2: one status for a customer row, the one needing most attention; None with no services."""
    present = set(statuses)
    for status in PROVISIONING_URGENCY:
        if status in present:
            return ProvisioningStatus(status)
    return None


def period_length(*, kind: str) -> int:
    """S1: 60-day renewal period for paid subscriptions, 30-day grace period for trials."""
    return GRACE_PERIOD_DAYS if kind == SubscriptionKind.TRIAL else RENEWAL_PERIOD_DAYS


def suspension_date(*, end_date: date) -> date:
    """S1: licenses are suspended the day after the last day of the subscription."""
    return end_date + timedelta(days=1)


def period_end_date(*, kind: str, end_date: date) -> date:
    """S1/S2/T12: the day the renewal or grace period runs out and licenses are removed
    (the end date plus 60 days for paid, plus 30 days for a trial)."""
    return end_date + timedelta(days=period_length(kind=kind))


def is_suspension_due(*, state: str, end_date: date, today: date) -> bool:
    """S1: an active subscription whose last day has passed is due to be suspended."""
    return state == SubscriptionState.ACTIVE and today >= suspension_date(end_date=end_date)


def is_removal_due(*, state: str, period_end: date | None, today: date) -> bool:
    """S2: a suspended subscription whose period has run out loses its licenses."""
    return state == SubscriptionState.SUSPENDED and period_end is not None and today >= period_end


def can_reactivate(*, state: str, period_end: date | None, today: date) -> bool:
    """S3: a renewal, new subscription or trial extension bought before the period ends
    reactivates the suspended licenses."""
    return state == SubscriptionState.SUSPENDED and (period_end is None or today < period_end)


class WizardOutcome(enum.StrEnum):
    """W5: what happens when the person setting up an order is not an admin of the chosen org."""

    PROCEED = "proceed"
    PROCEED_WITH_NOTE = "proceed_with_note"  # partner for a customer: ask the admin to add you
    BLOCKED_UNTIL_ADMIN = "blocked_until_admin"  # customer for itself: wait to be made admin
    CONTACT_ADMIN = "contact_admin"  # partner for its own use: contact the existing admin


def wizard_outcome(*, purpose: str, is_admin_of_org: bool, new_org: bool) -> WizardOutcome:
    """W4/W5: the wizard never adds an admin itself; this says whether set-up may go on."""
    if new_org or is_admin_of_org:
        return WizardOutcome.PROCEED
    if purpose == OrderPurpose.PARTNER_FOR_CUSTOMER:
        return WizardOutcome.PROCEED_WITH_NOTE
    if purpose == OrderPurpose.CUSTOMER_SELF:
        return WizardOutcome.BLOCKED_UNTIL_ADMIN
    return WizardOutcome.CONTACT_ADMIN


def wizard_name_matches(*, company_name: str, org_name: str) -> bool:
    """W2(b): the first five characters match, case-insensitively, after trimming."""
    from partnerhub.accounts.lifecycle import name_prefix

    wanted = name_prefix(company_name)
    return bool(wanted) and name_prefix(org_name) == wanted


def can_convert(*, end_date: date, today: date, converted: bool) -> bool:
    """T9/T12: a trial can be converted to paid until its 30-day grace period ends. Lives here
    because orders (licensing) convert trials; trials re-exports it."""
    return not converted and today < end_date + timedelta(days=GRACE_PERIOD_DAYS)


# --- S3: renewing a paid subscription; T9/S3: what an order may do to licenses ----------------


def renewal_deadline(*, period_end: date) -> date:
    """S1/S3: the last day a suspended subscription can be renewed (the period ends the next
    day: ``is_removal_due`` is true from ``period_end`` on)."""
    return period_end - timedelta(days=1)


def can_renew(
    *, kind: str, state: str, end_date: date, period_end: date | None, today: date
) -> bool:
    """S3: a paid subscription is renewed in place while it is expiring (within the 60 days of
    P3's *Expiring within 60 days*) or suspended in its 60-day renewal period. A trial is
    converted (T9), not renewed; an ended or replaced subscription is bought anew."""
    if kind != SubscriptionKind.PAID:
        return False
    if state == SubscriptionState.SUSPENDED:
        return can_reactivate(state=state, period_end=period_end, today=today)
    return (
        state == SubscriptionState.ACTIVE
        and 0 <= days_left(end_date=end_date, today=today) <= EXPIRING_LATER_DAYS
    )


def renewal_term_start(*, end_date: date, today: date) -> date:
    """S3: an expiring subscription's new term follows its last day; a suspended one's starts
    today (the suspended days are not paid for)."""
    return max(end_date + timedelta(days=1), today)


class LineProblem(enum.StrEnum):
    """Why an order would break the licenses it takes over (S3, T9)."""

    EXCEEDS = "exceeds"  # fewer licenses than users holding them
    DROPS = "drops"  # leaves out a service whose users would lose it
    ADDS = "adds"  # a renewal adds a service it does not have
    DOUBLES = "doubles"  # the same service twice


@dataclass(frozen=True)
class LineCheck:
    problem: LineProblem
    service_type: str
    assigned: int = 0
    ordered: int = 0


def order_line_checks(
    *,
    ordered: Sequence[tuple[str, int]],
    assigned: Mapping[str, int],
    current: Iterable[str],
    allow_drop: Iterable[str] = (),
    renewal: bool = False,
) -> list[LineCheck]:
    """S3/T9: what is wrong with an order that takes over existing licenses.

    ``ordered`` are the order's (service, quantity) lines, ``assigned`` how many users hold each
    service now, ``current`` the services of the subscription renewed or converted. An order may
    not hold fewer licenses of a service than users hold it (EXCEEDS), nor list a service twice
    (DOUBLES). Leaving out a current service loses it for its users: a renewal never does
    (DROPS), a conversion only when the partner confirmed it (``allow_drop``, T9 — seed 002:
    "確保所有適用的服務都包含在付費訂單中,以避免目前服務中遺失內容", include every service in the
    paid order or the content of the missing ones is lost). A renewal adds no service (ADDS): a
    new service is a new order.
    """
    problems: list[LineCheck] = []
    seen: dict[str, int] = {}
    for service_type, quantity in ordered:
        if service_type in seen:
            problems.append(LineCheck(LineProblem.DOUBLES, service_type, ordered=quantity))
            continue
        seen[service_type] = quantity
    current_set = set(current)
    allowed_drops = set(allow_drop)
    for service_type in sorted(current_set):
        held = assigned.get(service_type, 0)
        if service_type not in seen:
            if renewal or service_type not in allowed_drops:
                problems.append(LineCheck(LineProblem.DROPS, service_type, assigned=held))
            continue
        if seen[service_type] < held:
            problems.append(
                LineCheck(
                    LineProblem.EXCEEDS, service_type, assigned=held, ordered=seen[service_type]
                )
            )
    if renewal:
        problems.extend(
            LineCheck(LineProblem.ADDS, t, ordered=q)
            for t, q in seen.items()
            if t not in current_set
        )
    return problems
