"""Writes that assign, move and remove licenses, keeping calling data (C1–C6).

Every way of changing licenses (one user's *Edit licenses* C3, a CSV import C4, the
auto-license template C5) builds the same :class:`LicensePlan` — the wanted set of services per
user — and applies it with :func:`license_plan_apply`:

* A Calling license that changes subscription is one UPDATE of the existing ``License`` row's
  ``service`` (C3/C6): the user holds Calling in every instant, and the ``CallingProfile`` and
  ``PhoneNumber`` rows, which belong to the user and not to a subscription (C1), are not touched.
* Removing Calling for good deletes the user's calling data, so it needs an explicit
  confirmation; without it :class:`CallingDataAtRisk` names the users (C2).
* The plan is validated as a whole before anything is written, and applied in one transaction
  with bulk statements: all users or none (C4), fast enough for 10,000 users.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from partnerhub.accounts.access import ControlHubAction, controlhub_require
from partnerhub.accounts.models import AuditEntry, Organization, User
from partnerhub.accounts.services import audit_actor, audit_record, deletion_recheck

from .choices import LICENSE_HOLDING_STATES, ProvisioningStatus, ServiceType, SubscriptionState
from .models import AutoLicenseTemplate, CallingProfile, License, PhoneNumber, Service, Subscription
from .readmodel import customer_rows_refresh

CHUNK = 2000  # keeps IN (...) lists well under every database's parameter limit


class LicenseError(Exception):
    """The wanted licenses break a rule; nothing was written."""

    def __init__(self, errors: list[PlanError]):
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


class CallingDataAtRisk(Exception):
    """C2: the change would delete these users' calling data; confirm it or move them instead."""

    def __init__(self, emails: list[str]):
        super().__init__(", ".join(emails))
        self.emails = emails


@dataclass(frozen=True)
class PlanError:
    """One problem; ``user_id`` is None when it is not about one user. ``org_wide`` problems
    (a service short of licenses, a service that takes no new users) are about the change as a
    whole: ``user_id`` then only says where a file's line numbers should point (C4), and pages
    that are not files show the message once, naming nobody (C5)."""

    user_id: int | None
    message: str
    org_wide: bool = False


@dataclass
class UserChange:
    """What happens to one user's licenses."""

    user_id: int
    email: str
    added: list[int] = field(default_factory=list)  # service ids
    removed: list[int] = field(default_factory=list)
    calling_move: tuple[int, int] | None = None  # (from service id, to service id): C3/C6
    calling_lost: bool = False  # C2: calling data goes

    @property
    def is_change(self) -> bool:
        return bool(self.added or self.removed or self.calling_move)


@dataclass
class LicensePlan:
    """The changes that would bring a set of users to their wanted licenses (not yet applied)."""

    org: Organization
    services: dict[int, Service]
    changes: list[UserChange]
    errors: list[PlanError]

    @property
    def calling_losses(self) -> list[str]:
        return [c.email for c in self.changes if c.calling_lost]

    @property
    def moves(self) -> list[UserChange]:
        return [c for c in self.changes if c.calling_move]

    def service_label(self, service_id: int) -> str:
        return service_label(self.services[service_id])


def service_label(service: Service) -> str:
    """``Calling [SUB-123]``: the service and the subscription it belongs to (the CSV header)."""
    sub = service.subscription
    return f"{service.get_type_display()} [{sub.reference or sub.pk}]"


def org_services(*, org: Organization) -> dict[int, Service]:
    """The services of the org's subscriptions that can hold licenses, by id (one query)."""
    qs = (
        Service.objects.select_related("subscription")
        .filter(subscription__customer=org, subscription__state__in=LICENSE_HOLDING_STATES)
        .order_by("subscription__start_date", "subscription_id", "type")
    )
    return {s.pk: s for s in qs}


def is_assignable(service: Service) -> bool:
    """P1: licenses can be newly assigned only from a provisioned service of an active
    subscription (suspended ones keep, but do not take, users — S1)."""
    return (
        service.subscription.state == SubscriptionState.ACTIVE
        and service.provisioning_status == ProvisioningStatus.PROVISIONED
    )


def license_plan(
    *,
    org: Organization,
    wanted: Mapping[int, Iterable[int]],
    users: Mapping[int, str] | None = None,
    services: dict[int, Service] | None = None,
) -> LicensePlan:
    """Compare each user's licenses with the wanted service ids and validate the whole change.

    ``wanted`` maps user id → every service id the user should hold afterwards (in the order
    the users came, e.g. CSV lines: a quantity overrun is blamed on the first user past it).
    Users must belong to ``org``. Runs a fixed number of queries whatever the number of users.
    """
    services = services if services is not None else org_services(org=org)
    if users is None:
        users = dict(User.objects.filter(org=org, pk__in=list(wanted)).values_list("pk", "email"))
    errors: list[PlanError] = []
    existing: dict[int, dict[int, str]] = defaultdict(dict)  # user → {service id: type}
    calling_elsewhere: set[int] = set()  # Calling held on a subscription that is over
    user_ids = list(wanted)
    for start in range(0, len(user_ids), CHUNK):
        rows = License.objects.filter(user_id__in=user_ids[start : start + CHUNK]).values_list(
            "user_id", "service_id", "service_type"
        )
        for user_id, service_id, service_type in rows:
            existing[user_id][service_id] = service_type
            if service_type == ServiceType.CALLING and service_id not in services:
                calling_elsewhere.add(user_id)
    held = dict(
        License.objects.filter(service__in=list(services))
        .values("service_id")
        .annotate(n=Count("id"))
        .values_list("service_id", "n")
    )
    added_by: dict[int, list[int]] = defaultdict(list)  # service → users adding it, in order
    freed: dict[int, int] = defaultdict(int)
    changes: list[UserChange] = []
    for user_id, wanted_ids in wanted.items():
        email = users.get(user_id)
        if email is None:
            errors.append(PlanError(user_id, _("This user is not in the organization.")))
            continue
        want = set(wanted_ids)
        unknown = [sid for sid in want if sid not in services]
        if unknown:
            errors.append(
                PlanError(user_id, _("A subscription is not one of this organization's."))
            )
            continue
        # Licenses on subscriptions that no longer hold licenses are not ours to change.
        have = {sid: t for sid, t in existing.get(user_id, {}).items() if sid in services}
        want_calling = [sid for sid in want if services[sid].type == ServiceType.CALLING]
        if len(want_calling) > 1:
            errors.append(
                PlanError(
                    user_id,
                    _("Calling is ticked on %(n)d subscriptions; a user has Calling once.")
                    % {"n": len(want_calling)},
                )
            )
            continue
        if want_calling and user_id in calling_elsewhere:
            errors.append(
                PlanError(
                    user_id,
                    _("This user's Calling license is on a subscription that has ended."),
                )
            )
            continue
        have_calling = [sid for sid, t in have.items() if t == ServiceType.CALLING]
        change = UserChange(user_id=user_id, email=email)
        added = sorted(want - set(have))
        removed = sorted(set(have) - want)
        if have_calling and want_calling and have_calling[0] != want_calling[0]:
            change.calling_move = (have_calling[0], want_calling[0])  # C3: one UPDATE, no gap
            added.remove(want_calling[0])
            removed.remove(have_calling[0])
        elif have_calling and not want_calling:
            change.calling_lost = True  # C2
        change.added, change.removed = added, removed
        for sid in removed:
            freed[sid] += 1
        if change.calling_move:
            freed[change.calling_move[0]] += 1
        for sid in [*added, *([change.calling_move[1]] if change.calling_move else [])]:
            if not is_assignable(services[sid]):
                errors.append(
                    PlanError(
                        user_id,
                        _("%(service)s cannot take new users: it is not active and provisioned.")
                        % {"service": service_label(services[sid])},
                        org_wide=True,
                    )
                )
            added_by[sid].append(user_id)
        if change.is_change:
            changes.append(change)
    for sid, adders in added_by.items():
        room = services[sid].quantity - (held.get(sid, 0) - freed[sid])
        if len(adders) > room:
            first_over = adders[max(room, 0)]
            errors.append(
                PlanError(
                    first_over,
                    shortage_message(
                        service=services[sid],
                        needed=held.get(sid, 0) - freed[sid] + len(adders),
                    ),
                    org_wide=True,
                )
            )
    return LicensePlan(org=org, services=services, changes=changes, errors=errors)


def shortage_message(*, service: Service, needed: int) -> str:
    """A service short of licenses, said of the org, not of the user who tipped it over:
    "Calling on SUB-2 has 10 licenses; this change needs 12." """
    sub = service.subscription
    return ngettext(
        "%(service)s on %(subscription)s has %(quantity)d license; this change needs %(needed)d.",
        "%(service)s on %(subscription)s has %(quantity)d licenses; this change needs %(needed)d.",
        service.quantity,
    ) % {
        "service": service.get_type_display(),
        "subscription": sub.reference or sub.pk,
        "quantity": service.quantity,
        "needed": needed,
    }


def plan_error_messages(errors: Iterable[PlanError], *, emails: Mapping[int, str]) -> list[str]:
    """The messages of a plan's errors for a page: each org-wide message once, naming nobody;
    a message about one user prefixed with their address."""
    out: list[str] = []
    for error in errors:
        if error.org_wide or error.user_id is None:
            text = error.message
        else:
            who = emails.get(error.user_id, "")
            text = f"{who}: {error.message}" if who else error.message
        if text not in out:
            out.append(text)
    return out


def org_licenses_lock(*, org: Organization) -> None:
    """Serialize license changes of one org (inside the caller's transaction): two admins
    importing at once cannot both take the last licenses of a service."""
    list(
        Service.objects.select_for_update()
        .filter(subscription__customer=org)
        .values_list("pk", flat=True)
    )


def _chunks(items: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


@transaction.atomic
def license_plan_apply(
    *,
    plan: LicensePlan,
    actor: User | None,
    confirm_calling_loss: bool = False,
    source: str = "edit",
    now: datetime | None = None,
    refresh: bool = True,
) -> int:
    """Apply a validated plan in one transaction; returns the number of users changed.

    The licenses assigned are on the customer list's rows (issue 16): they are refreshed here,
    unless the caller (``refresh=False``) refreshes them itself later in its transaction.

    C6: Calling moves are UPDATEs of the existing license rows (grouped by target service), run
    before any removal, so no user is without Calling between statements and the calling data
    (C1) is never touched. C2: users losing Calling lose their calling data only when
    ``confirm_calling_loss`` is given; otherwise :class:`CallingDataAtRisk` names them.
    """
    # Every way of changing licenses (edit, CSV, template) comes through here: ask again.
    controlhub_require(actor, plan.org, ControlHubAction.CHANGE)
    if plan.errors:
        raise LicenseError(plan.errors)
    losses = plan.calling_losses
    if losses and not confirm_calling_loss:
        raise CallingDataAtRisk(losses)
    now = now or timezone.now()
    moves: dict[int, list[int]] = defaultdict(list)
    removals: dict[int, list[int]] = defaultdict(list)  # service → users
    additions: list[License] = []
    for change in plan.changes:
        if change.calling_move:
            moves[change.calling_move[1]].append(change.user_id)
        for sid in change.removed:
            removals[sid].append(change.user_id)
        additions.extend(
            License(
                user_id=change.user_id,
                service_id=sid,
                service_type=plan.services[sid].type,
                assigned_at=now,
            )
            for sid in change.added
        )
    for target, user_ids in moves.items():
        for chunk in _chunks(user_ids):
            License.objects.filter(user_id__in=chunk, service_type=ServiceType.CALLING).update(
                service_id=target, assigned_at=now
            )
    for sid, user_ids in removals.items():
        for chunk in _chunks(user_ids):
            License.objects.filter(service_id=sid, user_id__in=chunk).delete()
    lost_ids = [c.user_id for c in plan.changes if c.calling_lost]
    for chunk in _chunks(lost_ids):
        _calling_data_delete(user_ids=chunk)
    License.objects.bulk_create(additions, batch_size=CHUNK)
    actor_label, acting = audit_actor(actor)
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                at=now,
                actor=actor,
                actor_label=actor_label,
                action="license.change",
                org_id_value=plan.org.pk,
                org_name=plan.org.name,
                target=change.email,
                details={
                    "source": source,
                    "added": [plan.service_label(s) for s in change.added],
                    "removed": [plan.service_label(s) for s in change.removed],
                    "calling_moved": [plan.service_label(s) for s in change.calling_move]
                    if change.calling_move
                    else None,
                    "calling_data_deleted": change.calling_lost,
                    "rule": {"edit": "C3", "csv": "C4", "api": "C4"}.get(source, "C5"),
                    **acting,
                },
            )
            for change in plan.changes
            if change.is_change
        ],
        batch_size=CHUNK,
    )
    changed = sum(1 for c in plan.changes if c.is_change)
    if changed and refresh:
        customer_rows_refresh(customer_ids=[plan.org.pk])
    return changed


def _calling_data_delete(*, user_ids: list[int]) -> None:
    """C2: the calling data of users who no longer hold Calling anywhere: voicemail, PIN and
    call settings go; their numbers stay with the org, unassigned."""
    CallingProfile.objects.filter(user_id__in=user_ids).delete()
    PhoneNumber.objects.filter(user_id__in=user_ids).update(user=None)


@transaction.atomic
def user_licenses_set(
    *,
    user: User,
    service_ids: Iterable[int],
    actor: User | None,
    confirm_calling_loss: bool = False,
) -> UserChange | None:
    """C3: one user's *Edit licenses*: untick Calling on one subscription and tick it on another
    in one save; the license row moves (C6), the calling data stays (C1). Removing Calling
    without a new one needs ``confirm_calling_loss`` (C2). Returns the change, None if none."""
    assert user.org is not None
    org_licenses_lock(org=user.org)
    plan = license_plan(
        org=user.org, wanted={user.pk: list(service_ids)}, users={user.pk: user.email}
    )
    license_plan_apply(plan=plan, actor=actor, confirm_calling_loss=confirm_calling_loss)
    return plan.changes[0] if plan.changes else None


def calling_users_of(*, subscription: Subscription) -> list[str]:
    """C2: the users holding Calling on this subscription (they would lose their calling data)."""
    return list(
        License.objects.filter(service__subscription=subscription, service_type=ServiceType.CALLING)
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )


@transaction.atomic
def subscription_cancel(
    *, subscription: Subscription, actor: User | None, confirm_calling_loss: bool = False
) -> Subscription:
    """Cancel a subscription now: its licenses are removed.

    C2: if its Calling service still has users, their calling data would be lost; without
    ``confirm_calling_loss`` this raises :class:`CallingDataAtRisk` naming them (the page offers
    to move them first)."""
    controlhub_require(actor, subscription.customer, ControlHubAction.CHANGE)
    org_licenses_lock(org=subscription.customer)
    if subscription.state not in LICENSE_HOLDING_STATES:
        raise ValueError("Only a pending, active or suspended subscription can be cancelled.")
    calling_users = calling_users_of(subscription=subscription)
    if calling_users and not confirm_calling_loss:
        raise CallingDataAtRisk(calling_users)
    lost_ids = list(
        License.objects.filter(
            service__subscription=subscription, service_type=ServiceType.CALLING
        ).values_list("user_id", flat=True)
    )
    removed, _counts = License.objects.filter(service__subscription=subscription).delete()
    for chunk in _chunks(lost_ids):
        _calling_data_delete(user_ids=chunk)
    Subscription.objects.filter(pk=subscription.pk).update(state=SubscriptionState.CANCELLED)
    deletion_recheck(org_ids=[subscription.customer_id])
    subscription.state = SubscriptionState.CANCELLED
    customer_rows_refresh(customer_ids=[subscription.customer_id])
    audit_record(
        action="subscription.cancel",
        actor=actor,
        org=subscription.customer,
        target=str(subscription.reference or subscription.pk),
        details={
            "licenses_removed": removed,
            "calling_data_deleted_for": calling_users,
            "rule": "C2",
        },
    )
    return subscription


def _template_ids_check(*, services: dict[int, Service], ids: set[int]) -> None:
    if not ids <= set(services):
        message = _("A subscription is not one of this organization's.")
        raise LicenseError([PlanError(None, message)])
    if sum(1 for sid in ids if services[sid].type == ServiceType.CALLING) > 1:
        raise LicenseError([PlanError(None, _("Tick Calling on one subscription only."))])


@transaction.atomic
def license_template_save(
    *,
    org: Organization,
    service_ids: Iterable[int],
    keep_existing_licenses: bool,
    actor: User | None,
) -> AutoLicenseTemplate:
    """C5: the org's template of licenses for new users (at most one Calling service)."""
    controlhub_require(actor, org, ControlHubAction.CHANGE)
    services = org_services(org=org)
    ids = set(service_ids)
    _template_ids_check(services=services, ids=ids)
    template, _created = AutoLicenseTemplate.objects.update_or_create(
        org=org, defaults={"keep_existing_licenses": keep_existing_licenses}
    )
    template.services.set(sorted(ids))
    audit_record(
        action="license_template.save",
        actor=actor,
        org=org,
        details={
            "services": sorted(service_label(services[s]) for s in ids),
            "keep_existing_licenses": keep_existing_licenses,
        },
    )
    return template


def template_service_ids(*, org: Organization) -> tuple[set[int], dict[int, Service]]:
    """C5: the services of the org's saved template that still hold licenses, and the org's
    services (for a plan)."""
    services = org_services(org=org)
    template = AutoLicenseTemplate.objects.filter(org=org).first()
    if template is None:
        return set(), services
    ids = {sid for sid in template.services.values_list("pk", flat=True) if sid in services}
    return ids, services


def license_template_plan(
    *,
    org: Organization,
    service_ids: Iterable[int] | None = None,
    keep_existing_licenses: bool | None = None,
) -> LicensePlan:
    """C5: what applying a template to the org's existing users would change — the saved
    template, or the one proposed by ``service_ids``/``keep_existing_licenses`` (nothing is
    saved: a preview that fails leaves the saved template as it was).

    With "keep existing users' licenses" unticked each user ends up with exactly the template's
    licenses: a Calling license on a subscription the template no longer ticks moves to the one
    it ticks (C3/C6 semantics, data kept). Ticked, the template only adds; a user who already has
    Calling keeps it where it is.
    """
    saved_ids, services = template_service_ids(org=org)
    if service_ids is None:
        template_ids = saved_ids
        template = AutoLicenseTemplate.objects.filter(org=org).first()
        keep = template.keep_existing_licenses if template else True
    else:
        template_ids = set(service_ids)
        _template_ids_check(services=services, ids=template_ids)
        keep = True if keep_existing_licenses is None else keep_existing_licenses
    users = dict(User.objects.filter(org=org, is_active=True).values_list("pk", "email"))
    if keep:
        have: dict[int, set[int]] = defaultdict(set)
        for user_id, service_id in License.objects.filter(user__org=org).values_list(
            "user_id", "service_id"
        ):
            have[user_id].add(service_id)
        template_calling = {s for s in template_ids if services[s].type == ServiceType.CALLING}
        wanted: dict[int, set[int]] = {}
        for user_id in users:
            mine = have.get(user_id, set())
            has_calling = any(
                services[s].type == ServiceType.CALLING for s in mine if s in services
            )
            add = template_ids - template_calling if has_calling else template_ids
            wanted[user_id] = mine | add
    else:
        wanted = {user_id: set(template_ids) for user_id in users}
    return license_plan(org=org, wanted=wanted, users=users, services=services)


@transaction.atomic
def license_template_apply(
    *,
    org: Organization,
    actor: User | None,
    confirm_calling_loss: bool = False,
    service_ids: Iterable[int] | None = None,
    keep_existing_licenses: bool | None = None,
) -> int:
    """C5: apply the template to every existing user of the org; all users or none. Returns the
    number of users changed.

    Given ``service_ids`` (and ``keep_existing_licenses``) the template is first checked against
    the existing users and saved only if the whole change is valid, in the same transaction: a
    failing apply saves nothing."""
    org_licenses_lock(org=org)
    plan = license_template_plan(
        org=org, service_ids=service_ids, keep_existing_licenses=keep_existing_licenses
    )
    if plan.errors:
        raise LicenseError(plan.errors)
    if plan.calling_losses and not confirm_calling_loss:
        raise CallingDataAtRisk(plan.calling_losses)
    if service_ids is not None:
        license_template_save(
            org=org,
            service_ids=service_ids,
            keep_existing_licenses=bool(keep_existing_licenses),
            actor=actor,
        )
    return license_plan_apply(
        plan=plan, actor=actor, confirm_calling_loss=confirm_calling_loss, source="template"
    )


def user_licenses_plan(*, user: User, service_ids: Iterable[int]) -> LicensePlan:
    """C3's review step: what saving these licenses for one user would change, validated as a
    whole (nothing is written)."""
    assert user.org is not None
    return license_plan(
        org=user.org, wanted={user.pk: list(service_ids)}, users={user.pk: user.email}
    )
