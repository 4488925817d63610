"""T3: a customer full admin answers a partner's trial request in Control Hub, and a
provisioning admin (or any full admin) finishes the trial's set-up.

Accepting makes the partner a full admin of the org (box ticked) or only a provisioning admin
(unticked); the trial becomes active and its services wait for provisioning details. Declining
cancels the trial; the customer leaves the partner's list unless the partner manages it for
something else.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from licensing.choices import LICENSE_HOLDING_STATES, ProvisioningStatus, SubscriptionState
from licensing.models import Service, Subscription
from licensing.readmodel import customer_rows_refresh
from partnerhub.accounts.choices import PartnerAccess
from partnerhub.accounts.models import User
from partnerhub.accounts.services import (
    audit_record,
    deletion_recheck,
    relationship_grant,
    relationship_revoke,
)

from .choices import ConsentStatus
from .lifecycle import is_consent_expired
from .models import ConsentRequest
from .services import trial_devices_ship


class ConsentClosed(Exception):
    """The request was already answered, cancelled or expired."""


def _check_open(request: ConsentRequest, now: datetime) -> None:
    if request.status != ConsentStatus.PENDING or is_consent_expired(
        expires_at=request.expires_at, now=now
    ):
        raise ConsentClosed(request.pk)


@transaction.atomic
def consent_accept(
    *,
    request: ConsentRequest,
    by: User,
    grant_full_admin: bool,
    now: datetime | None = None,
) -> ConsentRequest:
    """T3: a full admin accepts: the partner becomes a full admin (``grant_full_admin``) or a
    provisioning admin of the org; the trial moves from *Trial pending customer consent* to
    active, its services to *Awaiting provisioning details*."""
    now = now or timezone.now()
    request = ConsentRequest.objects.select_for_update().select_related("trial").get(pk=request.pk)
    _check_open(request, now)
    ConsentRequest.objects.filter(pk=request.pk).update(
        status=ConsentStatus.ACCEPTED,
        decided_at=now,
        decided_by=by,
        grant_full_admin=grant_full_admin,
    )
    relationship_grant(
        partner=request.partner,
        customer=request.customer,
        access=PartnerAccess.FULL_ADMIN if grant_full_admin else PartnerAccess.PROVISIONING_ADMIN,
        actor=by,
    )
    Subscription.objects.filter(pk=request.trial_id, state=SubscriptionState.PENDING).update(
        state=SubscriptionState.ACTIVE
    )
    Service.objects.filter(
        subscription_id=request.trial_id, provisioning_status=ProvisioningStatus.PENDING_CONSENT
    ).update(provisioning_status=ProvisioningStatus.AWAITING_DETAILS)
    # T2/T14: devices picked with the request ship once the customer has said yes.
    trial_devices_ship(trial=request.trial, actor=by)
    customer_rows_refresh(customer_ids=[request.customer_id])
    audit_record(
        action="trial.consent_accept",
        actor=by,
        org=request.customer,
        at=now,
        target=request.partner.name,
        details={"trial": request.trial_id, "grant_full_admin": grant_full_admin, "rule": "T3"},
    )
    request.refresh_from_db()
    return request


@transaction.atomic
def consent_decline(
    *, request: ConsentRequest, by: User, now: datetime | None = None
) -> ConsentRequest:
    """T3: a full admin declines: the trial is cancelled, and the customer leaves the partner's
    list unless the partner still manages another live subscription of it."""
    now = now or timezone.now()
    request = ConsentRequest.objects.select_for_update().select_related("trial").get(pk=request.pk)
    _check_open(request, now)
    ConsentRequest.objects.filter(pk=request.pk).update(
        status=ConsentStatus.DECLINED, decided_at=now, decided_by=by
    )
    Subscription.objects.filter(pk=request.trial_id).update(state=SubscriptionState.CANCELLED)
    deletion_recheck(org_ids=[request.customer_id])
    others = (
        Subscription.objects.filter(
            customer=request.customer,
            partner=request.partner,
            state__in=LICENSE_HOLDING_STATES,
        )
        .exclude(pk=request.trial_id)
        .exists()
    )
    if not others:
        relationship_revoke(partner=request.partner, customer=request.customer, actor=by)
    customer_rows_refresh(customer_ids=[request.customer_id])
    audit_record(
        action="trial.consent_decline",
        actor=by,
        org=request.customer,
        at=now,
        target=request.partner.name,
        details={"trial": request.trial_id, "relationship_kept": others, "rule": "T3"},
    )
    request.refresh_from_db()
    return request


@transaction.atomic
def trial_provision(*, trial: Subscription, by: User, now: datetime | None = None) -> list[Service]:
    """P1/T3: the provisioning details are in: every service of the trial that was *Awaiting
    provisioning details* becomes *Provisioned* (licenses can be assigned). The one thing a
    provisioning admin may do."""
    now = now or timezone.now()
    services = list(
        Service.objects.select_for_update().filter(
            subscription=trial, provisioning_status=ProvisioningStatus.AWAITING_DETAILS
        )
    )
    Service.objects.filter(pk__in=[s.pk for s in services]).update(
        provisioning_status=ProvisioningStatus.PROVISIONED, provisioned_at=now
    )
    customer_rows_refresh(customer_ids=[trial.customer_id])
    audit_record(
        action="trial.provision",
        actor=by,
        org=trial.customer,
        at=now,
        target=str(trial.reference or trial.pk),
        details={"services": [s.type for s in services], "rule": "P1"},
    )
    return services
