"""Orders and the setup wizard (W1–W6) and converting a trial to paid (T9).

Writes are services here (keyword-only, typed, atomic, audited, emails through the outbox); the
matching itself is a read, ``licensing.selectors.wizard_match``. The setup link is checked by
``order_from_link`` before any page of the wizard does anything.
"""

from __future__ import annotations

import calendar
import enum
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from partnerhub.accounts.choices import OrgKind, PartnerAccess, PartnerTier, Role
from partnerhub.accounts.models import CustomerRelationship, Organization, User
from partnerhub.accounts.services import (
    audit_record,
    customer_org_create,
    relationship_grant,
    user_create,
)
from partnerhub.core.clock import business_date, business_today
from partnerhub.core.outbox import email_owe, outbox_key
from partnerhub.core.safecache import cache_add, cache_get, cache_incr

from .buy import buy_requests_close
from .choices import (
    MeetingsEdition,
    OrderPurpose,
    OrderStatus,
    ProvisioningStatus,
    ServiceType,
    SubscriptionKind,
    SubscriptionState,
)
from .lifecycle import (
    LineCheck,
    LineProblem,
    WizardOutcome,
    can_convert,
    can_reactivate,
    can_renew,
    order_line_checks,
    renewal_term_start,
    wizard_outcome,
)
from .models import CallingProfile, License, Order, OrderLine, PhoneNumber, Service, Subscription
from .provisioning import services_take_over_provisioned
from .readmodel import customer_rows_refresh
from .selectors import WizardMatch, wizard_match
from .services import ServiceSpec, subscription_create

LINK_SALT = "licensing.orders.setup-link"  # W1: a signature made for nothing else
LINK_VALID_DAYS = 14  # W1: how long a setup link works
MATCH_ATTEMPTS_PER_HOUR = 10  # W6: matching is rate-limited per link
TERM_CHOICES = (12, 24, 36)


class OrderRefused(Exception):
    """A rule refuses the order or the wizard step; ``message`` is shown to the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ServicesLeftOut(OrderRefused):
    """T9: a conversion order leaves out services of the trial; ``users`` names, per service,
    the people who would lose it. Placing the order again with those services confirmed as
    ``drop_services`` goes on (their licenses are removed at conversion)."""

    def __init__(self, message: str, users: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.users = users


def _service_label(service_type: str) -> str:
    return str(ServiceType(service_type).label)


def line_problems_message(problems: list[LineCheck]) -> str:
    """One clear sentence per problem of ``order_line_checks`` (S3, T9)."""
    texts = []
    for p in problems:
        label = _service_label(p.service_type)
        if p.problem == LineProblem.EXCEEDS:
            texts.append(
                ngettext(
                    "%(service)s: %(held)d user holds a license but the order has only "
                    "%(ordered)d; order at least %(held)d or remove licenses first.",
                    "%(service)s: %(held)d users hold a license but the order has only "
                    "%(ordered)d; order at least %(held)d or remove licenses first.",
                    p.assigned,
                )
                % {"service": label, "held": p.assigned, "ordered": p.ordered}
            )
        elif p.problem == LineProblem.DROPS:
            texts.append(
                ngettext(
                    "%(service)s is left out: %(held)d user would lose it.",
                    "%(service)s is left out: %(held)d users would lose it.",
                    p.assigned,
                )
                % {"service": label, "held": p.assigned}
            )
        elif p.problem == LineProblem.ADDS:
            texts.append(
                _("%(service)s is not part of this subscription: order it separately.")
                % {"service": label}
            )
        else:
            texts.append(_("%(service)s appears twice in the order.") % {"service": label})
    return " ".join(str(t) for t in texts)


def _assigned_counts(subscription: Subscription) -> dict[str, int]:
    counts: dict[str, int] = {}
    for service_type in License.objects.filter(service__subscription=subscription).values_list(
        "service_type", flat=True
    ):
        counts[service_type] = counts.get(service_type, 0) + 1
    return counts


def users_losing(
    *, subscription: Subscription, service_types: Iterable[str]
) -> dict[str, list[str]]:
    """T9: per left-out service, the emails of the users holding it on ``subscription``."""
    out: dict[str, list[str]] = {t: [] for t in service_types}
    for service_type, email in (
        License.objects.filter(service__subscription=subscription, service_type__in=list(out))
        .order_by("service_type", "user__email")
        .values_list("service_type", "user__email")
    ):
        out[service_type].append(email)
    return out


def conversion_check(
    *, trial: Subscription, lines: Iterable[OrderLineSpec], drop_services: Iterable[str] = ()
) -> None:
    """T9: the conversion order starts with every trial service; it may not hold fewer licenses
    than users hold, and a service left out needs the partner's confirmation
    (``drop_services``), which ``ServicesLeftOut`` asks for, naming the users who lose it."""
    specs = [(spec.service_type, spec.quantity) for spec in lines if spec.quantity]
    current = list(trial.services.values_list("type", flat=True))
    problems = order_line_checks(
        ordered=specs,
        assigned=_assigned_counts(trial),
        current=current,
        allow_drop=drop_services,
    )
    drops = [p.service_type for p in problems if p.problem == LineProblem.DROPS]
    others = [p for p in problems if p.problem != LineProblem.DROPS]
    if others:
        raise OrderRefused(line_problems_message(others))
    # A service the trial does not have but the org already pays for would double it.
    paid_types = set(
        Service.objects.filter(
            subscription__customer_id=trial.customer_id,
            subscription__kind=SubscriptionKind.PAID,
            subscription__state=SubscriptionState.ACTIVE,
        ).values_list("type", flat=True)
    )
    doubled = [t for t, _q in specs if t not in current and t in paid_types]
    if doubled:
        raise OrderRefused(
            " ".join(
                str(
                    _(
                        "%(service)s: the organization already has a paid subscription for it; "
                        "change that subscription instead of ordering it twice."
                    )
                    % {"service": _service_label(t)}
                )
                for t in doubled
            )
        )
    if drops:
        raise ServicesLeftOut(
            line_problems_message([p for p in problems if p.problem == LineProblem.DROPS])
            + " "
            + str(_("Confirm that these users lose the services, or add them to the order.")),
            users_losing(subscription=trial, service_types=drops),
        )


def renewal_check(
    *, subscription: Subscription, lines: Iterable[OrderLineSpec], today: date
) -> None:
    """S3: only an expiring or suspended paid subscription is renewed, before its renewal period
    ends; the renewal keeps every service (none dropped, none added) with at least as many
    licenses as users hold them."""
    if not can_renew(
        kind=subscription.kind,
        state=subscription.state,
        end_date=subscription.end_date,
        period_end=subscription.period_end_date,
        today=today,
    ):
        if subscription.kind != SubscriptionKind.PAID:
            raise OrderRefused(str(_("A trial is converted to paid, not renewed.")))
        if subscription.state == SubscriptionState.ACTIVE:
            raise OrderRefused(
                str(_("This subscription is not expiring yet: renew it in its last 60 days."))
            )
        raise OrderRefused(
            str(_("This subscription can no longer be renewed: its renewal period has ended."))
        )
    problems = order_line_checks(
        ordered=[(spec.service_type, spec.quantity) for spec in lines if spec.quantity],
        assigned=_assigned_counts(subscription),
        current=list(subscription.services.values_list("type", flat=True)),
        renewal=True,
    )
    if problems:
        raise OrderRefused(line_problems_message(problems))


class LinkProblem(enum.StrEnum):
    """W1: why a setup link does not open the wizard. Each gets its own page, never a 500."""

    TAMPERED = "tampered"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"
    USED = "used"
    CANCELLED = "cancelled"


class LinkRefused(Exception):
    def __init__(self, problem: LinkProblem, order: Order | None = None) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.order = order


@dataclass(frozen=True)
class OrderLineSpec:
    service_type: str
    quantity: int


@dataclass(frozen=True)
class WizardResult:
    """What the last wizard step decided (W4/W5)."""

    outcome: WizardOutcome
    order: Order
    org: Organization | None
    converted: bool = False
    admin_added: bool = False

    @property
    def completed(self) -> bool:
        return self.outcome in (WizardOutcome.PROCEED, WizardOutcome.PROCEED_WITH_NOTE)


# --- the setup link (W1) -------------------------------------------------------------------


def _link_value(order: Order) -> str:
    # The expiry is part of the signed value: a resend moves it, so older links stop working.
    assert order.link_expires_at is not None
    return f"{order.pk}:{int(order.link_expires_at.timestamp())}"


def order_link_token(*, order: Order) -> str:
    """W1: the signed token of the order's current setup link."""
    return signing.TimestampSigner(salt=LINK_SALT).sign(_link_value(order))


def order_link_url(*, order: Order) -> str:
    path = reverse("licensing:order_setup_start", kwargs={"token": order_link_token(order=order)})
    return f"{settings.SITE_URL}{path}"


def order_from_link(*, token: str, claimed: bool = False, now: datetime | None = None) -> Order:
    """W1: the order behind a setup link, or ``LinkRefused`` saying why not.

    ``claimed`` is True when this browser session opened the link first: the link is single-use,
    so once opened it works only in that session, and not at all once the order is set up.
    """
    now = now or timezone.now()
    try:
        value = signing.TimestampSigner(salt=LINK_SALT).unsign(token)
        pk_text, _sep, expires_text = value.partition(":")
        order_pk, expires_ts = int(pk_text), int(expires_text)
    except (signing.BadSignature, ValueError):
        raise LinkRefused(LinkProblem.TAMPERED) from None
    order = Order.objects.select_related("partner", "trial__customer").filter(pk=order_pk).first()
    if order is None or order.link_expires_at is None:
        raise LinkRefused(LinkProblem.TAMPERED)
    if order.status == OrderStatus.CANCELLED:
        raise LinkRefused(LinkProblem.CANCELLED, order)
    if order.status == OrderStatus.COMPLETED:
        raise LinkRefused(LinkProblem.USED, order)
    if expires_ts != int(order.link_expires_at.timestamp()):
        raise LinkRefused(LinkProblem.SUPERSEDED, order)
    if now >= order.link_expires_at:
        raise LinkRefused(LinkProblem.EXPIRED, order)
    if order.link_used_at is not None and not claimed:
        raise LinkRefused(LinkProblem.USED, order)
    return order


def _owe_setup_link(*, order: Order) -> None:
    assert order.link_expires_at is not None
    lines = list(order.lines.all())
    email_owe(
        key=outbox_key(
            "order_setup_link",
            order.provisioning_contact_email,
            order.pk,
            int(order.link_expires_at.timestamp()),
        ),
        kind="order_setup_link",
        to=order.provisioning_contact_email,
        template="order_setup_link",
        context={
            "order_number": order.number,
            "partner_name": order.partner.name if order.partner else "",
            "org_name": order.trial.customer.name if order.trial else "",
            "lines": [(line.get_service_type_display(), line.quantity) for line in lines],
            "setup_url": order_link_url(order=order),
            "expires_at": order.link_expires_at,
        },
        org_id=order.trial.customer_id if order.trial else None,
    )


# --- placing an order ----------------------------------------------------------------------


def _order_number(now: datetime) -> str:
    return f"ORD-{now:%Y%m%d}-{secrets.token_hex(4).upper()}"


def order_place_check(
    *,
    partner: Organization | None,
    trial: Subscription | None,
    placed_by: User | None,
    today: date,
    renews: Subscription | None = None,
) -> Organization | None:
    """The rules an order must pass before it is placed; raises ``OrderRefused`` with the reason.
    Returns the ordering partner (a partner's own people always order for their partner).

    T9: a tier 2 partner goes through its distributor. T9/T12: a conversion names a trial the
    partner manages that can still be converted, and no other order is converting it.
    """
    placer_org = placed_by.org if placed_by is not None else None
    if placer_org is not None and placer_org.kind == OrgKind.PARTNER:
        partner = placer_org
        if partner.partner_tier != PartnerTier.TIER_1:
            raise OrderRefused(str(_("Tier 2 partners place orders through their distributor.")))
    if trial is not None and renews is not None:
        raise OrderRefused(str(_("An order converts a trial or renews a subscription, not both.")))
    if renews is not None and partner is not None and renews.partner_id != partner.pk:
        raise OrderRefused(str(_("Only the partner managing a subscription can renew it.")))
    if trial is not None:
        if trial.kind != SubscriptionKind.TRIAL:
            raise OrderRefused(str(_("Only a trial can be converted.")))
        if partner is not None and trial.partner_id != partner.pk:
            raise OrderRefused(str(_("Only the partner managing a trial can convert it.")))
        if not trial_convertible(trial=trial, today=today):
            raise OrderRefused(str(_("This trial can no longer be converted.")))
        if Order.objects.filter(trial=trial, status=OrderStatus.PLACED).exists():
            raise OrderRefused(
                str(_("An order converting this trial is already waiting to be set up."))
            )
    return partner


@transaction.atomic
def order_place(
    *,
    lines: Iterable[OrderLineSpec],
    provisioning_contact_email: str,
    purpose: OrderPurpose | str = OrderPurpose.PARTNER_FOR_CUSTOMER,
    partner: Organization | None = None,
    trial: Subscription | None = None,
    term_months: int = 12,
    placed_by: User | None = None,
    now: datetime | None = None,
    renews: Subscription | None = None,
    drop_services: Iterable[str] = (),
) -> Order:
    """Place an order and email its provisioning contact a single-use setup link (W1).

    A partner's own people place orders only if the partner is tier 1; tier 2 partners go
    through their distributor (T9). Support staff (no org) may enter any order. A conversion
    order names a trial the partner manages that can still be converted (T12); it holds every
    trial service unless the partner confirmed leaving some out (``drop_services``, T9). A
    renewal order (``renews``, S3) needs no setup wizard: the subscription's org is known, so it
    is renewed in place at once (same users, licenses and calling data, C1/C6).
    Anything refused raises ``OrderRefused`` and changes nothing.
    """
    now = now or timezone.now()
    today = business_date(now)
    lines = list(lines)
    if any(spec.quantity < 0 for spec in lines):
        raise OrderRefused(str(_("Quantities cannot be negative.")))
    specs = [spec for spec in lines if spec.quantity]
    if not specs:
        raise OrderRefused(str(_("An order needs at least one service with a quantity.")))
    if len({spec.service_type for spec in specs}) != len(specs):
        raise OrderRefused(str(_("Each service may appear only once in an order.")))
    partner = order_place_check(
        partner=partner, trial=trial, placed_by=placed_by, today=today, renews=renews
    )
    drops = sorted(set(drop_services))
    if trial is not None:
        conversion_check(trial=trial, lines=specs, drop_services=drops)
        drops = [t for t in drops if t not in {spec.service_type for spec in specs}]
    if renews is not None:
        renews = Subscription.objects.select_for_update().get(pk=renews.pk)
        renewal_check(subscription=renews, lines=specs, today=today)
        return _renewal_order_place(
            subscription=renews,
            specs=specs,
            partner=partner,
            contact=provisioning_contact_email,
            term_months=term_months,
            placed_by=placed_by,
            now=now,
        )
    order = Order.objects.create(
        number=_order_number(now),
        purpose=OrderPurpose(purpose),
        status=OrderStatus.PLACED,
        partner=partner,
        trial=trial,
        provisioning_contact_email=provisioning_contact_email.strip().lower(),
        term_months=term_months,
        placed_by=placed_by,
        placed_at=now,
        link_expires_at=now + timedelta(days=LINK_VALID_DAYS),
        dropped_services=drops,
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=order, service_type=ServiceType(spec.service_type), quantity=spec.quantity)
        for spec in specs
    )
    _owe_setup_link(order=order)
    audit_record(
        action="order.place",
        actor=placed_by,
        org=trial.customer if trial else None,
        target=order.number,
        details={
            "purpose": str(purpose),
            "partner": partner.pk if partner else None,
            "trial": trial.pk if trial else None,
            "lines": {spec.service_type: spec.quantity for spec in specs},
            "dropped_services": drops,
            "rule": "W1",
        },
    )
    return order


def _renewal_order_place(
    *,
    subscription: Subscription,
    specs: list[OrderLineSpec],
    partner: Organization | None,
    contact: str,
    term_months: int,
    placed_by: User | None,
    now: datetime,
) -> Order:
    """S3: the renewal order is complete when placed: it renews its subscription in place."""
    order = Order.objects.create(
        number=_order_number(now),
        purpose=OrderPurpose.PARTNER_FOR_CUSTOMER,
        status=OrderStatus.COMPLETED,
        partner=partner or subscription.partner,
        renews=subscription,
        provisioning_contact_email=contact.strip().lower(),
        term_months=term_months,
        placed_by=placed_by,
        placed_at=now,
        customer=subscription.customer,
        completed_at=now,
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=order, service_type=ServiceType(spec.service_type), quantity=spec.quantity)
        for spec in specs
    )
    subscription_renew(
        subscription=subscription,
        quantities={spec.service_type: spec.quantity for spec in specs},
        term_months=term_months,
        reference=order.number,
        actor=placed_by,
        today=business_date(now),
    )
    audit_record(
        action="order.place",
        actor=placed_by,
        org=subscription.customer,
        target=order.number,
        details={
            "renews": subscription.pk,
            "lines": {spec.service_type: spec.quantity for spec in specs},
            "rule": "S3",
        },
    )
    return order


@transaction.atomic
def subscription_renew(
    *,
    subscription: Subscription,
    quantities: dict[str, int],
    term_months: int,
    reference: str = "",
    actor: User | None = None,
    today: date | None = None,
) -> Subscription:
    """S3: renew a paid subscription in place. A suspended one is reactivated before its 60-day
    renewal period ends: the same license rows stay with the same users, so calling data,
    numbers and the Meetings site are kept (C1/C6). The new term starts after the current end
    (expiring) or today (suspended)."""
    today = today or business_today()
    locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
    renewal_check(
        subscription=locked,
        lines=[OrderLineSpec(service_type=t, quantity=q) for t, q in quantities.items()],
        today=today,
    )
    was = locked.state
    old_end = locked.end_date
    locked.end_date = _add_months(
        renewal_term_start(end_date=locked.end_date, today=today), term_months
    )
    locked.state = SubscriptionState.ACTIVE
    locked.period_end_date = None
    if reference:
        locked.reference = reference
    locked.save(update_fields=["end_date", "state", "period_end_date", "reference"])
    for service in locked.services.all():
        if quantities.get(service.type) != service.quantity:
            Service.objects.filter(pk=service.pk).update(quantity=quantities[service.type])
    audit_record(
        action="subscription.renew",
        actor=actor,
        org=locked.customer,
        target=str(locked.pk),
        details={
            "from_state": was,
            "old_end": old_end.isoformat(),
            "new_end": locked.end_date.isoformat(),
            "quantities": quantities,
            "rule": "S3",
        },
    )
    customer_rows_refresh(customer_ids=[locked.customer_id])
    return locked


def suspended_replaceable(
    *, customer: Organization, service_types: Iterable[str], today: date
) -> list[Subscription]:
    """S3: the org's suspended paid subscriptions, still in their renewal period, with a service
    of one of ``service_types``: a new paid subscription takes their licenses over."""
    # An IN over the services, not a DISTINCT join: PostgreSQL refuses FOR UPDATE with DISTINCT.
    with_service = Service.objects.filter(
        subscription__customer=customer, type__in=list(service_types)
    ).values("subscription_id")
    subs = (
        Subscription.objects.select_for_update()
        .filter(
            customer=customer,
            kind=SubscriptionKind.PAID,
            state=SubscriptionState.SUSPENDED,
            pk__in=with_service,
        )
        .order_by("pk")
    )
    return [
        sub
        for sub in subs
        if can_reactivate(state=sub.state, period_end=sub.period_end_date, today=today)
    ]


def subscription_take_over_suspended(
    *, paid: Subscription, today: date, actor: User | None = None, now: datetime | None = None
) -> int:
    """S3: a new paid subscription bought during the renewal period reactivates the suspended
    licenses by moving them onto it, in the caller's transaction: one UPDATE of each license row
    (the user keeps the service in every instant and their calling data, C1/C6), with the phone
    numbers and the Meetings site. A suspended subscription left with nothing is marked ended,
    replaced by ``paid``. Refuses (``OrderRefused``, nothing changes) when the new subscription
    has fewer licenses of a service than users would move onto it."""
    now = now or timezone.now()
    new_services = {s.type: s for s in paid.services.all()}
    moved_total = 0
    for old_sub in suspended_replaceable(
        customer=paid.customer, service_types=list(new_services), today=today
    ):
        moved_here = 0
        for old in old_sub.services.all():
            new = new_services.get(old.type)
            if new is None:
                continue
            already = License.objects.filter(service=new).values("user_id")
            License.objects.filter(service=old, user_id__in=already).delete()
            incoming = License.objects.filter(service=old).count()
            held = License.objects.filter(service=new).count()
            if held + incoming > new.quantity:
                raise OrderRefused(
                    str(
                        _(
                            "%(service)s: %(users)d users hold licenses on the suspended "
                            "subscription %(ref)s, but the new subscription has only %(quantity)d. "
                            "Order at least %(users)d."
                        )
                        % {
                            "service": _service_label(old.type),
                            "users": held + incoming,
                            "ref": old_sub.reference or old_sub.pk,
                            "quantity": new.quantity,
                        }
                    )
                )
            moved_here += License.objects.filter(service=old).update(service=new)
            if old.provisioning_status == ProvisioningStatus.PROVISIONED:
                # The org has this service set up already: the moved users can use it at once
                # (as a conversion keeps a provisioned trial service provisioned, T9).
                services_take_over_provisioned(services=[new.pk], now=now)
            if old.type == ServiceType.MEETINGS and old.site_url and not new.site_url:
                url, zone, edition = old.site_url, old.time_zone, old.edition
                Service.objects.filter(pk=old.pk).update(site_url="", time_zone="")
                Service.objects.filter(pk=new.pk).update(
                    site_url=url, time_zone=zone, edition=edition
                )
        if ServiceType.CALLING in new_services:
            PhoneNumber.objects.filter(subscription=old_sub).update(subscription=paid)
        left = License.objects.filter(service__subscription=old_sub).exists()
        covered = set(old_sub.services.values_list("type", flat=True)) <= set(new_services)
        if covered and not left:
            Subscription.objects.filter(pk=old_sub.pk).update(
                state=SubscriptionState.ENDED, ended_at=now, replaced_by=paid
            )
        audit_record(
            action="subscription.take_over",
            actor=actor,
            org=paid.customer,
            target=str(old_sub.pk),
            details={
                "new_subscription": paid.pk,
                "licenses_moved": moved_here,
                "ended": covered and not left,
                "rule": "S3",
            },
        )
        moved_total += moved_here
    customer_rows_refresh(customer_ids=[paid.customer_id])
    return moved_total


@transaction.atomic
def order_link_resend(
    *, order: Order, actor: User | None = None, now: datetime | None = None
) -> Order:
    """W1: send a fresh setup link; the previous one stops working (its expiry is signed)."""
    now = now or timezone.now()
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status != OrderStatus.PLACED:
        raise OrderRefused(str(_("Only an order waiting to be set up can get a new link.")))
    order.link_expires_at = now + timedelta(days=LINK_VALID_DAYS)
    order.link_used_at = None
    order.save(update_fields=["link_expires_at", "link_used_at"])
    _owe_setup_link(order=order)
    audit_record(
        action="order.link_resend", actor=actor, target=order.number, details={"rule": "W1"}
    )
    return order


@transaction.atomic
def order_cancel(*, order: Order, actor: User | None = None) -> Order:
    """Cancel an order that is not set up yet; its link then shows a clear page."""
    updated = Order.objects.filter(pk=order.pk, status=OrderStatus.PLACED).update(
        status=OrderStatus.CANCELLED
    )
    if not updated:
        raise OrderRefused(str(_("Only an order waiting to be set up can be cancelled.")))
    audit_record(action="order.cancel", actor=actor, target=order.number)
    order.refresh_from_db()
    return order


# --- the wizard -----------------------------------------------------------------------------


@transaction.atomic
def order_link_claim(*, order: Order, now: datetime | None = None) -> bool:
    """W1: the first opening of the link takes it for one browser session (single use).

    A conditional UPDATE, so of two sessions racing for it only one wins.
    """
    now = now or timezone.now()
    won = bool(
        Order.objects.filter(
            pk=order.pk, status=OrderStatus.PLACED, link_used_at__isnull=True
        ).update(link_used_at=now)
    )
    audit_record(
        action="order.link_open" if won else "order.link_reuse_refused",
        target=order.number,
        details={"rule": "W1"},
    )
    if won:
        order.link_used_at = now
    return won


@transaction.atomic
def order_link_refusal_record(*, problem: str, order: Order | None = None) -> None:
    """W6: a refused link (tampered, expired, reused …) is a decision too: audit it."""
    audit_record(
        action="order.link_refused",
        org=order.customer if order is not None and order.customer_id else None,
        target=order.number if order is not None else "",
        details={"problem": problem, "rule": "W1"},
    )


def _match_bucket_key(order: Order, now: datetime) -> str:
    return f"wizard-match:{order.number}:{int(now.timestamp()) // 3600}"


def match_attempts_left(*, order: Order, now: datetime | None = None) -> int:
    now = now or timezone.now()
    used = cache_get(_match_bucket_key(order, now), 0)
    return max(0, MATCH_ATTEMPTS_PER_HOUR - int(used))


@transaction.atomic
def order_match_attempt(
    *, order: Order, company_name: str, admin_email: str, now: datetime | None = None
) -> WizardMatch | None:
    """W2 + W6: one matching attempt through a setup link; None once the link has used up its
    attempts for this hour. The counter lives in the cache (locmem or Redis), one key per link
    per clock hour, so it works the same on every deployment."""
    now = now or timezone.now()
    key = _match_bucket_key(order, now)
    cache_add(key, 0, timeout=3600)
    # A cache that is down counts nothing: the link (signed, single-use, sent to one contact)
    # stays usable rather than turning the wizard into an error page.
    attempts = cache_incr(key, timeout=3600) or 1
    if attempts > MATCH_ATTEMPTS_PER_HOUR:
        audit_record(
            action="order.match_rate_limited",
            target=order.number,
            details={"attempts": attempts, "rule": "W6"},
        )
        return None
    match = wizard_match(company_name=company_name, admin_email=admin_email)
    audit_record(
        action="order.match",
        target=order.number,
        details={
            "company_prefix": match.company_prefix,
            "domain": match.domain,
            "admin_match": match.is_admin_match,
            "org_ids": [org.pk for org in match.orgs],
            "rule": "W2",
        },
    )
    return match


def trial_convertible(*, trial: Subscription, today: date) -> bool:
    """T9/T12: an active or suspended trial converts until its 30-day grace period ends; a
    pending (no consent yet), cancelled, ended or converted one does not."""
    return (
        trial.kind == SubscriptionKind.TRIAL
        and trial.state in (SubscriptionState.ACTIVE, SubscriptionState.SUSPENDED)
        and can_convert(end_date=trial.end_date, today=today, converted=False)
    )


def _add_months(start: date, months: int) -> date:
    """The last day of a term of ``months`` months starting on ``start``."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) - timedelta(days=1)


def _order_specs(order: Order) -> list[ServiceSpec]:
    return [
        ServiceSpec(type=line.service_type, quantity=line.quantity) for line in order.lines.all()
    ]


@transaction.atomic
def trial_convert(
    *,
    trial: Subscription,
    services: list[ServiceSpec],
    partner: Organization | None,
    term_months: int = 12,
    reference: str = "",
    actor: User | None = None,
    today: date | None = None,
    drop_services: Iterable[str] = (),
) -> Subscription:
    """T9: turn a trial into a paid subscription on the same org, keeping its usage data.

    The paid subscription starts today, ``converted_from`` the trial. Licenses of the trial move
    in place (one UPDATE per service, no moment without them, C6), with the calling data that
    belongs to the users (C1), phone numbers and the Meetings site. The trial becomes CONVERTED.
    Possible until its grace period ends (T12).

    T9 (seed 002: leave a service out of the paid order and its content is lost): a trial
    service not in ``services`` must be named in ``drop_services`` (the partner confirmed it
    with the users listed); its licenses are removed here, for good — with a dropped Calling
    service the users' calling data goes too (C2) — so nothing is left stranded on a converted
    trial. Fewer licenses than users, or an unconfirmed drop, is refused and nothing changes.
    """
    today = today or business_today()
    trial = Subscription.objects.select_for_update().get(pk=trial.pk)
    if not trial_convertible(trial=trial, today=today):
        raise OrderRefused(str(_("This trial can no longer be converted.")))
    conversion_check(
        trial=trial,
        lines=[OrderLineSpec(service_type=s.type, quantity=s.quantity) for s in services],
        drop_services=drop_services,
    )
    trial_services = {service.type: service for service in trial.services.all()}
    specs: list[ServiceSpec] = []
    for spec in services:
        old = trial_services.get(spec.type)
        if old is None:
            specs.append(spec)
            continue
        if old.type == ServiceType.MEETINGS and old.site_url:
            # The Meetings site (URL, recordings) goes with the paid subscription; free the
            # unique URL on the trial first.
            Service.objects.filter(pk=old.pk).update(
                site_url="", time_zone="", edition=MeetingsEdition.STANDARD
            )
        specs.append(
            ServiceSpec(
                type=spec.type,
                quantity=spec.quantity,
                provisioning_status=(
                    old.provisioning_status
                    if old.provisioning_status == ProvisioningStatus.PROVISIONED
                    else spec.provisioning_status
                ),
                edition=old.edition,
                site_url=old.site_url,
                time_zone=old.time_zone,
            )
        )
    paid = subscription_create(
        customer=trial.customer,
        kind=SubscriptionKind.PAID,
        start_date=today,
        end_date=_add_months(today, term_months),
        services=specs,
        partner=partner,
        reference=reference,
        actor=actor,
    )
    paid.converted_from = trial
    paid.save(update_fields=["converted_from"])
    # The customer's "I want to buy" is answered (the Buy page).
    buy_requests_close(subscription=trial)
    moved = 0
    for new_service in paid.services.all():
        old = trial_services.get(new_service.type)
        if old is not None:
            moved += License.objects.filter(service=old).update(service=new_service)
    ordered = {spec.type for spec in services}
    dropped = {t: s for t, s in trial_services.items() if t not in ordered}
    lost = users_losing(subscription=trial, service_types=list(dropped))
    if ServiceType.CALLING in dropped:
        # C2: the partner confirmed these users lose Calling; their calling data goes with it.
        CallingProfile.objects.filter(user__licenses__service=dropped[ServiceType.CALLING]).delete()
    License.objects.filter(service__in=list(dropped.values())).delete()
    if ServiceType.CALLING in ordered:
        PhoneNumber.objects.filter(subscription=trial).update(subscription=paid)
    trial.state = SubscriptionState.CONVERTED
    trial.save(update_fields=["state"])
    customer_rows_refresh(customer_ids=[trial.customer_id])
    audit_record(
        action="trial.convert",
        actor=actor,
        org=trial.customer,
        target=str(trial.pk),
        details={
            "paid_subscription": paid.pk,
            "licenses_moved": moved,
            "dropped": dict(lost.items()),
            "rule": "T9",
        },
    )
    return paid


class ChoiceRefused(OrderRefused):
    """W6: an org the match did not list was sent as the choice."""


def order_setup_complete(
    *,
    order: Order,
    org: Organization | None,
    company_name: str,
    admin_email: str,
    country: str = "",
    now: datetime | None = None,
) -> WizardResult:
    """W2–W5, T9: set the order up on the chosen org (``None``: a new org); see
    ``_order_setup_complete``. A choice W2 did not offer is refused and audited (W6)."""
    try:
        return _order_setup_complete(
            order=order,
            org=org,
            company_name=company_name,
            admin_email=admin_email,
            country=country,
            now=now,
        )
    except ChoiceRefused:
        order_choice_refusal_record(order=order, org_pk=org.pk if org is not None else None)
        raise


@transaction.atomic
def order_choice_refusal_record(*, order: Order, org_pk: object) -> None:
    """W6: somebody sent an org the match did not list: refuse it, and write it down."""
    audit_record(
        action="order.choice_refused",
        target=order.number,
        details={"org": str(org_pk)[:32], "rule": "W6"},
    )


@transaction.atomic
def _order_setup_complete(
    *,
    order: Order,
    org: Organization | None,
    company_name: str,
    admin_email: str,
    country: str = "",
    now: datetime | None = None,
) -> WizardResult:
    """W2–W5, T9: set the order up on the chosen org (``None``: a new org).

    The match is made again here, so only an org W2 listed can be chosen (W6). The wizard never
    adds an admin to an existing org (W4); when the person is not its admin, W5 decides whether
    set-up goes on. A blocked outcome changes nothing but the audit log. When the chosen org is
    the trial's org, the trial converts (T9).
    """
    now = now or timezone.now()
    order = (
        # Lock the order row only: partner and trial are outer joins (nullable).
        Order.objects.select_for_update(of=("self",))
        .select_related("partner", "trial__customer")
        .get(pk=order.pk)
    )
    if order.status != OrderStatus.PLACED:
        raise OrderRefused(str(_("This order has already been set up.")))
    admin_email = admin_email.strip().lower()
    company_name = " ".join(company_name.split())
    match = wizard_match(company_name=company_name, admin_email=admin_email)
    if org is not None and not match.allows(org.pk):
        raise ChoiceRefused(str(_("Choose one of the organizations listed.")))
    if org is None and match.is_admin_match:
        # W2(a): the admin's org is where the subscription goes, never a duplicate.
        raise OrderRefused(str(_("This admin email already belongs to an organization.")))
    is_admin = org is not None and match.is_admin_match
    outcome = wizard_outcome(purpose=order.purpose, is_admin_of_org=is_admin, new_org=org is None)
    decision = {
        "outcome": outcome.value,
        "org": org.pk if org is not None else None,
        "new_org": org is None,
        "admin_match": match.is_admin_match,
        "rule": "W5",
    }
    if outcome in (WizardOutcome.BLOCKED_UNTIL_ADMIN, WizardOutcome.CONTACT_ADMIN):
        # The link opens again once the existing admin has acted (W5): release the claim.
        Order.objects.filter(pk=order.pk).update(link_used_at=None)
        order.link_used_at = None
        audit_record(action="order.setup_blocked", org=org, target=order.number, details=decision)
        return WizardResult(outcome=outcome, order=order, org=org)

    admin_added = False
    if org is None:
        if not company_name:
            raise OrderRefused(str(_("Enter the company name.")))
        if not country:
            raise OrderRefused(str(_("Choose the country of the new organization.")))
        org = customer_org_create(name=company_name, country=country, created=now)
        # A new org needs its first admin; that is not W4's case (no existing org is touched).
        if not User.objects.filter(email=admin_email).exists():
            user_create(email=admin_email, org=org, role=Role.CUSTOMER_FULL_ADMIN)
            admin_added = True
    if (
        order.partner is not None
        and order.purpose == OrderPurpose.PARTNER_FOR_CUSTOMER
        and org.kind == OrgKind.CUSTOMER
        and not CustomerRelationship.objects.filter(partner=order.partner, customer=org).exists()
    ):
        # A new org is the partner's to run; an existing org only lets it provision (W4).
        relationship_grant(
            partner=order.partner,
            customer=org,
            access=(
                PartnerAccess.FULL_ADMIN
                if decision["new_org"]
                else PartnerAccess.PROVISIONING_ADMIN
            ),
        )
    today = business_date(now)
    converted = False
    if (
        order.trial is not None
        and order.trial.customer_id == org.pk
        and trial_convertible(trial=order.trial, today=today)
    ):
        subscription = trial_convert(
            trial=order.trial,
            services=_order_specs(order),
            partner=order.partner,
            term_months=order.term_months,
            reference=order.number,
            today=today,
            drop_services=order.dropped_services,
        )
        converted = True
    else:
        subscription = subscription_create(
            customer=org,
            kind=SubscriptionKind.PAID,
            start_date=today,
            end_date=_add_months(today, order.term_months),
            services=_order_specs(order),
            partner=order.partner,
            reference=order.number,
        )
        # S3: bought during a renewal period, it takes over the suspended licenses.
        subscription_take_over_suspended(paid=subscription, today=today, now=now)
    order.company_name = company_name
    order.admin_email = admin_email
    order.customer = org
    order.subscription = subscription
    order.status = OrderStatus.COMPLETED
    order.completed_at = now
    order.link_used_at = order.link_used_at or now
    order.save(
        update_fields=[
            "company_name",
            "admin_email",
            "customer",
            "subscription",
            "status",
            "completed_at",
            "link_used_at",
        ]
    )
    decision.update({"org": org.pk, "converted": converted, "subscription": subscription.pk})
    audit_record(action="order.setup_complete", org=org, target=order.number, details=decision)
    customer_rows_refresh(customer_ids=[org.pk])
    return WizardResult(
        outcome=outcome, order=order, org=org, converted=converted, admin_added=admin_added
    )
