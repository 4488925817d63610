"""The provisioning engine (P1): the vendor behind a named backend, and every change of a
service's provisioning status.

The outside world is an adapter: ``settings.PROVISIONING_BACKEND`` names a class with one
method, ``provision(request) -> ProvisioningResult``, which provisions ONE service and answers
*provisioned*, *failed (reason)*, *needs details (what)* or *manual (vendor | partner)*. The
embedded default, ``EmbeddedVendorBackend``, behaves like the vendor (configurable through
``settings.PROVISIONING_EMBEDDED``), as Django's locmem email backend behaves like SMTP.

The engine (``service_provision``) runs in a Celery worker after commit:

1. *claim* the service with a conditional UPDATE (status *Provisioning*, no live claim), so
   two workers, or a worker and the relay, provision it once;
2. ask the backend outside any transaction (no row lock is held while the vendor thinks),
   under a timeout;
3. apply the answer in one transaction, only if the claim is still ours: the service is
   provisioned, failed, awaiting details or manual — never half-provisioned. A backend that
   raises or times out is retried with exponential backoff; after the last attempt the service
   is *Provisioning failed* with the reason.

Every status change goes through ``_status_set`` (one audit row each, then the hooks), so a
read model kept on write, or the T2 welcome, hangs on one place: ``provisioning_hook_register``.
"""

from __future__ import annotations

import enum
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from partnerhub.accounts.access import PartnerAction, partner_require
from partnerhub.accounts.choices import NotificationKind
from partnerhub.accounts.models import User
from partnerhub.accounts.notifications import notification_owe
from partnerhub.accounts.services import audit_record

from .choices import MeetingsEdition, ProvisioningStatus, ServiceType
from .models import Service
from .readmodel import customer_rows_refresh

logger = logging.getLogger(__name__)

# A claim older than this belongs to a worker that died; the relay may take the service again.
CLAIM_TIMEOUT = timedelta(minutes=10)
# The relay leaves a service alone this long after it was due: its own task is on the way.
RELAY_GRACE = timedelta(minutes=2)
# At most this many services per relay run: a backlog (a bulk import) drains over a few runs
# instead of burying the worker's other tasks (emails) under thousands of vendor calls.
RELAY_BATCH = 200

# The details Calling needs (the vendor asks for a location and its emergency address).
CALLING_DETAILS = ("location_name", "address_line", "city", "postal_code", "country")


# ---- the backend interface -------------------------------------------------------------
class Outcome(enum.StrEnum):
    PROVISIONED = "provisioned"
    FAILED = "failed"
    NEEDS_DETAILS = "needs_details"
    MANUAL_VENDOR = "manual_vendor"
    MANUAL_PARTNER = "manual_partner"


OUTCOME_STATUS = {
    Outcome.PROVISIONED: ProvisioningStatus.PROVISIONED,
    Outcome.FAILED: ProvisioningStatus.FAILED,
    Outcome.NEEDS_DETAILS: ProvisioningStatus.AWAITING_DETAILS,
    Outcome.MANUAL_VENDOR: ProvisioningStatus.MANUAL_VENDOR,
    Outcome.MANUAL_PARTNER: ProvisioningStatus.MANUAL_PARTNER,
}


@dataclass(frozen=True)
class ProvisioningRequest:
    """What the vendor gets to provision one service (no ORM object crosses the boundary)."""

    service_id: int
    service_type: str
    quantity: int
    customer_id: int
    customer_name: str
    country: str
    attempt: int
    edition: str = ""
    site_url: str = ""
    time_zone: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProvisioningResult:
    """The vendor's answer. ``reason`` says why it failed or what details it needs; ``steps``
    are what it did on the way (each is audited), e.g. creating a Meetings site."""

    outcome: Outcome
    reason: str = ""
    steps: tuple[str, ...] = ()

    @classmethod
    def provisioned(cls, *steps: str) -> ProvisioningResult:
        return cls(Outcome.PROVISIONED, steps=steps)

    @classmethod
    def failed(cls, reason: str) -> ProvisioningResult:
        return cls(Outcome.FAILED, reason=reason)

    @classmethod
    def needs_details(cls, what: str) -> ProvisioningResult:
        return cls(Outcome.NEEDS_DETAILS, reason=what)

    @classmethod
    def manual(cls, by: str) -> ProvisioningResult:
        return cls(Outcome.MANUAL_PARTNER if by == "partner" else Outcome.MANUAL_VENDOR)


class ProvisioningBackend(Protocol):
    def provision(self, request: ProvisioningRequest) -> ProvisioningResult: ...


class EmbeddedVendorBackend:
    """The vendor, simulated (``settings.PROVISIONING_EMBEDDED``):

    - ``seconds``: how long the vendor takes per service type (Messaging in seconds; Meetings
      a little longer, enterprise Meetings after creating its site);
    - Calling needs a location and its emergency address, entered by a customer admin in
      Control Hub: without them the answer is *needs details*;
    - ``manual``: service types the vendor hands to its staff (``"vendor"``) or the partner
      (``"partner"``);
    - ``failure_rate``: the share of attempts that fail (0 unless set), drawn from a random
      generator seeded with ``seed``, the service and the attempt: reproducible in tests.
    """

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        opts = dict(getattr(settings, "PROVISIONING_EMBEDDED", {}))
        opts.update(options or {})
        self.seconds: Mapping[str, float] = opts.get("seconds", {})
        self.manual: Mapping[str, str] = opts.get("manual", {})
        self.failure_rate = float(opts.get("failure_rate", 0.0))
        self.seed = opts.get("seed", 0)

    def provision(self, request: ProvisioningRequest) -> ProvisioningResult:
        rng = random.Random(f"{self.seed}:{request.service_id}:{request.attempt}")
        if self.failure_rate and rng.random() < self.failure_rate:
            return ProvisioningResult.failed(
                _("The vendor could not set up %(service)s for this organization.")
                % {"service": ServiceType(request.service_type).label}
            )
        if request.service_type in self.manual:
            return ProvisioningResult.manual(self.manual[request.service_type])
        if request.service_type == ServiceType.CALLING:
            missing = [key for key in CALLING_DETAILS if not request.details.get(key)]
            if missing:
                return ProvisioningResult.needs_details(
                    _("A location and its emergency address for Calling.")
                )
        self._work(request.service_type)
        steps: tuple[str, ...] = ()
        if request.service_type == ServiceType.MEETINGS and request.edition == (
            MeetingsEdition.ENTERPRISE
        ):
            steps = (f"site_created:{request.site_url}",)
        if request.service_type == ServiceType.CALLING:
            steps = (f"location_created:{request.details.get('location_name', '')}",)
        return ProvisioningResult.provisioned(*steps)

    def _work(self, service_type: str) -> None:
        seconds = float(self.seconds.get(service_type, 0))
        if seconds > 0:
            time.sleep(seconds)


def provisioning_backend() -> ProvisioningBackend:
    return import_string(settings.PROVISIONING_BACKEND)()


class BackendTimeout(Exception):
    pass


def _call_backend(backend: ProvisioningBackend, request: ProvisioningRequest) -> ProvisioningResult:
    """Ask the backend, giving up after ``PROVISIONING_TIMEOUT_SECONDS``. A daemon thread keeps
    a hung vendor call from holding the worker forever (its late answer is dropped)."""
    timeout = float(getattr(settings, "PROVISIONING_TIMEOUT_SECONDS", 30) or 0)
    if timeout <= 0:  # no timeout: the call runs in the worker's own thread
        return _checked(backend, backend.provision(request))
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = backend.provision(request)
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True, name=f"provision-{request.service_id}")
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise BackendTimeout(
            _("The vendor did not answer within %(seconds)d seconds.") % {"seconds": timeout}
        )
    if "error" in box:
        raise box["error"]
    return _checked(backend, box.get("result"))


def _checked(backend: ProvisioningBackend, result: Any) -> ProvisioningResult:
    if not isinstance(result, ProvisioningResult):
        raise TypeError(f"{type(backend).__name__}.provision returned {result!r}")
    return result


# ---- hooks: what else happens when statuses change --------------------------------------
# Called inside the transaction of a status change with the subscriptions touched and the
# instant; registered from the AppConfig.ready of apps above licensing (trials: the T2 welcome).
StatusHook = Callable[[set[int], datetime], None]
_HOOKS: list[StatusHook] = []


def provisioning_hook_register(hook: StatusHook) -> None:
    if hook not in _HOOKS:
        _HOOKS.append(hook)


def _hooks_run(subscription_ids: set[int], now: datetime) -> None:
    if subscription_ids:
        for hook in _HOOKS:
            hook(subscription_ids, now)


# ---- the one writer of provisioning statuses -------------------------------------------
def _status_set(
    *,
    service: Service,
    status: str,
    action: str,
    now: datetime,
    actor: User | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
    **fields: Any,
) -> None:
    """Set one service's status (inside the caller's transaction), audit it, run the hooks."""
    previous = service.provisioning_status
    values: dict[str, Any] = {
        "provisioning_status": status,
        "provisioning_reason": reason[:500],
        "provisioning_claimed_at": None,
        **fields,
    }
    if status == ProvisioningStatus.PROVISIONED:
        values["provisioned_at"] = now
    if status == ProvisioningStatus.PROVISIONING:
        values.setdefault("provisioning_due_at", now)
    Service.objects.filter(pk=service.pk).update(**values)
    for name, value in values.items():
        setattr(service, name, value)
    audit_record(
        action=action,
        actor=actor,
        org=service.subscription.customer,
        at=now,
        target=str(service.pk),
        details={
            "service": service.type,
            "from": previous,
            "to": status,
            "rule": "P1",
            **({"reason": reason} if reason else {}),
            **(details or {}),
        },
    )
    customer_rows_refresh(customer_ids=[service.subscription.customer_id])  # P2 on the list
    _hooks_run({service.subscription_id}, now)


def _queue(service_ids: list[int]) -> None:
    """After commit, one task per service. A broker outage only delays it: the relay finds
    the service still *Provisioning* past its due time."""
    if not service_ids:
        return

    def send() -> None:
        from .tasks import service_provision_task

        for service_id in service_ids:
            try:
                service_provision_task.delay(service_id)
            except Exception:  # broker down
                logger.warning("Could not queue provisioning of %s; the relay will.", service_id)

    transaction.on_commit(send)


def _locked(services: Iterable[Service] | Iterable[int], **filters: Any) -> list[Service]:
    ids = [s if isinstance(s, int) else s.pk for s in services]
    return list(
        Service.objects.select_for_update(of=("self",))
        .select_related("subscription__customer", "subscription__partner")
        .filter(pk__in=ids, **filters)
        .order_by("pk")
    )


@transaction.atomic
def services_provisioning_start(
    *, services: Iterable[Service] | Iterable[int], now: datetime | None = None
) -> int:
    """P1: services created *Provisioning* (T2, T5, T8, orders) go to the vendor after commit."""
    now = now or timezone.now()
    ids = [s.pk for s in _locked(services, provisioning_status=ProvisioningStatus.PROVISIONING)]
    Service.objects.filter(pk__in=ids).update(
        provisioning_due_at=now, provisioning_claimed_at=None, provisioning_attempts=0
    )
    _queue(ids)
    return len(ids)


# ---- the engine -------------------------------------------------------------------------
@dataclass(frozen=True)
class ProvisionRun:
    """What one run of the engine did: ``outcome`` is the new status, or ``"skipped"`` (not due,
    or claimed by another worker), or ``"retry"`` with ``retry_in`` seconds."""

    service_id: int
    outcome: str
    retry_in: int | None = None


def _claim(*, service_id: int, now: datetime) -> bool:
    """A conditional UPDATE: True for the one worker that wins the service."""
    return (
        Service.objects.filter(
            Q(provisioning_claimed_at__isnull=True)
            | Q(provisioning_claimed_at__lt=now - CLAIM_TIMEOUT),
            pk=service_id,
            provisioning_status=ProvisioningStatus.PROVISIONING,
        ).update(provisioning_claimed_at=now)
        == 1
    )


def _request_of(service: Service) -> ProvisioningRequest:
    customer = service.subscription.customer
    return ProvisioningRequest(
        service_id=service.pk,
        service_type=service.type,
        quantity=service.quantity,
        customer_id=customer.pk,
        customer_name=customer.name,
        country=customer.country,
        attempt=service.provisioning_attempts + 1,
        edition=service.edition,
        site_url=service.site_url,
        time_zone=service.time_zone,
        details=dict(service.provisioning_details or {}),
    )


def retry_delay(attempt: int) -> int:
    """Exponential backoff after the ``attempt``-th failed call: base, 2×base, 4×base …"""
    base = int(getattr(settings, "PROVISIONING_RETRY_BASE_SECONDS", 30))
    return int(min(base * 2 ** (attempt - 1), 3600))


def service_provision(
    *, service_id: int, now: datetime | None = None, backend: ProvisioningBackend | None = None
) -> ProvisionRun:
    """P1: provision one service through the backend, once, whatever runs concurrently."""
    now = now or timezone.now()
    if not _claim(service_id=service_id, now=now):
        return ProvisionRun(service_id, "skipped")
    service = Service.objects.select_related("subscription__customer").filter(pk=service_id).first()
    if service is None:  # removed from its trial (T8) or deleted with it since the claim
        return ProvisionRun(service_id, "skipped")
    request = _request_of(service)
    backend = backend or provisioning_backend()
    with transaction.atomic():
        audit_record(
            action="service.provisioning_attempt",
            org=service.subscription.customer,
            at=now,
            target=str(service.pk),
            details={"service": service.type, "attempt": request.attempt, "rule": "P1"},
        )
    try:
        result = _call_backend(backend, request)
    except Exception as exc:
        return _backend_error(service_id=service_id, claim=now, attempt=request.attempt, exc=exc)
    return _apply(service_id=service_id, claim=now, attempt=request.attempt, result=result)


@transaction.atomic
def _apply(
    *, service_id: int, claim: datetime, attempt: int, result: ProvisioningResult
) -> ProvisionRun:
    service = _still_ours(service_id=service_id, claim=claim)
    if service is None:  # support finished it meanwhile, or a retry took over: drop the answer
        return ProvisionRun(service_id, "skipped")
    now = timezone.now()
    for step in result.steps:
        audit_record(
            action="service.provisioning_step",
            org=service.subscription.customer,
            at=now,
            target=str(service.pk),
            details={"service": service.type, "step": step, "rule": "P1"},
        )
    status = OUTCOME_STATUS[result.outcome]
    _status_set(
        service=service,
        status=status,
        action=f"service.{status}",
        now=now,
        reason=result.reason,
        provisioning_attempts=attempt,
    )
    if status == ProvisioningStatus.FAILED:
        _owe_failure_emails(service=service, now=now)
    return ProvisionRun(service_id, str(status))


@transaction.atomic
def _backend_error(
    *, service_id: int, claim: datetime, attempt: int, exc: BaseException
) -> ProvisionRun:
    service = _still_ours(service_id=service_id, claim=claim)
    if service is None:
        return ProvisionRun(service_id, "skipped")
    now = timezone.now()
    reason = (
        str(exc)
        if isinstance(exc, BackendTimeout)
        else _("The vendor's system reported an error: %(error)s")
        % {"error": str(exc) or type(exc).__name__}
    )
    max_attempts = int(getattr(settings, "PROVISIONING_MAX_ATTEMPTS", 5))
    if attempt < max_attempts:
        delay = retry_delay(attempt)
        Service.objects.filter(pk=service.pk).update(
            provisioning_claimed_at=None,
            provisioning_attempts=attempt,
            provisioning_reason=reason[:500],
            provisioning_due_at=now + timedelta(seconds=delay),
        )
        audit_record(
            action="service.provisioning_retry_scheduled",
            org=service.subscription.customer,
            at=now,
            target=str(service.pk),
            details={"service": service.type, "attempt": attempt, "in": delay, "reason": reason},
        )
        return ProvisionRun(service_id, "retry", retry_in=delay)
    _status_set(
        service=service,
        status=ProvisioningStatus.FAILED,
        action="service.failed",
        now=now,
        reason=reason,
        provisioning_attempts=attempt,
    )
    _owe_failure_emails(service=service, now=now)
    return ProvisionRun(service_id, str(ProvisioningStatus.FAILED))


def _still_ours(*, service_id: int, claim: datetime) -> Service | None:
    return (
        Service.objects.select_for_update(of=("self",))
        .select_related("subscription__customer", "subscription__partner")
        .filter(
            pk=service_id,
            provisioning_status=ProvisioningStatus.PROVISIONING,
            provisioning_claimed_at=claim,
        )
        .first()
    )


def _owe_failure_emails(*, service: Service, now: datetime) -> int:
    """The managing partner is told a service failed, with the reason: in the feed of every
    person and by email to its admins (once per failure: the key names the instant the service
    failed)."""
    partner_id = service.subscription.partner_id
    if partner_id is None:
        return 0
    customer = service.subscription.customer
    label = str(ServiceType(service.type).label)
    return notification_owe(
        partner=partner_id,
        kind=NotificationKind.PROVISIONING_FAILED,
        key=f"{service.pk}:{now.isoformat()}",
        customer=customer,
        link_path=reverse("customers:customer_detail", kwargs={"pk": customer.pk}),
        context={
            "org_name": customer.name,
            "org_pk": customer.pk,
            "service": label,
            "services": label,
            "reason": service.provisioning_reason,
        },
        template="provisioning_failed",
    )


def services_due_for_provisioning(*, now: datetime, limit: int = RELAY_BATCH) -> list[int]:
    """The relay's selector: services still *Provisioning* past their due time (a lost task, a
    broker outage, a worker that died holding the claim), oldest first."""
    return list(
        Service.objects.filter(
            Q(provisioning_due_at__isnull=True) | Q(provisioning_due_at__lte=now - RELAY_GRACE),
            Q(provisioning_claimed_at__isnull=True)
            | Q(provisioning_claimed_at__lt=now - CLAIM_TIMEOUT),
            provisioning_status=ProvisioningStatus.PROVISIONING,
        )
        .order_by("provisioning_due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


# ---- what people do ---------------------------------------------------------------------
class ProvisioningRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _one(service: Service, status: str) -> Service:
    locked = _locked([service], provisioning_status=status)
    if not locked:
        raise ProvisioningRefused(_("This service's provisioning status has changed meanwhile."))
    return locked[0]


def _require_partner_or_support(*, actor: User | None, service: Service) -> None:
    """P1/T1: support staff, the lifecycle, or a sales admin of the certified partner whose
    subscription it is (the partner side's one decision, ``partnerhub.accounts.access``)."""
    if actor is None or actor.is_staff:
        return
    partner = service.subscription.partner
    if partner is None:
        raise PermissionDenied("Only support staff act on a subscription without a partner.")
    partner_require(actor, PartnerAction.RUN_TRIALS, partner)


@transaction.atomic
def service_provisioning_retry(
    *, service: Service, actor: User, now: datetime | None = None
) -> Service:
    """P1: support or the partner retries a failed service: it goes back to the vendor."""
    _require_partner_or_support(actor=actor, service=service)
    now = now or timezone.now()
    service = _one(service, ProvisioningStatus.FAILED)
    _to_vendor(service, action="service.provisioning_retry", actor=actor, now=now)
    return service


def _to_vendor(
    service: Service, *, action: str, actor: User | None, now: datetime, **fields: Any
) -> None:
    """The service goes (back) to the vendor: attempts start again, due now, its task queued
    after commit."""
    _status_set(
        service=service,
        status=ProvisioningStatus.PROVISIONING,
        action=action,
        actor=actor,
        now=now,
        provisioning_attempts=0,
        provisioning_due_at=now,
        **fields,
    )
    _queue([service.pk])


@transaction.atomic
def service_manual_done(*, service: Service, actor: User, now: datetime | None = None) -> Service:
    """P1: the partner finished a *Manual provisioning (partner)* service and marks it done."""
    _require_partner_or_support(actor=actor, service=service)
    service = _one(service, ProvisioningStatus.MANUAL_PARTNER)
    _provisioned(service, actor=actor, now=now or timezone.now(), details={"by": "partner"})
    return service


def _provisioned(
    service: Service, *, actor: User | None, now: datetime, details: dict[str, Any]
) -> None:
    """Someone other than the vendor says the service is provisioned (``details`` say who)."""
    _status_set(
        service=service,
        status=ProvisioningStatus.PROVISIONED,
        action="service.provisioned",
        actor=actor,
        now=now,
        details=details,
    )


def _services_provisioned(
    services: Iterable[Service] | Iterable[int],
    *,
    actor: User | None,
    now: datetime,
    details: dict[str, Any],
) -> int:
    """Lock the services and mark those not provisioned yet provisioned; how many were."""
    done = 0
    for service in _locked(services):
        if service.provisioning_status != ProvisioningStatus.PROVISIONED:
            _provisioned(service, actor=actor, now=now, details=details)
            done += 1
    return done


def calling_details_clean(details: Mapping[str, Any]) -> dict[str, str]:
    """The Calling location and emergency address, trimmed; every part is needed."""
    cleaned = {key: str(details.get(key, "")).strip() for key in CALLING_DETAILS}
    missing = [key for key, value in cleaned.items() if not value]
    if missing:
        raise ValidationError(
            {key: _("This is needed for the emergency address.") for key in missing}
        )
    return cleaned


@transaction.atomic
def service_details_submit(
    *,
    service: Service,
    actor: User,
    details: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> Service:
    """P1: a customer admin entered what an *Awaiting provisioning details* service waits for
    (Calling: a location and its emergency address); it goes (back) to the vendor."""
    now = now or timezone.now()
    service = _one(service, ProvisioningStatus.AWAITING_DETAILS)
    entered: dict[str, Any] = dict(service.provisioning_details or {})
    if service.type == ServiceType.CALLING:
        entered.update(calling_details_clean(details or {}))
    _to_vendor(
        service,
        action="service.provisioning_details",
        actor=actor,
        now=now,
        details={"entered": sorted((details or {}).keys())},
        provisioning_details=entered,
    )
    return service


@transaction.atomic
def services_await_details(
    *,
    services: Iterable[Service] | Iterable[int],
    from_status: str,
    actor: User | None = None,
    now: datetime | None = None,
) -> int:
    """T3: once the customer accepted, the trial's services wait for provisioning details."""
    now = now or timezone.now()
    changed = 0
    for service in _locked(services, provisioning_status=from_status):
        _status_set(
            service=service,
            status=ProvisioningStatus.AWAITING_DETAILS,
            action="service.awaiting_details",
            actor=actor,
            now=now,
        )
        changed += 1
    return changed


@transaction.atomic
def services_mark_provisioned(
    *, services: Iterable[Service], actor: User, now: datetime | None = None
) -> int:
    """P1: support staff finish a manual provisioning: the services become *Provisioned* and
    their licenses can be assigned. When every service of a new trial is provisioned, its
    welcome email is owed (T2). Services already provisioned are left alone."""
    return _services_provisioned(
        services, actor=actor, now=now or timezone.now(), details={"by": "support"}
    )


@transaction.atomic
def services_take_over_provisioned(
    *, services: Iterable[Service] | Iterable[int], now: datetime | None = None
) -> int:
    """S3: a new paid subscription's service that takes over the licenses of one the org had
    provisioned already is provisioned too: the moved users keep using it (issue 10). A task
    queued for it finds it no longer *Provisioning* and does nothing."""
    return _services_provisioned(
        services, actor=None, now=now or timezone.now(), details={"by": "take_over", "rule": "S3"}
    )
