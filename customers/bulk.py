"""Bulk actions on the partner's customer list (issue 16): extend trials (T6), export, and ask
the customers' admins to sign in (the activity that keeps an org alive, D5).

A selection is either the ticked customers or "all N matching" the list's filters (the list's
own query string, read by the list's own filters over the read model). Each action is
all-or-nothing: it runs in one transaction and either does every row it showed or none, and
it writes one audit row of its own beside the rows of the services it calls. Who may do what
is asked of ``partnerhub.accounts.access`` here, as the views do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import QueryDict
from django.utils import formats
from django.utils.translation import gettext as _

from licensing.choices import ServiceType, SubscriptionKind, SubscriptionState
from licensing.lifecycle import can_reactivate
from licensing.models import Service, Subscription
from partnerhub.accounts.access import PartnerAction, partner_require
from partnerhub.accounts.choices import CUSTOMER_ADMIN_ROLES
from partnerhub.accounts.models import Membership, Organization, User
from partnerhub.accounts.services import audit_record
from partnerhub.core.clock import business_today
from partnerhub.core.outbox import email_owe, outbox_key
from trials.lifecycle import trial_extension_plan
from trials.models import DeviceShipment
from trials.services import trial_extend

from .lifecycle import QUIET_DAYS_BEFORE_WARNING
from .selectors import customer_list_rows

# Extending trials and asking admins act on at most this many customers at once (the preview
# lists every one); an export has no limit.
BULK_LIMIT = 1000


class BulkRefused(Exception):
    """The action did nothing; ``message`` says why, in words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def bulk_selection(
    *, partner: Organization, customer_ids: list[str], all_matching: bool, query: str
) -> list[int]:
    """The customers of a selection, in the list's name order; never another partner's."""
    rows = customer_list_rows(partner=partner)
    if all_matching:
        from .filters import CustomerFilterSet

        data = QueryDict(query)
        filterset = CustomerFilterSet(data or None, queryset=rows, partner=partner)
        if filterset.is_bound and not filterset.is_valid():
            return []
        rows = filterset.qs if filterset.is_bound else rows
    else:
        ids = [int(i) for i in customer_ids if str(i).isdigit()]
        rows = rows.filter(customer_id__in=ids)
    return list(rows.order_by("name_key", "customer_id").values_list("customer_id", flat=True))


# ---- extend trials (T6) ----------------------------------------------------------------
@dataclass(frozen=True)
class ExtensionLine:
    customer_id: int
    name: str
    trial_id: int | None
    current_end: date | None
    new_end: date | None
    shortens: bool  # T6: the new end is earlier than the current one
    refusal: str  # "" when the trial will be extended

    @property
    def extended(self) -> bool:
        return not self.refusal


def trial_extension_preview(
    *, partner: Organization, customer_ids: list[int], days: int, today: date
) -> list[ExtensionLine]:
    """What extending the trials of these customers by ``days`` would do, row by row, with the
    same rules ``trials.services.trial_extend`` applies (three queries)."""
    names = dict(Organization.objects.filter(pk__in=customer_ids).values_list("pk", "name"))
    devices = Service.objects.filter(subscription=OuterRef("pk"), type=ServiceType.DEVICES)
    shipped = DeviceShipment.objects.filter(trial=OuterRef("pk"))
    trials = {
        t.customer_id: t
        for t in Subscription.objects.filter(
            partner=partner,
            customer_id__in=customer_ids,
            kind=SubscriptionKind.TRIAL,
            state__in=[
                SubscriptionState.PENDING,
                SubscriptionState.ACTIVE,
                SubscriptionState.SUSPENDED,
            ],
        )
        .annotate(_devices=Exists(devices) | Exists(shipped))
        .order_by("customer_id", "-end_date")
    }
    lines = []
    for customer_id in customer_ids:
        trial = trials.get(customer_id)
        name = names.get(customer_id, "")
        if trial is None:
            lines.append(ExtensionLine(customer_id, name, None, None, None, False, _no_trial()))
            continue
        plan = trial_extension_plan(
            today=today,
            days=days,
            current_end=trial.end_date,
            start_date=trial.start_date,
            has_devices=trial._devices,
        )
        refusal = ""
        if trial.state == SubscriptionState.PENDING:
            refusal = _("The trial waits for the customer's consent.")
        elif trial.state == SubscriptionState.SUSPENDED and not can_reactivate(
            state=trial.state, period_end=trial.period_end_date, today=today
        ):
            refusal = _("The grace period has ended; the trial cannot be extended.")
        elif plan.needs_approval:
            # T7: every extension of a device trial is a request the trial team decides.
            refusal = _(
                "A trial with devices is extended on request only: ask on the customer's page."
            )
        lines.append(
            ExtensionLine(
                customer_id,
                name,
                trial.pk,
                trial.end_date,
                None if refusal else plan.new_end_date,
                not refusal and plan.shortens,
                refusal,
            )
        )
    return lines


def _no_trial() -> str:
    return _("No running trial with you.")


@transaction.atomic
def bulk_trial_extend(
    *,
    actor: User,
    partner: Organization,
    customer_ids: list[int],
    days: int,
    expected: list[int],
    today: date | None = None,
) -> list[ExtensionLine]:
    """Extend every trial the preview said it would (``expected``: their customers' ids), or
    none: a row that is refused now, or a preview that no longer matches, undoes them all."""
    partner_require(actor, PartnerAction.RUN_TRIALS, partner)
    if len(customer_ids) > BULK_LIMIT:
        raise BulkRefused(_too_many())
    today = today or business_today()
    lines = trial_extension_preview(
        partner=partner, customer_ids=customer_ids, days=days, today=today
    )
    extended = [line for line in lines if line.extended]
    if sorted(line.customer_id for line in extended) != sorted(expected):
        raise BulkRefused(_("Something changed since the preview: check the dates again."))
    if not extended:
        raise BulkRefused(_("None of these trials can be extended."))
    trials = Subscription.objects.in_bulk([line.trial_id for line in extended])
    for line in extended:
        try:
            trial_extend(trial=trials[line.trial_id], actor=actor, days=days, today=today)
        except ValidationError as refused:
            transaction.set_rollback(True)
            raise BulkRefused(
                _("%(name)s: %(why)s Nothing was extended.")
                % {"name": line.name, "why": " ".join(refused.messages)}
            ) from refused
    audit_record(
        action="bulk.trial_extend",
        actor=actor,
        org=partner,
        details={
            "rule": "T6",
            "days": days,
            "extended": [line.customer_id for line in extended],
            "refused": [line.customer_id for line in lines if not line.extended],
        },
    )
    return lines


def _too_many() -> str:
    return _(
        "At most %(limit)s customers at a time: narrow the filters or tick fewer customers."
    ) % {"limit": formats.number_format(BULK_LIMIT, force_grouping=True)}


# ---- export -------------------------------------------------------------------------------
def bulk_export_record(*, actor: User, partner: Organization, count: int, query: str) -> None:
    """An export of selected customers is audited (the list's own export is a read)."""
    partner_require(actor, PartnerAction.VIEW, partner)
    audit_record(
        action="bulk.export",
        actor=actor,
        org=partner,
        details={"count": count, "query": query[:500]},
    )


# ---- ask admins to sign in (D5) ---------------------------------------------------------
@dataclass(frozen=True)
class SigninAskResult:
    emails: int  # owed now
    customers: int  # customers with at least one admin asked
    without_admin: list[str]  # names of selected customers that have no admin to ask


@transaction.atomic
def bulk_signin_ask(
    *, actor: User, partner: Organization, customer_ids: list[int], today: date | None = None
) -> SigninAskResult:
    """One email through the outbox to each admin of each selected customer, asking them to
    sign in (D5: a sign-in restarts the deletion countdown). Asked twice the same day, an
    admin still gets one email (the outbox key)."""
    partner_require(actor, PartnerAction.CHANGE, partner)
    if len(customer_ids) > BULK_LIMIT:
        raise BulkRefused(_too_many())
    if not customer_ids:
        raise BulkRefused(_("Tick at least one customer."))
    today = today or business_today()
    admins = (
        Membership.objects.filter(
            org_id__in=customer_ids, role__in=CUSTOMER_ADMIN_ROLES, user__is_active=True
        )
        .select_related("user", "org")
        .order_by("org_id", "user__email")
    )
    owed, asked = 0, set()
    for membership in admins:
        org, user = membership.org, membership.user
        email = email_owe(
            key=outbox_key("signin_ask", partner.pk, org.pk, user.email, today.isoformat()),
            kind="signin_ask",
            to=user.email,
            template="signin_ask",
            context={
                "org_name": org.name,
                "org_pk": org.pk,
                "partner_name": partner.name,
                "quiet_days": QUIET_DAYS_BEFORE_WARNING,
            },
            org_id=org.pk,
        )
        owed += email is not None
        asked.add(org.pk)
    names = dict(Organization.objects.filter(pk__in=customer_ids).values_list("pk", "name"))
    without = sorted(names[pk] for pk in customer_ids if pk not in asked and pk in names)
    audit_record(
        action="bulk.signin_ask",
        actor=actor,
        org=partner,
        details={"rule": "D5", "customers": sorted(asked), "emails": owed},
    )
    return SigninAskResult(emails=owed, customers=len(asked), without_admin=without)
