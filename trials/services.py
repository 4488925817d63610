"""Writes of trials: start (T2, T3, T5), consent requests (T3), services (T4, T8), extension
(T6, T7), deletion (T10). Keyword-only, typed, atomic, audited; emails through the outbox.

Views check roles and tenancy first (``partnerhub.accounts.permissions``); the services check
T1 again so that no other caller (a task, a shell) can bypass it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from licensing.choices import (
    LICENSE_HOLDING_STATES,
    MeetingsEdition,
    ProvisioningStatus,
    ServiceType,
    SubscriptionKind,
    SubscriptionState,
)
from licensing.lifecycle import can_reactivate
from licensing.models import CallingProfile, License, Service, Subscription
from licensing.provisioning import services_provisioning_start
from licensing.readmodel import customer_rows_refresh
from licensing.services import ServiceSpec, subscription_create
from partnerhub.accounts.access import PartnerAction, partner_may
from partnerhub.accounts.choices import (
    NotificationKind,
    OrgKind,
    PartnerAccess,
    Role,
)
from partnerhub.accounts.models import AuditEntry, Organization, User
from partnerhub.accounts.notifications import notification_owe
from partnerhub.accounts.selectors import customer_admin_emails
from partnerhub.accounts.services import (
    audit_record,
    customer_org_create,
    deletion_recheck,
    relationship_grant,
    relationship_revoke,
    user_create,
)
from partnerhub.core.clock import business_date, business_today
from partnerhub.core.outbox import email_owe, outbox_key

from .choices import ConsentStatus, DeviceType, ExtensionStatus
from .lifecycle import (
    DEVICE_TRIAL_MAX_DAYS,
    ReturnCarrier,
    can_request_return_label,
    consent_expires_at,
    device_return_due,
    device_trial_cap,
    return_carrier,
    trial_extension_plan,
)
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
    """T1: only sales admins and sales full admins of a certified partner run trials (the
    partner side's one decision, ``partnerhub.accounts.access``)."""
    if not partner_may(actor, PartnerAction.RUN_TRIALS, partner):
        # T1: only sales admins of a certified partner run trials.
        raise PermissionDenied(
            _("Only sales admins and sales full admins of a certified partner run trials.")
        )


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
        raise ValidationError(_("Each device type ships once: never a second shipment."))
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
                _("Already bought or trialled for this customer: %(names)s") % {"names": names}
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


CARRIER_GUIDANCE = {
    ReturnCarrier.LABEL_IN_BOX: gettext_lazy(
        "Each device shipped with a return label in its box. Keep the original packaging, put "
        "the return label on it and call the carrier for a pick-up. A customer who lost the "
        "label or packaging can get a new label on request."
    ),
    ReturnCarrier.DHL: gettext_lazy(
        "Contact DHL to arrange the pick-up of the trial devices, in their original packaging."
    ),
    ReturnCarrier.EXPEDITORS: gettext_lazy(
        "Contact Expeditors to arrange the pick-up of the trial devices, in their original "
        "packaging."
    ),
    ReturnCarrier.RMA_GUIDE: gettext_lazy(
        "Follow the return process for your location in the return guide, or ask the trial "
        "team for it."
    ),
}


def carrier_guidance(*, customer: Organization) -> str:
    """T14: how the customer sends trial devices back, for its country (seed 002)."""
    return str(
        CARRIER_GUIDANCE[return_carrier(country=customer.country, data_region=customer.data_region)]
    )


def _owe_device_agreement(*, trial: Subscription, shipments: list[DeviceShipment]) -> int:
    """T14: at shipment every customer full admin gets the device agreement (EULA) email with
    its end date — the date returns count from — the serials, and the carrier guidance."""
    if not shipments:
        return 0
    customer = trial.customer
    agreement_end = shipments[0].agreement_end_date
    devices = [
        (str(shipment.get_device_type_display()), device.serial_number)
        for shipment in shipments
        for device in shipment.devices.all()
    ]
    owed = 0
    for to in customer_admin_emails(org=customer, full_only=True):
        owed += (
            email_owe(
                key=outbox_key(
                    "device_agreement", to, trial.pk, ",".join(str(s.pk) for s in shipments)
                ),
                kind="device_agreement",
                to=to,
                template="device_agreement",
                context={
                    "org_name": customer.name,
                    "partner_name": trial.partner.name if trial.partner else "",
                    "agreement_end_date": agreement_end,
                    "return_from": device_return_due(agreement_end_date=agreement_end),
                    "devices": devices,
                    # Lazy: rendered in the recipient's language by the outbox.
                    "guidance": CARRIER_GUIDANCE[
                        return_carrier(country=customer.country, data_region=customer.data_region)
                    ],
                    "can_request_label": can_request_return_label(country=customer.country),
                },
                org_id=customer.pk,
            )
            is not None
        )
    return owed


def _ship_devices(
    *, trial: Subscription, devices: list[DeviceOrder], now: datetime, ship: bool = True
) -> None:
    """T2/T14: one shipment per device type, each device tracked by serial number. Its device
    agreement (EULA) ends on the trial's end as of the shipment and is fixed then: extending
    the trial does not move it. ``ship=False`` records the shipment for later (a trial waiting
    for consent); the agreement date is set when it ships."""
    shipped = []
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
        shipped.append(shipment)
    _owe_device_agreement(trial=trial, shipments=shipped)


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
    today = today or business_today()
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
    full_admins = set(customer_admin_emails(org=consent.customer, full_only=True))
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
                    "consent_id": consent.pk,
                    # Only full admins may answer: the others are told to ask one (T3).
                    "recipient_is_full_admin": to in full_admins,
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


ORG_LOOKUP_ACTION = "trial.org_lookup"
ORG_LOOKUP_WINDOW = timedelta(hours=1)


def existing_org_lookup(*, actor: User, email: str, now: datetime) -> Organization:
    """T3: which org has an admin with this email, for one partner user, at most
    ``TRIAL_ORG_LOOKUPS_PER_HOUR`` times an hour. Every look-up (and every refusal) is an audit
    row; the answer is shown, because the partner confirms the org before asking it.
    Raises ValidationError (a form error) when none matches or the limit is reached."""
    with transaction.atomic():
        found, refused = _existing_org_lookup(actor=actor, email=email, now=now)
    if refused:
        raise ValidationError(
            ngettext(
                "You looked up %(n)d organization in the last hour, the most allowed. "
                "Try again later.",
                "You looked up %(n)d organizations in the last hour, the most allowed. "
                "Try again later.",
                refused,
            )
            % {"n": refused}
        )
    if found is None:
        raise ValidationError(
            _(
                "No organization has an admin with this email. Check the address, or start "
                "a trial for a new customer."
            )
        )
    return found


def _existing_org_lookup(
    *, actor: User, email: str, now: datetime
) -> tuple[Organization | None, int]:
    # Serialise one person's look-ups, so that parallel requests cannot pass the limit together.
    list(User.objects.select_for_update().filter(pk=actor.pk).values_list("pk", flat=True))
    limit = settings.TRIAL_ORG_LOOKUPS_PER_HOUR
    used = AuditEntry.objects.filter(
        action=ORG_LOOKUP_ACTION, actor=actor, at__gt=now - ORG_LOOKUP_WINDOW
    ).count()
    address = email.strip().lower()
    if used >= limit:
        audit_record(
            action="trial.org_lookup_refused",
            actor=actor,
            at=now,
            target=address,
            details={"rule": "T3", "limit": limit},
        )
        return None, used
    customer = existing_org_for_email(email=address)
    audit_record(
        action=ORG_LOOKUP_ACTION,
        actor=actor,
        org=customer,
        at=now,
        target=address,
        details={"rule": "T3", "found": customer is not None},
    )
    return customer, 0


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
    (Control Hub) within 10 days; the customer is on the partner's list meanwhile.

    The look-up of the org by the email is rate-limited and audited first, in its own
    transaction, so that a refused request still leaves its audit row.
    """
    _require_trial_manager(actor=actor, partner=partner)
    now = now or timezone.now()
    customer = existing_org_lookup(actor=actor, email=admin_email, now=now)
    with transaction.atomic():
        return _trial_request_existing_org(
            partner=partner,
            actor=actor,
            customer=customer,
            admin_email=admin_email,
            services=services,
            devices=devices,
            length_days=length_days,
            now=now,
        )


def _trial_request_existing_org(
    *,
    partner: Organization,
    actor: User,
    customer: Organization,
    admin_email: str,
    services: list[ServiceSpec],
    devices: list[DeviceOrder],
    length_days: int,
    now: datetime,
) -> ConsentRequest:
    if partner.customer_relationships.filter(customer=customer).exists():
        raise ValidationError(_("This organization is already your customer: add a trial there."))
    if ConsentRequest.objects.filter(
        partner=partner, customer=customer, status=ConsentStatus.PENDING
    ).exists():
        raise ValidationError(_("A trial request to this organization is already waiting."))
    _check_offer(customer=customer, partner=partner, services=services, devices=devices)
    start, end = _trial_dates(today=business_date(now), length_days=length_days)
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
    trial = Subscription.objects.select_related("customer", "partner").get(pk=trial.pk)
    shipped = 0
    done = []
    for shipment in DeviceShipment.objects.select_for_update().filter(
        trial=trial, shipped_at__isnull=True
    ):
        prefix = shipment.device_type[:3].upper()
        Device.objects.bulk_create(
            Device(shipment=shipment, serial_number=f"{prefix}-{shipment.pk:06d}-{n:03d}")
            for n in range(1, shipment.quantity + 1)
        )
        # T14: the agreement date is fixed now, from the trial as it starts (after consent).
        shipment.shipped_at = now
        shipment.agreement_end_date = trial.end_date
        shipment.return_due_date = device_return_due(agreement_end_date=trial.end_date)
        shipment.save(update_fields=["shipped_at", "agreement_end_date", "return_due_date"])
        shipped += shipment.quantity
        done.append(shipment)
    _owe_device_agreement(trial=trial, shipments=done)
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
        raise PermissionDenied(_("This organization is not on your customer list."))
    if Subscription.objects.filter(
        partner=partner, customer=customer, kind=SubscriptionKind.TRIAL, state__in=HOLDING
    ).exists():
        raise ValidationError(_("This customer has a trial of yours already: change its services."))
    _check_offer(customer=customer, partner=partner, services=services, devices=devices)
    today = today or business_today()
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
        raise ValidationError(_("Each device type ships once: never a second shipment."))
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
    if status == ProvisioningStatus.PROVISIONING:
        # P1: the added services go to the vendor after commit.
        services_provisioning_start(
            services=Service.objects.filter(
                subscription=trial, type__in=[s.type for s in add], provisioning_status=status
            ).values_list("pk", flat=True)
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
    """Move a trial's end (T6); a trial in its grace period is reactivated (S3). Device
    agreements do not follow: their end date was fixed at shipment (T14, seed 002: returns
    count from the EULA email's date, not the expiry shown in Control Hub)."""
    fields = ["end_date"]
    trial.end_date = end_date
    if can_reactivate(state=trial.state, period_end=trial.period_end_date, today=today):
        trial.state = SubscriptionState.ACTIVE
        trial.period_end_date = None
        fields += ["state", "period_end_date"]
    trial.save(update_fields=fields)


def _has_devices(trial: Subscription) -> bool:
    return (
        trial.services.filter(type=ServiceType.DEVICES).exists() or trial.device_shipments.exists()
    )


@transaction.atomic
def trial_extend(
    *, trial: Subscription, actor: User, days: int, reason: str = "", today: date | None = None
) -> ExtendResult:
    """T6: the trial now ends ``today + days`` (not the current end + days). T7: every
    extension of a device trial is a request that support staff decide (seed 002: "試用延伸一律
    由試用團隊核准", extensions are always approved by the trial team), never past 120 days in
    all; one request waits at a time."""
    partner = trial.partner
    if partner is None or not trial.is_trial:
        raise ValidationError(_("Only trials can be extended."))
    _require_trial_manager(actor=actor, partner=partner)
    trial = Subscription.objects.select_for_update().get(pk=trial.pk)
    today = today or business_today()
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
    if plan.beyond_cap:
        raise ValidationError(
            _(
                "A device trial runs at most %(days)d days in all, until %(cap)s. Pick a shorter "
                "extension."
            )
            % {
                "days": DEVICE_TRIAL_MAX_DAYS,
                "cap": formats.date_format(device_trial_cap(start_date=trial.start_date)),
            }
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
        raise PermissionDenied(_("Only support staff decide extension requests."))  # T7
    locked = ExtensionRequest.objects.select_for_update().get(pk=extension_request.pk)
    if locked.status != ExtensionStatus.PENDING:
        raise ValidationError(_("This request has been decided already."))
    today = today or business_today()
    locked.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.decision_note = note
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    trial = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("customer", "partner")
        .get(pk=locked.trial_id)
    )
    if approve:
        if trial.state not in (SubscriptionState.ACTIVE, SubscriptionState.SUSPENDED):
            raise ValidationError(_("The trial is no longer running."))
        if locked.requested_end_date > device_trial_cap(start_date=trial.start_date):
            raise ValidationError(
                _("The requested end is past the 120 days a device trial may run.")
            )
        _set_trial_end(trial=trial, end_date=locked.requested_end_date, today=today)
    _owe_extension_decision(extension=locked, trial=trial)
    _list_changed(trial.customer_id)
    audit_record(
        action="trial.extension_approve" if approve else "trial.extension_refuse",
        actor=actor,
        org=trial.customer,
        target=str(trial.pk),
        details={"rule": "T7", "requested_end_date": locked.requested_end_date.isoformat()},
    )
    return locked


def _owe_extension_decision(*, extension: ExtensionRequest, trial: Subscription) -> int:
    """T7: the partner is told support's decision: in the feed of every person of the partner
    and by email to its admins (each may turn that email off), with support's note."""
    if trial.partner_id is None:
        return 0
    approved = extension.status == ExtensionStatus.APPROVED
    return notification_owe(
        partner=trial.partner_id,
        kind=NotificationKind.EXTENSION_APPROVED
        if approved
        else NotificationKind.EXTENSION_REFUSED,
        key=f"extension:{extension.pk}",
        customer=trial.customer,
        link_path=reverse("customers:customer_detail", kwargs={"pk": trial.customer_id}),
        context={
            "org_name": trial.customer.name,
            "org_pk": trial.customer_id,
            "approved": approved,
            "requested_end_date": extension.requested_end_date,
            "end_date": trial.end_date,
            "date": extension.requested_end_date,
            "note": extension.decision_note,
        },
        template="extension_decided",
    )


# ---- T14: device returns -----------------------------------------------------------------
@transaction.atomic
def devices_return(
    *, trial: Subscription, serial_numbers: list[str], actor: User, now: datetime | None = None
) -> list[Device]:
    """T14: record returned devices by serial number. Every serial must be one shipped for this
    trial and not returned yet (seed 002: the returned serials must match those shipped for the
    trial); otherwise nothing is recorded and the error names the serials that do not match."""
    now = now or timezone.now()
    wanted = [s.strip().upper() for s in serial_numbers if s.strip()]
    if not wanted:
        raise ValidationError(_("Enter the serial numbers of the returned devices."))
    devices = {
        d.serial_number.upper(): d
        for d in Device.objects.select_for_update().filter(
            shipment__trial=trial, serial_number__in=wanted
        )
    }
    unknown = [s for s in wanted if s not in devices]
    if unknown:
        raise ValidationError(
            _(
                "These serial numbers were not shipped for this trial: %(serials)s. Check them "
                "against the device agreement email; nothing was recorded."
            )
            % {"serials": ", ".join(unknown)}
        )
    again = [s for s in wanted if devices[s].returned_at is not None]
    if again:
        raise ValidationError(
            _("Already recorded as returned: %(serials)s. Nothing was recorded.")
            % {"serials": ", ".join(again)}
        )
    Device.objects.filter(pk__in=[d.pk for d in devices.values()]).update(returned_at=now)
    audit_record(
        action="trial.devices_return",
        actor=actor,
        org=trial.customer,
        target=str(trial.pk),
        details={"rule": "T14", "serials": wanted},
    )
    return list(devices.values())


@transaction.atomic
def return_label_request(*, trial: Subscription, actor: User) -> int:
    """T14: a US customer who lost the return label gets a new one on request (US only): the
    request goes to the device trial team through the outbox."""
    customer = trial.customer
    if not can_request_return_label(country=customer.country):
        raise ValidationError(
            _("A new return label can be requested in the United States only. %(guidance)s")
            % {"guidance": carrier_guidance(customer=customer)}
        )
    serials = list(
        Device.objects.filter(shipment__trial=trial, returned_at__isnull=True).values_list(
            "serial_number", flat=True
        )
    )
    if not serials:
        raise ValidationError(_("Every trial device is back already."))
    owed = email_owe(
        key=outbox_key("return_label_request", trial.pk, timezone.now().date().isoformat()),
        kind="return_label_request",
        to=settings.DEVICE_TRIAL_TEAM_EMAIL,
        template="return_label_request",
        context={
            "org_name": customer.name,
            "org_pk": customer.pk,
            "partner_name": trial.partner.name if trial.partner else "",
            "requested_by": actor.email,
            "serials": serials,
        },
        org_id=customer.pk,
    )
    audit_record(
        action="trial.return_label_request",
        actor=actor,
        org=customer,
        target=str(trial.pk),
        details={"rule": "T14", "serials": serials},
    )
    return int(owed is not None)


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
    now = timezone.now()
    # The confirmation said so: the licenses go now (with the calling data of the trial's
    # Calling users, C2) and the Meetings site URL is freed; the subscription is kept as a
    # record, CANCELLED, which the customer page shows as "Trial deleted" with no days left
    # and no provisioning status.
    CallingProfile.objects.filter(
        user__licenses__service__subscription=trial,
        user__licenses__service_type=ServiceType.CALLING,
    ).delete()
    removed = License.objects.filter(service__subscription=trial).delete()[0]
    Service.objects.filter(subscription=trial).exclude(site_url="").update(
        site_url="", time_zone="", edition=MeetingsEdition.STANDARD
    )
    Subscription.objects.filter(pk=trial.pk).update(state=SubscriptionState.CANCELLED, ended_at=now)
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
        details={"rule": "T10", "licenses_removed": removed},
    )
