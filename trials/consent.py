"""T3: a customer full admin answers a partner's trial request in Control Hub, and a
provisioning admin (or any full admin) finishes the trial's set-up.

Accepting makes the partner a full admin of the org (box ticked) or only a provisioning admin
(unticked); the trial becomes active and its services wait for provisioning details. Declining
cancels the trial; the customer leaves the partner's list unless the partner manages it for
something else.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from licensing.choices import (
    LICENSE_HOLDING_STATES,
    ProvisioningStatus,
    ServiceType,
    SubscriptionState,
)
from licensing.models import Service, Subscription
from licensing.provisioning import service_details_submit, services_await_details
from licensing.readmodel import customer_rows_refresh
from partnerhub.accounts.access import ControlHubAction, controlhub_require
from partnerhub.accounts.choices import NotificationKind, PartnerAccess
from partnerhub.accounts.models import User
from partnerhub.accounts.notifications import notification_owe
from partnerhub.accounts.services import (
    audit_record,
    deletion_recheck,
    relationship_grant,
    relationship_revoke,
)
from partnerhub.core.clock import business_date

from .choices import ConsentStatus
from .lifecycle import consent_trial_dates, is_consent_expired
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
    controlhub_require(by, request.customer_id, ControlHubAction.ANSWER_CONSENT)
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
    # T3 interpretation (seed 002, see ``consent_trial_dates``): the 30/60/90 days start now.
    trial = request.trial
    start, end = consent_trial_dates(
        start_date=trial.start_date,
        end_date=trial.end_date,
        accepted_on=business_date(now),
    )
    Subscription.objects.filter(pk=request.trial_id, state=SubscriptionState.PENDING).update(
        state=SubscriptionState.ACTIVE, start_date=start, end_date=end
    )
    services_await_details(
        services=Service.objects.filter(subscription_id=request.trial_id).values_list(
            "pk", flat=True
        ),
        from_status=ProvisioningStatus.PENDING_CONSENT,
        actor=by,
        now=now,
    )
    # T2/T14: devices picked with the request ship once the customer has said yes.
    trial_devices_ship(trial=request.trial, actor=by)
    customer_rows_refresh(customer_ids=[request.customer_id])
    notification_owe(
        partner=request.partner,
        kind=NotificationKind.CONSENT_ACCEPTED,
        key=f"consent:{request.pk}",
        customer=request.customer,
        link_path=reverse("customers:customer_detail", kwargs={"pk": request.customer_id}),
        context={"full_admin": grant_full_admin},
    )
    audit_record(
        action="trial.consent_accept",
        actor=by,
        org=request.customer,
        at=now,
        target=request.partner.name,
        details={
            "trial": request.trial_id,
            "grant_full_admin": grant_full_admin,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "rule": "T3",
        },
    )
    request.refresh_from_db()
    return request


@transaction.atomic
def consent_decline(
    *, request: ConsentRequest, by: User, now: datetime | None = None
) -> ConsentRequest:
    """T3: a full admin declines: the trial is cancelled, and the customer leaves the partner's
    list unless the partner still manages another live subscription of it."""
    controlhub_require(by, request.customer_id, ControlHubAction.ANSWER_CONSENT)
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
    notification_owe(
        partner=request.partner,
        kind=NotificationKind.CONSENT_DECLINED,
        key=f"consent:{request.pk}",
        customer=request.customer,
        # The customer has left the list unless the partner manages something else of it.
        link_path=(
            reverse("customers:customer_detail", kwargs={"pk": request.customer_id})
            if others
            else reverse("customers:customer_list")
        ),
    )
    audit_record(
        action="trial.consent_decline",
        actor=by,
        org=request.customer,
        at=now,
        target=request.partner.name,
        details={
            "trial": request.trial_id,
            "relationship_kept": others,
            "rule": "T3",
            "partner_id": request.partner_id,  # the relationship may be gone: tell this partner
        },
    )
    request.refresh_from_db()
    return request


@transaction.atomic
def trial_provision(
    *,
    trial: Subscription,
    by: User,
    calling: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> list[Service]:
    """P1/T3: the provisioning details are in: every service of the trial that was *Awaiting
    provisioning details* goes to the vendor (Calling with the location and emergency address
    in ``calling``), which provisions it. The one thing a provisioning admin may do."""
    controlhub_require(by, trial.customer_id, ControlHubAction.PROVISION)
    now = now or timezone.now()
    services = list(
        Service.objects.filter(
            subscription=trial, provisioning_status=ProvisioningStatus.AWAITING_DETAILS
        ).order_by("pk")
    )
    for service in services:
        service_details_submit(
            service=service,
            actor=by,
            details=calling if service.type == ServiceType.CALLING else None,
            now=now,
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
