"""Writes of trials: start (T2, T3, T5), consent requests (T3), services (T4, T8), extension
(T6, T7), deletion (T10). Keyword-only, typed, atomic, audited; emails through the outbox.

Views check roles and tenancy first (``partnerhub.accounts.permissions``); the services check
T1 again so that no other caller (a task, a shell) can bypass it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from licensing.choices import (
    LICENSE_HOLDING_STATES,
    MeetingsEdition,
    ProvisioningStatus,
    ServiceType,
    SubscriptionKind,
    SubscriptionState,
)
from licensing.lifecycle import can_reactivate
from licensing.models import Service, Subscription
from licensing.readmodel import customer_rows_refresh
from licensing.services import ServiceSpec, subscription_create
from partnerhub.accounts.choices import TRIAL_MANAGER_ROLES, OrgKind, PartnerAccess, Role
from partnerhub.accounts.models import Membership, Organization, User
from partnerhub.accounts.selectors import customer_admin_emails
from partnerhub.accounts.services import (
    audit_record,
    customer_org_create,
    deletion_recheck,
    relationship_grant,
    relationship_revoke,
    user_create,
)
from partnerhub.core.outbox import email_owe, outbox_key

from .choices import ConsentStatus, DeviceType, ExtensionStatus
from .lifecycle import consent_expires_at, device_return_due, trial_extension_plan
from .models import ConsentRequest, Device, DeviceShipment, ExtensionRequest
from .selectors import unavailable_service_types

HOLDING = [str(s) for s in LICENSE_HOLDING_STATES]


def _list_changed(customer_id: int) -> None:
    """The customer's rows on the partners' lists are recomputed in this transaction (their
    count bands go stale once it commits)."""
    customer_rows_refresh(customer_ids=[customer_id])


@dataclass(frozen=True)
class DeviceOrder:
    """T2: one shipment of one device type (phones ship without power supplies)."""

    device_type: str
    quantity: int


@dataclass(frozen=True)
class ExtendResult:
    """T6/T7: either the trial now ends on ``end_date``, or a request waits for support."""

    end_date: date
    extension_request: ExtensionRequest | None = None


# ---- checks ------------------------------------------------------------------------------
def _require_trial_manager(*, actor: User, partner: Organization) -> None:
    """T1: only sales admins and sales full admins of a certified partner run trials."""
    if (
        partner.kind != OrgKind.PARTNER
        or not partner.partner_certified
        or actor.org_id != partner.pk
        or not Membership.objects.filter(
            user=actor, org=partner, role__in=TRIAL_MANAGER_ROLES
        ).exists()
    ):
        raise PermissionDenied("T1: only sales admins of a certified partner run trials.")


def _check_offer(
    *,
    customer: Organization | None,
    partner: Organization,
    services: list[ServiceSpec],
    devices: list[DeviceOrder],
    exclude_trial: Subscription | None = None,
) -> None:
    types = [s.type for s in services]
    if not types:
        raise ValidationError(_("Pick at least one service."))
    if len(set(types)) != len(types):
        raise ValidationError(_("Each service can be picked once."))
    device_types = [d.device_type for d in devices]
    if len(set(device_types)) != len(device_types):
        raise ValidationError(_("Each device type ships once: never a second shipment (T2)."))
    if any(d.quantity <= 0 for d in devices):
        raise ValidationError(_("Device quantities must be positive."))
    if devices and ServiceType.DEVICES not in types:
        raise ValidationError(_("Pick the Devices service to ship devices."))
    for spec in services:
        if spec.edition == MeetingsEdition.ENTERPRISE and not (spec.site_url and spec.time_zone):
            raise ValidationError(_("The enterprise edition needs a site URL and a time zone."))
        if spec.site_url and Service.objects.filter(site_url=spec.site_url).exists():
            raise ValidationError(_("This Meetings site URL is taken."))
    if customer is not None:
        taken = unavailable_service_types(
            customer=customer, partner=partner, exclude_trial=exclude_trial
        ) & set(types)
        if taken:
            names = ", ".join(str(ServiceType(t).label) for t in sorted(taken))
            raise ValidationError(
                _("Already bought or trialled for this customer (T4): %(names)s") % {"names": names}
            )


def _trial_create(
    *,
    customer: Organization,
    partner: Organization,
    services: list[ServiceSpec],
    devices: list[DeviceOrder],
    today: date,
    length_days: int,
    actor: User,
    now: datetime,
) -> Subscription:
    """T2/T5: a provisioning trial of ``length_days`` from today, with its device shipments."""
    start, end = _trial_dates(today=today, length_days=length_days)
    trial = subscription_create(
        customer=customer,
        partner=partner,
        kind=SubscriptionKind.TRIAL,
        start_date=start,
        end_date=end,
        services=_services_with_status(services, ProvisioningStatus.PROVISIONING),
        actor=actor,
    )
    _ship_devices(trial=trial, devices=devices, now=now)
    return trial


def _ship_devices(
    *, trial: Subscription, devices: list[DeviceOrder], now: datetime, ship: bool = True
) -> None:
    """T2/T14: one shipment per device type, each device tracked by serial number; due back two
    weeks before the device agreement (the trial) ends. ``ship=False`` records the shipment for
    later (a trial waiting for consent)."""
    for order in devices:
        shipment = DeviceShipment.objects.create(
            trial=trial,
            device_type=DeviceType(order.device_type),
            quantity=order.quantity,
            shipped_at=now if ship else None,
            agreement_end_date=trial.end_date,
            return_due_date=device_return_due(agreement_end_date=trial.end_date),
        )
        if not ship:
            continue
        prefix = order.device_type[:3].upper()
        Device.objects.bulk_create(
            Device(shipment=shipment, serial_number=f"{prefix}-{shipment.pk:06d}-{n:03d}")
            for n in range(1, order.quantity + 1)
        )


def _services_with_status(services: list[ServiceSpec], status: str) -> list[ServiceSpec]:
    return [
        ServiceSpec(
            type=s.type,
            quantity=s.quantity,
            provisioning_status=status,
            edition=s.edition,
            site_url=s.site_url,
            time_zone=s.time_zone,
        )
        for s in services
    ]


def _trial_dates(*, today: date, length_days: int) -> tuple[date, date]:
    if length_days not in (30, 60, 90):
        raise ValidationError(_("A trial lasts 30, 60 or 90 days."))
    return today, today + timedelta(days=length_days)


# ---- T2: a new customer ------------------------------------------------------------------
@transaction.atomic
def trial_start_new_customer(
    *,
    partner: Organization,
    actor: User,
    company_name: str,
    admin_email: str,
    vertical: str,
    country: str,
    services: list[ServiceSpec],
    devices: list[DeviceOrder],
    length_days: int,
    today: date | None = None,
) -> Subscription:
    """T2: create the org with its first full admin, put it on the partner's list and start the
    trial; its services start provisioning (the welcome email follows when all are provisioned)."""
    _require_trial_manager(actor=actor, partner=partner)
    now = timezone.now()
    today = today or timezone.localdate()
    email = admin_email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise ValidationError(_("This email belongs to an existing organization."))
    _check_offer(customer=None, partner=partner, services=services, devices=devices)
    org = customer_org_create(name=company_name, country=country, vertical=vertical, actor=actor)
    user_create(email=email, org=org, role=Role.CUSTOMER_FULL_ADMIN, actor=actor)
    relationship_grant(partner=partner, customer=org, access=PartnerAccess.FULL_ADMIN, actor=actor)
    trial = _trial_create(
        customer=org,
        partner=partner,
        services=services,
        devices=devices,
        today=today,
        length_days=length_days,
        actor=actor,
        now=now,
    )
    _list_changed(org.pk)
    audit_record(
        action="trial.start",
        actor=actor,
        org=org,
        target=str(trial.pk),
        details={"rule": "T2", "end_date": trial.end_date.isoformat(), "devices": len(devices)},
    )
    return trial


# ---- T3: an existing org, with its consent -----------------------------------------------
def _consent_recipients(*, consent: ConsentRequest) -> list[str]:
    """T3: the given admin email; if that person is not a full admin of the org, them and every
    full admin."""
    full_admins = customer_admin_emails(org=consent.customer, full_only=True)
    given = consent.admin_email.lower()
    if given in full_admins:
        return [given]
    return [given, *[e for e in full_admins if e != given]]


def _owe_consent_emails(*, consent: ConsentRequest) -> int:
    owed = 0
    for to in _consent_recipients(consent=consent):
        owed += (
            email_owe(
                key=outbox_key("consent_request", to, consent.pk, consent.send_count),
                kind="consent_request",
                to=to,
                template="consent_request",
                context={
                    "org_name": consent.customer.name,
                    "org_id": consent.customer_id,
                    "partner_name": consent.partner.name,
                    "expires_at": consent.expires_at,
                    "services": [str(s.get_type_display()) for s in consent.trial.services.all()],
                },
                org_id=consent.customer_id,
            )
            is not None
        )
    return owed


def existing_org_for_email(*, email: str) -> Organization | None:
    """T3: the customer org the given admin email belongs to, if any."""
    user = User.objects.select_related("org").filter(email=email.strip().lower()).first()
    if user is None or user.org is None or user.org.kind != OrgKind.CUSTOMER:
        return None
    return user.org


@transaction.atomic
def trial_request_existing_org(
    *,
    partner: Organization,
    actor: User,
    admin_email: str,
    services: list[ServiceSpec],
    devices: list[DeviceOrder],
    length_days: int,
    now: datetime | None = None,
) -> ConsentRequest:
    """T3: ask an existing org with no sales relationship for consent. The trial waits in
    *Pending* with every service in *Trial pending customer consent* until a full admin accepts
    (Control Hub) within 10 days; the customer is on the partner's list meanwhile."""
    _require_trial_manager(actor=actor, partner=partner)
    now = now or timezone.now()
    customer = existing_org_for_email(email=admin_email)
    if customer is None:
        raise ValidationError(_("No organization has an admin with this email."))
    if partner.customer_relationships.filter(customer=customer).exists():
        raise ValidationError(_("This organization is already your customer: add a trial there."))
    if ConsentRequest.objects.filter(
        partner=partner, customer=customer, status=ConsentStatus.PENDING
    ).exists():
        raise ValidationError(_("A trial request to this organization is already waiting."))
    _check_offer(customer=customer, partner=partner, services=services, devices=devices)
    start, end = _trial_dates(today=timezone.localdate(now), length_days=length_days)
    trial = subscription_create(
        customer=customer,
        partner=partner,
        kind=SubscriptionKind.TRIAL,
        state=SubscriptionState.PENDING,
        start_date=start,
        end_date=end,
        services=_services_with_status(services, ProvisioningStatus.PENDING_CONSENT),
        actor=actor,
    )
    # Devices wait for the consent: the shipments are recorded, unshipped, without serials.
    _ship_devices(trial=trial, devices=devices, now=now, ship=False)
    consent = ConsentRequest.objects.create(
        trial=trial,
        partner=partner,
        customer=customer,
        admin_email=admin_email.strip().lower(),
        requested_by=actor,
        requested_at=now,
        last_sent_at=now,
        expires_at=consent_expires_at(requested_at=now),
    )
    _owe_consent_emails(consent=consent)
    _list_changed(customer.pk)
    audit_record(
        action="trial.consent_request",
        actor=actor,
        org=customer,
        target=partner.name,
        details={"rule": "T3", "trial": trial.pk, "to": consent.admin_email},
    )
    return consent


def _pending(consent: ConsentRequest) -> ConsentRequest:
    locked = ConsentRequest.objects.select_for_update().get(pk=consent.pk)
    if locked.status != ConsentStatus.PENDING:
        raise ValidationError(_("This trial request has been answered or cancelled already."))
    return locked


@transaction.atomic
def consent_resend(*, consent: ConsentRequest, actor: User) -> int:
    """T3: send the consent email again (same recipients; the 10-day deadline does not move)."""
    _require_trial_manager(actor=actor, partner=consent.partner)
    locked = _pending(consent)
    locked.send_count += 1
    locked.last_sent_at = timezone.now()
    locked.save(update_fields=["send_count", "last_sent_at"])
    owed = _owe_consent_emails(consent=locked)
    audit_record(
        action="trial.consent_resend",
        actor=actor,
        org=locked.customer,
        target=locked.partner.name,
        details={"rule": "T3", "send_count": locked.send_count},
    )
    return owed


@transaction.atomic
def consent_cancel(*, consent: ConsentRequest, actor: User) -> None:
    """T3: the partner cancels the request: the trial is cancelled and the customer leaves the
    partner's list (it was only there because of the request)."""
    _require_trial_manager(actor=actor, partner=consent.partner)
    locked = _pending(consent)
    now = timezone.now()
    locked.status = ConsentStatus.CANCELLED
    locked.decided_at = now
    locked.save(update_fields=["status", "decided_at"])
    Subscription.objects.filter(pk=locked.trial_id).update(state=SubscriptionState.CANCELLED)
    deletion_recheck(org_ids=[locked.customer_id])
    # A relationship that only stood for this request goes with it; a partner still holding
    # other subscriptions of the org keeps it.
    if not Subscription.objects.filter(
        partner=locked.partner, customer=locked.customer, state__in=HOLDING
    ).exists():
        relationship_revoke(partner=locked.partner, customer=locked.customer, actor=actor)
    _list_changed(locked.customer_id)
    audit_record(
        action="trial.consent_cancel",
        actor=actor,
        org=locked.customer,
        target=locked.partner.name,
        details={"rule": "T3", "trial": locked.trial_id},
    )


@transaction.atomic
def trial_devices_ship(*, trial: Subscription, actor: User | None = None) -> int:
    """T2/T14: ship the device shipments recorded while the trial waited for consent (T3);
    each device gets its serial number. Control Hub calls this once the customer accepts.
    Returns how many devices shipped; shipping twice ships nothing more."""
    now = timezone.now()
    shipped = 0
    for shipment in DeviceShipment.objects.select_for_update().filter(
        trial=trial, shipped_at__isnull=True
    ):
        prefix = shipment.device_type[:3].upper()
        Device.objects.bulk_create(
            Device(shipment=shipment, serial_number=f"{prefix}-{shipment.pk:06d}-{n:03d}")
            for n in range(1, shipment.quantity + 1)
        )
        shipment.shipped_at = now
        shipment.save(update_fields=["shipped_at"])
        shipped += shipment.quantity
    if shipped:
        audit_record(
            action="trial.devices_ship",
            actor=actor,
            org=trial.customer,
            target=str(trial.pk),
            details={"rule": "T14", "devices": shipped},
        )
    return shipped


# ---- T5: a trial for a paying customer ---------------------------------------------------
@transaction.atomic
def trial_add_to_customer(
    *,
    partner: Organization,
    actor: User,
    customer: Organization,
    services: list[ServiceSpec],
    devices: list[DeviceOrder],
    length_days: int,
    today: date | None = None,
) -> Subscription:
    """T5: add a trial to a customer on the partner's list; every customer admin is emailed that
    the trial started. T4: only services not bought and not trialled by another partner."""
    _require_trial_manager(actor=actor, partner=partner)
    if not partner.customer_relationships.filter(customer=customer).exists():
        raise PermissionDenied("Not this partner's customer.")
    if Subscription.objects.filter(
        partner=partner, customer=customer, kind=SubscriptionKind.TRIAL, state__in=HOLDING
    ).exists():
        raise ValidationError(_("This customer has a trial of yours already: change its services."))
    _check_offer(customer=customer, partner=partner, services=services, devices=devices)
    today = today or timezone.localdate()
    trial = _trial_create(
        customer=customer,
        partner=partner,
        services=services,
        devices=devices,
        today=today,
        length_days=length_days,
        actor=actor,
        now=timezone.now(),
    )
    end = trial.end_date
    labels = [str(ServiceType(s.type).label) for s in services]
    for to in customer_admin_emails(org=customer):
        email_owe(
            key=outbox_key("trial_started", to, trial.pk, end),
            kind="trial_started",
            to=to,
            template="trial_started",
            context={
                "org_name": customer.name,
                "org_id": customer.pk,
                "partner_name": partner.name,
                "services": labels,
                "end_date": end,
            },
            org_id=customer.pk,
        )
    _list_changed(customer.pk)
    audit_record(
        action="trial.start",
        actor=actor,
        org=customer,
        target=str(trial.pk),
        details={"rule": "T5", "services": [s.type for s in services], "end_date": str(end)},
    )
    return trial


# ---- T8: add or remove services ----------------------------------------------------------
@transaction.atomic
def trial_services_change(
    *,
    trial: Subscription,
    actor: User,
    add: list[ServiceSpec],
    remove: list[str],
    devices: list[DeviceOrder] | None = None,
) -> Subscription:
    """T8: add services (T4 applies) or remove them; a trial keeps at least one. Devices added
    ship once per type (T2); shipped devices stay tracked until returned (T14)."""
    partner = trial.partner
    if partner is None or not trial.is_trial or trial.state not in HOLDING:
        raise ValidationError(_("Only a running trial can change its services."))
    _require_trial_manager(actor=actor, partner=partner)
    devices = devices or []
    current = set(trial.services.values_list("type", flat=True))
    remove_set = set(remove) & current
    add = [s for s in add if s.type not in current]
    if not add and not remove_set and not devices:
        raise ValidationError(_("Nothing to change."))
    if not (current - remove_set) and not add:
        raise ValidationError(_("A trial keeps at least one service: delete the trial instead."))
    shipped = set(trial.device_shipments.values_list("device_type", flat=True))
    if shipped & {d.device_type for d in devices}:
        raise ValidationError(_("Each device type ships once: never a second shipment (T2)."))
    keeps_devices = ServiceType.DEVICES in (current - remove_set) or any(
        s.type == ServiceType.DEVICES for s in add
    )
    if devices and not keeps_devices:
        raise ValidationError(_("Pick the Devices service to ship devices."))
    if add:
        _check_offer(
            customer=trial.customer,
            partner=partner,
            services=add,
            devices=[],
            exclude_trial=trial,
        )
        _check_offer(customer=None, partner=partner, services=add, devices=devices)
    status = (
        ProvisioningStatus.PENDING_CONSENT
        if trial.state == SubscriptionState.PENDING
        else ProvisioningStatus.PROVISIONING
    )
    Service.objects.filter(subscription=trial, type__in=remove_set).delete()
    Service.objects.bulk_create(
        Service(
            subscription=trial,
            type=s.type,
            quantity=s.quantity,
            provisioning_status=status,
            edition=s.edition
            or (MeetingsEdition.STANDARD if s.type == ServiceType.MEETINGS else ""),
            site_url=s.site_url,
            time_zone=s.time_zone,
        )
        for s in add
    )
    if devices:
        _ship_devices(trial=trial, devices=devices, now=timezone.now())
    _list_changed(trial.customer_id)
    audit_record(
        action="trial.services_change",
        actor=actor,
        org=trial.customer,
        target=str(trial.pk),
        details={
            "rule": "T8",
            "added": [s.type for s in add],
            "removed": sorted(remove_set),
            "devices": [d.device_type for d in devices],
        },
    )
    return trial


# ---- T6/T7: extend -----------------------------------------------------------------------
def _set_trial_end(*, trial: Subscription, end_date: date, today: date) -> None:
    """Move a trial's end (T6); a trial in its grace period is reactivated (S3); device
    agreements follow the trial, and with them the return due dates (T14)."""
    fields = ["end_date"]
    trial.end_date = end_date
    if can_reactivate(state=trial.state, period_end=trial.period_end_date, today=today):
        trial.state = SubscriptionState.ACTIVE
        trial.period_end_date = None
        fields += ["state", "period_end_date"]
    trial.save(update_fields=fields)
    DeviceShipment.objects.filter(trial=trial).update(
        agreement_end_date=end_date,
        return_due_date=device_return_due(agreement_end_date=end_date),
    )


def _has_devices(trial: Subscription) -> bool:
    return (
        trial.services.filter(type=ServiceType.DEVICES).exists() or trial.device_shipments.exists()
    )


@transaction.atomic
def trial_extend(
    *, trial: Subscription, actor: User, days: int, reason: str = "", today: date | None = None
) -> ExtendResult:
    """T6: the trial now ends ``today + days`` (not the current end + days). T7: a device trial
    going past 120 days from its start becomes a request that support staff decide."""
    partner = trial.partner
    if partner is None or not trial.is_trial:
        raise ValidationError(_("Only trials can be extended."))
    _require_trial_manager(actor=actor, partner=partner)
    trial = Subscription.objects.select_for_update().get(pk=trial.pk)
    today = today or timezone.localdate()
    if trial.state not in (SubscriptionState.ACTIVE, SubscriptionState.SUSPENDED):
        raise ValidationError(_("Only an active trial or one in its grace period can be extended."))
    if trial.state == SubscriptionState.SUSPENDED and not can_reactivate(
        state=trial.state, period_end=trial.period_end_date, today=today
    ):
        raise ValidationError(_("The grace period has ended; the trial cannot be extended."))
    plan = trial_extension_plan(
        today=today,
        days=days,
        current_end=trial.end_date,
        start_date=trial.start_date,
        has_devices=_has_devices(trial),
    )
    if plan.needs_approval:
        if ExtensionRequest.objects.filter(trial=trial, status=ExtensionStatus.PENDING).exists():
            raise ValidationError(_("An extension request for this trial is already waiting."))
        request = ExtensionRequest.objects.create(
            trial=trial,
            requested_by=actor,
            requested_end_date=plan.new_end_date,
            reason=reason,
        )
        audit_record(
            action="trial.extension_request",
            actor=actor,
            org=trial.customer,
            target=str(trial.pk),
            details={"rule": "T7", "requested_end_date": plan.new_end_date.isoformat()},
        )
        return ExtendResult(end_date=trial.end_date, extension_request=request)
    old_end = trial.end_date
    _set_trial_end(trial=trial, end_date=plan.new_end_date, today=today)
    _list_changed(trial.customer_id)
    audit_record(
        action="trial.extend",
        actor=actor,
        org=trial.customer,
        target=str(trial.pk),
        details={"rule": "T6", "from": old_end.isoformat(), "to": plan.new_end_date.isoformat()},
    )
    return ExtendResult(end_date=plan.new_end_date)


@transaction.atomic
def extension_request_decide(
    *,
    extension_request: ExtensionRequest,
    actor: User,
    approve: bool,
    note: str = "",
    today: date | None = None,
) -> ExtensionRequest:
    """T7: support staff approve (the trial then ends on the requested date) or refuse."""
    if not actor.is_staff:
        raise PermissionDenied("T7: only support staff decide extension requests.")
    locked = ExtensionRequest.objects.select_for_update().get(pk=extension_request.pk)
    if locked.status != ExtensionStatus.PENDING:
        raise ValidationError(_("This request has been decided already."))
    today = today or timezone.localdate()
    locked.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.decision_note = note
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    trial = Subscription.objects.select_for_update().get(pk=locked.trial_id)
    if approve:
        if trial.state not in (SubscriptionState.ACTIVE, SubscriptionState.SUSPENDED):
            raise ValidationError(_("The trial is no longer running."))
        _set_trial_end(trial=trial, end_date=locked.requested_end_date, today=today)
    _list_changed(trial.customer_id)
    audit_record(
        action="trial.extension_approve" if approve else "trial.extension_refuse",
        actor=actor,
        org=trial.customer,
        target=str(trial.pk),
        details={"rule": "T7", "requested_end_date": locked.requested_end_date.isoformat()},
    )
    return locked


# ---- T10: delete -------------------------------------------------------------------------
@transaction.atomic
def trial_delete(*, trial: Subscription, actor: User) -> None:
    """T10 (after the page's confirmation): the trial is cancelled — its licenses go; shipped
    devices stay tracked until returned (T14); a request still waiting for consent is cancelled
    with it."""
    partner = trial.partner
    if partner is None or not trial.is_trial:
        raise ValidationError(_("Only trials can be deleted here."))
    _require_trial_manager(actor=actor, partner=partner)
    if trial.state not in HOLDING:
        raise ValidationError(_("This trial has ended already."))
    Subscription.objects.filter(pk=trial.pk).update(state=SubscriptionState.CANCELLED)
    deletion_recheck(org_ids=[trial.customer_id])
    ConsentRequest.objects.filter(trial=trial, status=ConsentStatus.PENDING).update(
        status=ConsentStatus.CANCELLED, decided_at=timezone.now()
    )
    ExtensionRequest.objects.filter(trial=trial, status=ExtensionStatus.PENDING).update(
        status=ExtensionStatus.REFUSED, decided_at=timezone.now(), decision_note="trial deleted"
    )
    _list_changed(trial.customer_id)
    audit_record(
        action="trial.delete",
        actor=actor,
        org=trial.customer,
        target=str(trial.pk),
        details={"rule": "T10"},
    )
