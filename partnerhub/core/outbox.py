"""The email outbox: owe an email inside a transaction, deliver it after commit, exactly once.

`email_owe` is called by services inside their transaction. Delivery claims the row with a
conditional UPDATE, so two workers (or a worker and the relay) never both send it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import OutboxEmail

logger = logging.getLogger(__name__)

# A claim older than this is considered abandoned by a crashed worker and may be retaken.
CLAIM_TIMEOUT = timedelta(minutes=10)
MAX_ATTEMPTS = 8


def absolute_url(path: str) -> str:
    """An absolute link for an email: every link in every email starts with ``SITE_URL`` (read
    from the environment by the settings; the dev server's address by default)."""
    if path.startswith(("http://", "https://")):
        return path
    return f"{settings.SITE_URL}/{path.lstrip('/')}"


def outbox_key(*parts: object) -> str:
    """Build the unique key of an owed email from its parts (kind, recipient, object, deadline)."""
    return ":".join(str(part).lower() for part in parts)[:255]


def email_render(
    *, template: str, context: Mapping[str, Any], language: str | None = None
) -> tuple[str, str, str]:
    """Render ``emails/<template>_subject.txt``, ``.txt`` and ``.html`` in the given language."""
    ctx = {"site_url": settings.SITE_URL, **context}
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"emails/{template}_subject.txt", ctx)
        text = render_to_string(f"emails/{template}.txt", ctx)
        html = render_to_string(f"emails/{template}.html", ctx)
    return " ".join(subject.split()), text, html


def email_owe(
    *,
    key: str,
    kind: str,
    to: str,
    template: str,
    context: Mapping[str, Any],
    org_id: int | None = None,
    language: str | None = None,
) -> OutboxEmail | None:
    """Record that ``to`` is owed an email; returns None if that key was owed already.

    Must run inside the caller's transaction. Delivery is scheduled after commit.
    """
    if OutboxEmail.objects.filter(key=key).exists():
        return None
    subject, text, html = email_render(template=template, context=context, language=language)
    try:
        with transaction.atomic():
            email = OutboxEmail.objects.create(
                key=key,
                kind=kind,
                to_email=to,
                subject=subject,
                body_text=text,
                body_html=html,
                org_id=org_id,
            )
    except IntegrityError:
        # A concurrent tick owed it first: the unique key did its job.
        return None
    transaction.on_commit(lambda: _schedule_delivery(email.pk))
    return email


def emails_owe(*, items: Iterable[Mapping[str, Any]]) -> int:
    """Owe several emails; returns how many were new."""
    return sum(1 for item in items if email_owe(**item) is not None)


def _schedule_delivery(email_id: int) -> None:
    from .tasks import outbox_deliver

    try:
        outbox_deliver.delay(email_id)
    except Exception:  # broker down: the relay will pick it up, nothing is lost
        logger.warning("Could not queue delivery of owed email %s; the relay will.", email_id)


def outbox_claim(*, email_id: int, now: Any = None) -> bool:
    """Claim an unsent email for delivery; True if this caller won the claim."""
    now = now or timezone.now()
    claimed = OutboxEmail.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT),
        pk=email_id,
        sent_at__isnull=True,
    ).update(claimed_at=now)
    return claimed == 1


def outbox_deliver_one(*, email_id: int, connection: Any = None) -> bool:
    """Send one owed email if it is still unsent and we win the claim. True when sent."""
    if not outbox_claim(email_id=email_id):
        return False
    email = OutboxEmail.objects.get(pk=email_id)
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to_email],
        connection=connection,
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    try:
        message.send()
    except Exception as exc:
        OutboxEmail.objects.filter(pk=email_id).update(
            claimed_at=None, attempts=email.attempts + 1, last_error=str(exc)[:2000]
        )
        raise
    OutboxEmail.objects.filter(pk=email_id).update(
        sent_at=timezone.now(), attempts=email.attempts + 1, last_error=""
    )
    return True


def outbox_unsent_ids(*, older_than: timedelta = timedelta(0), limit: int = 1000) -> list[int]:
    """Owed emails still unsent (and unclaimed or abandoned), oldest first."""
    now = timezone.now()
    return list(
        OutboxEmail.objects.filter(
            Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT),
            sent_at__isnull=True,
            attempts__lt=MAX_ATTEMPTS,
            created_at__lte=now - older_than,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def outbox_flush(*, limit: int = 10_000) -> int:
    """Deliver every owed email synchronously over one SMTP connection (relay, tests, demo)."""
    sent = 0
    with get_connection() as connection:
        for email_id in outbox_unsent_ids(limit=limit):
            try:
                sent += outbox_deliver_one(email_id=email_id, connection=connection)
            except Exception:
                logger.exception("Delivery of owed email %s failed; will retry.", email_id)
    return sent
