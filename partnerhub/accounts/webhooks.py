"""Webhooks: events owed in the transaction of the change, delivered signed (issue 15).

The contract is Standard Webhooks: every request carries ``webhook-id`` (the event id, the same
on every retry, so a receiver drops duplicates), ``webhook-timestamp`` (Unix seconds) and
``webhook-signature``: space-separated ``v1,<base64 HMAC-SHA256>`` over
``"{webhook-id}.{webhook-timestamp}.{body}"``, one per live secret of the endpoint (two while a
rotated secret overlaps the new one); ``webhook-secret-ids`` names the secrets in that order.
The key is the base64 part of the ``whsec_…`` secret, decoded.

``webhook_owe`` is called by services inside their transaction: it writes the event and one
delivery row per subscribed endpoint; the delivery is queued after commit. A worker claims a
delivery by a conditional UPDATE (as the email outbox does), posts it with a timeout, logs the
attempt and either marks it delivered or schedules the next try with exponential backoff, for
up to ``WEBHOOK_RETRY_FOR`` (three days). An endpoint failing ``WEBHOOK_DISABLE_AFTER`` times in
a row is disabled and its partner's full admins are emailed (through the email outbox).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerhub.core.outbox import email_owe, outbox_key

from .choices import Event, Role, webhook_type
from .models import (
    Membership,
    Organization,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSecret,
)
from .services import audit_record

logger = logging.getLogger(__name__)

# The event types a partner can subscribe to, with their labels: every lifecycle event, from
# the one list (``choices.Event``, which the notifications share).
EVENT_TYPES: dict[str, Any] = {webhook_type(event): event.label for event in Event}

CLAIM_TIMEOUT = timedelta(minutes=5)  # a claim older than this belonged to a dead worker
RESPONSE_SNIPPET = 500


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the ``attempts``-th failed try: base·2^(n-1), capped."""
    base = float(_setting("WEBHOOK_RETRY_BASE_SECONDS", 30))
    cap = float(_setting("WEBHOOK_RETRY_MAX_SECONDS", 6 * 3600))
    return timedelta(seconds=min(cap, base * 2 ** max(attempts - 1, 0)))


# ---- the signature (the documented recipe) -------------------------------------------------
def secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256(key, f"{msg_id}.{timestamp}.{body}")>``, key = the secret's
    base64 part decoded."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signature_verify(
    *, secret: str, headers: Mapping[str, str], body: bytes, tolerance: int = 300, now: float
) -> bool:
    """What a receiver does: recompute and compare each ``v1`` signature; refuse old requests."""
    msg_id, timestamp = headers["webhook-id"], int(headers["webhook-timestamp"])
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body)
    return any(
        hmac.compare_digest(expected, candidate)
        for candidate in headers["webhook-signature"].split()
    )


# ---- endpoints -----------------------------------------------------------------------------
def url_check(url: str) -> None:
    """HTTPS only, and never a private, loopback or link-local address (SSRF), unless
    ``WEBHOOK_ALLOW_PRIVATE_URLS`` (tests, local development) says otherwise."""
    parts = urlsplit(url)
    allow_private = _setting("WEBHOOK_ALLOW_PRIVATE_URLS", False)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise ValidationError({"url": _("Use an https:// address.")})
    if not parts.hostname:
        raise ValidationError({"url": _("Give a host name.")})
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise ValidationError({"url": _("This host name does not resolve.")}) from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise ValidationError({"url": _("Private and local addresses are not allowed.")})


def _event_types_check(event_types: Iterable[str]) -> list[str]:
    chosen = [t for t in EVENT_TYPES if t in set(event_types)]
    unknown = set(event_types) - set(EVENT_TYPES)
    if unknown or not chosen:
        raise ValidationError({"event_types": _("Pick one or more of the listed event types.")})
    return chosen


@transaction.atomic
def webhook_endpoint_create(
    *, partner: Organization, actor: User, url: str, event_types: list[str]
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its first secret (shown once on the page)."""
    url_check(url)
    endpoint = WebhookEndpoint.objects.create(
        partner=partner, url=url, event_types=_event_types_check(event_types)
    )
    secret = _secret_add(endpoint)
    audit_record(
        action="webhook.endpoint_create", actor=actor, org=partner, target=str(endpoint.pk)
    )
    return endpoint, secret.secret


def _secret_add(endpoint: WebhookEndpoint) -> WebhookSecret:
    return WebhookSecret.objects.create(
        endpoint=endpoint, key_id="whk_" + secrets.token_hex(8), secret=secret_new()
    )


@transaction.atomic
def webhook_secret_rotate(
    *, endpoint: WebhookEndpoint, actor: User, overlap: timedelta = timedelta(hours=24)
) -> WebhookSecret:
    """A new secret signs from now on; the old ones keep signing too until ``overlap`` ends."""
    now = timezone.now()
    endpoint.secrets.filter(expires_at__isnull=True).update(expires_at=now + overlap)
    secret = _secret_add(endpoint)
    audit_record(
        action="webhook.secret_rotate", actor=actor, org=endpoint.partner, target=str(endpoint.pk)
    )
    return secret


@transaction.atomic
def webhook_endpoint_set_active(*, endpoint: WebhookEndpoint, actor: User, active: bool) -> None:
    endpoint.disabled_at = None if active else timezone.now()
    endpoint.failure_streak = 0
    endpoint.save(update_fields=["disabled_at", "failure_streak"])
    audit_record(
        action="webhook.endpoint_enable" if active else "webhook.endpoint_disable",
        actor=actor,
        org=endpoint.partner,
        target=str(endpoint.pk),
    )


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: User) -> None:
    audit_record(
        action="webhook.endpoint_delete", actor=actor, org=endpoint.partner, target=endpoint.url
    )
    endpoint.delete()


# ---- owing an event ------------------------------------------------------------------------
def webhook_owe(
    *, partner: Organization | None, event_type: str, key: str, data: Mapping[str, Any]
) -> WebhookEvent | None:
    """Owe ``event_type`` to the partner's subscribed endpoints. Call inside the service's
    transaction; ``key`` makes owing the same event twice a no-op. None if nothing was owed."""
    if partner is None:
        return None
    assert event_type in EVENT_TYPES, event_type
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(partner=partner, disabled_at__isnull=True)
        if event_type in e.event_types
    ]
    if not endpoints or WebhookEvent.objects.filter(key=outbox_key("webhook", key)).exists():
        return None
    now = timezone.now()
    event_id = "msg_" + secrets.token_hex(12)
    payload = {
        "type": event_type,
        "timestamp": now.isoformat(),
        "data": json.loads(json.dumps(dict(data), cls=DjangoJSONEncoder)),
    }
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                partner=partner,
                event_id=event_id,
                key=outbox_key("webhook", key),
                event_type=event_type,
                payload=payload,
                created=now,
            )
            deliveries = WebhookDelivery.objects.bulk_create(
                WebhookDelivery(event=event, endpoint=e, next_attempt_at=now) for e in endpoints
            )
    except IntegrityError:
        return None
    ids = [d.pk for d in deliveries if d.pk is not None] or list(
        WebhookDelivery.objects.filter(event=event).values_list("pk", flat=True)
    )
    transaction.on_commit(lambda: _schedule(ids))
    return event


def webhooks_owe_bulk(events: Iterable[tuple[int, str, str, Mapping[str, Any]]]) -> int:
    """Owe a sweep's chunk of events, each (partner id, event type, key, data), inside the
    sweep's transaction. One query when no endpoint of those partners wants them."""
    events = list(events)
    if not events:
        return 0
    wanted = {
        (endpoint.partner_id, event_type)
        for endpoint in WebhookEndpoint.objects.filter(
            partner_id__in={e[0] for e in events}, disabled_at__isnull=True
        )
        for event_type in endpoint.event_types
    }
    due = [e for e in events if (e[0], e[1]) in wanted]
    if not due:
        return 0
    partners = {p.pk: p for p in Organization.objects.filter(pk__in={e[0] for e in due})}
    return sum(
        webhook_owe(partner=partners[partner_id], event_type=event_type, key=key, data=data)
        is not None
        for partner_id, event_type, key, data in due
    )


def _schedule(delivery_ids: list[int], countdown: float = 0) -> None:
    from .tasks import webhook_deliver

    for delivery_id in delivery_ids:
        try:
            webhook_deliver.apply_async((delivery_id,), countdown=countdown)
        except Exception:  # broker down: the relay picks it up
            logger.warning("Could not queue webhook delivery %s; the relay will.", delivery_id)


# ---- delivering ----------------------------------------------------------------------------
@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    body: bytes
    error: str
    latency_ms: int


def http_post(*, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> PostResult:
    """The one HTTP client of webhooks (stdlib, no redirects followed: a redirect is a failure
    so a receiver cannot bounce us to a private address)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    started = time.perf_counter()
    try:
        with opener.open(request, timeout=timeout) as response:
            content = response.read(RESPONSE_SNIPPET)
            code: int | None = response.status
            error = ""
    except urllib.error.HTTPError as exc:
        code, content, error = exc.code, exc.read(RESPONSE_SNIPPET), ""
    except Exception as exc:  # timeout, reset, refused, DNS
        code, content, error = None, b"", f"{type(exc).__name__}: {exc}"[:RESPONSE_SNIPPET]
    return PostResult(code, content, error, int((time.perf_counter() - started) * 1000))


def delivery_headers(
    *, event: WebhookEvent, live_secrets: list[WebhookSecret], body: bytes, timestamp: int
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "PartnerHub-Webhooks/1",
        "webhook-id": event.event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret=s.secret, msg_id=event.event_id, timestamp=timestamp, body=body)
            for s in live_secrets
        ),
        "webhook-secret-ids": " ".join(s.key_id for s in live_secrets),
    }


def webhook_claim(*, delivery_id: int, now: datetime) -> bool:
    return (
        WebhookDelivery.objects.filter(
            Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT),
            pk=delivery_id,
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
            endpoint__disabled_at__isnull=True,
        ).update(claimed_at=now)
        == 1
    )


def webhook_deliver_one(*, delivery_id: int, now: datetime | None = None) -> bool | None:
    """Try one delivery if it is due and we win the claim. True delivered, False failed (a retry
    is scheduled or the delivery gave up), None when there was nothing to do."""
    now = now or timezone.now()
    if not webhook_claim(delivery_id=delivery_id, now=now):
        return None
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    event, endpoint = delivery.event, delivery.endpoint
    live = list(endpoint.secrets.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)))
    body = json.dumps(
        {"id": event.event_id, **event.payload}, separators=(",", ":"), sort_keys=True
    ).encode()
    headers = delivery_headers(
        event=event, live_secrets=live, body=body, timestamp=int(now.timestamp())
    )
    result = http_post(
        url=endpoint.url,
        body=body,
        headers=headers,
        timeout=float(_setting("WEBHOOK_TIMEOUT_SECONDS", 10)),
    )
    ok = result.status_code is not None and 200 <= result.status_code < 300
    return _attempt_record(delivery=delivery, result=result, ok=ok, now=now)


@transaction.atomic
def _attempt_record(
    *, delivery: WebhookDelivery, result: PostResult, ok: bool, now: datetime
) -> bool:
    """Log the attempt and settle the delivery. A success ends the endpoint's failure streak
    with one conditional UPDATE (no lock: usually it matches nothing); a failure counts under
    the endpoint's row lock, so concurrent failures cannot lose a count."""
    if ok:
        WebhookAttempt.objects.create(
            delivery=delivery,
            at=now,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            response_snippet=result.body.decode("utf-8", "replace")[:RESPONSE_SNIPPET],
            error=result.error,
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.DELIVERED,
            attempts=delivery.attempts + 1,
            delivered_at=timezone.now(),
            claimed_at=None,
        )
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, failure_streak__gt=0).update(
            failure_streak=0
        )
        return True
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    WebhookAttempt.objects.create(
        delivery=delivery,
        at=now,
        status_code=result.status_code,
        latency_ms=result.latency_ms,
        response_snippet=result.body.decode("utf-8", "replace")[:RESPONSE_SNIPPET],
        error=result.error,
    )
    attempts = delivery.attempts + 1
    retry_for = timedelta(seconds=float(_setting("WEBHOOK_RETRY_FOR_SECONDS", 3 * 86400)))
    next_at = now + retry_delay(attempts)
    gave_up = next_at > delivery.event.created + retry_for
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.FAILED if gave_up else WebhookDelivery.Status.PENDING,
        attempts=attempts,
        next_attempt_at=next_at,
        claimed_at=None,
    )
    streak = endpoint.failure_streak + 1
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failure_streak=streak)
    if streak >= int(_setting("WEBHOOK_DISABLE_AFTER", 50)) and endpoint.disabled_at is None:
        _endpoint_disable_failing(endpoint=endpoint, now=now)
    elif not gave_up:
        delay = (next_at - now).total_seconds()
        transaction.on_commit(lambda: _schedule([delivery.pk], countdown=delay))
    return False


def _endpoint_disable_failing(*, endpoint: WebhookEndpoint, now: datetime) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(disabled_at=now)
    audit_record(
        action="webhook.endpoint_disabled_failing",
        org=endpoint.partner,
        target=str(endpoint.pk),
        details={"url": endpoint.url, "failures": endpoint.failure_streak + 1},
    )
    admins = Membership.objects.filter(
        org_id=endpoint.partner_id, role=Role.PARTNER_FULL_ADMIN
    ).select_related("user")
    for membership in admins:
        email_owe(
            key=outbox_key("webhook_disabled", membership.user.email, endpoint.pk, now.isoformat()),
            kind="webhook_disabled",
            to=membership.user.email,
            template="webhook_disabled",
            # Named without its scheme: the email links only to our own pages.
            context={"url": endpoint.url.split("://", 1)[-1], "partner": endpoint.partner.name},
            org_id=endpoint.partner_id,
            language=membership.user.language or None,
        )


@transaction.atomic
def webhook_replay(*, delivery: WebhookDelivery, actor: User) -> None:
    """Send a delivery again now (from the page), whatever happened to it before."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=timezone.now(), claimed_at=None
    )
    audit_record(
        action="webhook.replay",
        actor=actor,
        org=delivery.endpoint.partner,
        target=str(delivery.pk),
    )
    delivery_id = delivery.pk
    transaction.on_commit(lambda: _schedule([delivery_id]))


def webhook_due_ids(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Pending deliveries due now whose task was lost (worker died, broker down)."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT),
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now - timedelta(minutes=1),
            endpoint__disabled_at__isnull=True,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


# ---- the audit log as the event source -----------------------------------------------------
# Every change of the lifecycle writes one audit row in its own transaction (STYLE rule 2), so
# owing the event where the audit row is written puts it in the same transaction as the change
# without touching each service. The partners told are those managing the org (or the one the
# row names in ``details["partner_id"]``, e.g. a declined consent whose relationship is gone).
AUDIT_EVENTS: dict[str, str] = {
    action: webhook_type(event)
    for action, event in {
        "trial.start": Event.TRIAL_STARTED,
        "trial.consent_accept": Event.CONSENT_ACCEPTED,
        "trial.consent_decline": Event.CONSENT_DECLINED,
        "consent.expire": Event.CONSENT_EXPIRED,
        "trial.extension_approve": Event.EXTENSION_APPROVED,
        "trial.extension_refuse": Event.EXTENSION_REFUSED,
        "service.failed": Event.PROVISIONING_FAILED,
        "service.provisioned": Event.PROVISIONING_DONE,
        "order.setup_complete": Event.ORDER_SET_UP,
        "subscription.suspend": Event.SUBSCRIPTION_SUSPENDED,
        "subscription.renew": Event.SUBSCRIPTION_RENEWED,
        "subscription.buy_request": Event.BUY_REQUESTED,
        "org.deletion_mark": Event.DELETION_MARKED,
        "org.deletion_warn": Event.DELETION_WARNED,
        "org.delete": Event.ORG_DELETED,
    }.items()
}
# Events that are no audited change: the T11 notices of a trial's last week and end day are
# owed by their sweep (``trials.sweeps``) with ``webhooks_owe_bulk``.
NOTICE_EVENTS = frozenset({webhook_type(Event.TRIAL_ENDING), webhook_type(Event.TRIAL_ENDED)})
assert set(AUDIT_EVENTS.values()) | NOTICE_EVENTS == set(EVENT_TYPES), "an event nobody owes"


def webhooks_owe_for_audit(
    *,
    action: str,
    rows: list[tuple[int | None, str, str]],
    at: datetime,
    details: Mapping[str, Any],
) -> int:
    """Owe the event of an audited change to every subscribed partner of the orgs in ``rows``
    (org id, org name, target). Costs one query when no endpoint wants it."""
    event_type = AUDIT_EVENTS.get(action)
    if event_type is None:
        return 0
    org_ids = {org_id for org_id, _name, _target in rows if org_id is not None}
    named_partner = details.get("partner_id")
    endpoints = WebhookEndpoint.objects.filter(disabled_at__isnull=True)
    if named_partner:
        endpoints = endpoints.filter(partner_id=named_partner)
    else:
        endpoints = endpoints.filter(partner__customer_relationships__customer_id__in=org_ids)
    wanted = {e.partner_id for e in endpoints if event_type in e.event_types}
    if not wanted:
        return 0
    partner_of_org: dict[int, set[int]] = {}
    if named_partner:
        partner_of_org = {org_id: {int(named_partner)} for org_id in org_ids}
    else:
        from .models import CustomerRelationship

        for partner_id, customer_id in CustomerRelationship.objects.filter(
            customer_id__in=org_ids, partner_id__in=wanted
        ).values_list("partner_id", "customer_id"):
            partner_of_org.setdefault(customer_id, set()).add(partner_id)
    partners = {p.pk: p for p in Organization.objects.filter(pk__in=wanted)}
    owed = 0
    for org_id, org_name, target in rows:
        for partner_id in partner_of_org.get(org_id or 0, set()) & wanted:
            data = {
                "customer": {"id": org_id, "name": org_name},
                "target": target,
                "details": {k: v for k, v in details.items() if k != "partner_id"},
            }
            key = f"{event_type}:{partner_id}:{org_id}:{target}:{at.isoformat()}"
            if webhook_owe(partner=partners[partner_id], event_type=event_type, key=key, data=data):
                owed += 1
    return owed
