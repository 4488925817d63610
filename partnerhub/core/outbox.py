"""The email outbox: owe an email inside a transaction, deliver it after commit, exactly once.

`email_owe` (and `partnerhub.core.sweeps.emails_owe_bulk`) are called by services inside their
transaction. The message is rendered, and its MIME bytes built, when it is owed: delivery sends
the stored bytes and never renders or re-sanitises anything (issue 11).

Delivery works in batches (``outbox_deliver_batch``):

1. **claim**: one transaction stamps up to ``BATCH_SIZE`` unsent, unclaimed rows with this
   delivery's ``claim_token`` (a conditional UPDATE, so two workers never claim one row) and
   reads back what it won;
2. **send** the stored bytes over one SMTP connection;
3. **mark**: each accepted email is marked sent at once (one UPDATE, no transaction of its own),
   so a worker killed with SIGKILL at any instant can leave at most the one email that was on
   the wire unmarked. Marking a whole batch at the end would make a kill re-send every email
   already accepted in it; ``OUTBOX_MARK_EVERY`` trades that window for fewer statements.

A claim older than ``CLAIM_TIMEOUT`` is abandoned and may be retaken; a worker that starts
releases at once the claims of the worker that ran under its node name before it (it was
killed) and relays the outbox (``partnerhub.core.tasks``), so a crash delays emails by seconds.
"""

from __future__ import annotations

import binascii
import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.header import Header
from email.utils import formatdate
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import OutboxEmail

logger = logging.getLogger(__name__)

# A claim older than this is considered abandoned by a crashed worker and may be retaken. A
# batch takes well under a second to send; a minute leaves room for a slow SMTP server (issue 9).
CLAIM_TIMEOUT = timedelta(minutes=1)
MAX_ATTEMPTS = 8
BATCH_SIZE = 100

# Identifies this process's claims: "<node>:<boot>:<batch>". A restarted worker (same node
# name, new boot) knows every claim of its node with another boot was left by a killed process.
BOOT_ID = uuid.uuid4().hex[:12]


def absolute_url(path: str) -> str:
    """An absolute link for an email: every link in every email starts with ``SITE_URL`` (read
    from the environment by the settings; the dev server's address by default)."""
    if path.startswith(("http://", "https://")):
        return path
    return f"{settings.SITE_URL}/{path.lstrip('/')}"


def outbox_key(*parts: object) -> str:
    """Build the unique key of an owed email from its parts (kind, recipient, object, deadline)."""
    return ":".join(str(part).lower() for part in parts)[:255]


# Who reads an email in which language and time zone is decided above this layer (by
# ``partnerhub.accounts.language.recipient_locales``, registered in AccountsConfig.ready): a
# callable taking (address, org id) pairs and returning, per lower-cased (address, org id), an
# object with ``language`` and ``time_zone``.
_recipient_locales: list[Callable[[Iterable[tuple[str, int | None]]], Mapping[Any, Any]]] = []


def recipient_locales_register(
    resolver: Callable[[Iterable[tuple[str, int | None]]], Mapping[Any, Any]],
) -> None:
    """Register the one resolver of recipients' languages and time zones (issue 14)."""
    _recipient_locales[:] = [resolver]


def recipient_locales(pairs: Iterable[tuple[str, int | None]]) -> dict[Any, tuple[str, str]]:
    """(language, time zone) per lower-cased (address, org id); empty without a resolver."""
    if not _recipient_locales:
        return {}
    return {
        key: (found.language, found.time_zone)
        for key, found in _recipient_locales[0](list(pairs)).items()
    }


# A dry run (``lifecycle_tick(dry_run=True)``) owes its emails as usual — keys, recipients,
# rows, counts — inside a transaction it rolls back, so nobody ever reads their content: they
# are not rendered. A dry run that owes 20,000 trial notices would otherwise spend minutes in
# templates, holding its transaction open (the support console runs one as a page request).
_COUNT_ONLY: ContextVar[bool] = ContextVar("outbox_count_only", default=False)
NOT_RENDERED = "(dry run: not rendered)"


@contextmanager
def emails_counted_only() -> Iterator[None]:
    """Owe emails without rendering them, for a run that will be rolled back."""
    token = _COUNT_ONLY.set(True)
    try:
        yield
    finally:
        _COUNT_ONLY.reset(token)


def emails_rendered() -> bool:
    """False inside ``emails_counted_only``."""
    return not _COUNT_ONLY.get()


def email_render(
    *,
    template: str,
    context: Mapping[str, Any],
    language: str | None = None,
    time_zone: str | None = None,
) -> tuple[str, str, str]:
    """Render ``emails/<template>_subject.txt``, ``.txt`` and ``.html`` in the given language,
    dates and times in the given time zone (the recipient's)."""
    if not emails_rendered():
        return NOT_RENDERED, NOT_RENDERED, NOT_RENDERED
    ctx = {"site_url": settings.SITE_URL, **context}
    zone = timezone.override(time_zone) if time_zone else nullcontext()
    with translation.override(language or settings.LANGUAGE_CODE), zone:
        subject = render_to_string(f"emails/{template}_subject.txt", ctx)
        text = render_to_string(f"emails/{template}.txt", ctx)
        html = render_to_string(f"emails/{template}.html", ctx)
    return " ".join(subject.split()), text, html


# --- MIME bytes, built once per distinct content -------------------------------------------


def _qp(text: str) -> bytes:
    """Quoted-printable UTF-8 with CRLF line ends (SMTP's)."""
    lines = text.replace("\r\n", "\n").split("\n")
    # b2a_qp breaks long lines with "=\\n" (soft breaks): SMTP wants CRLF there too.
    return b"\r\n".join(
        binascii.b2a_qp(line.encode("utf-8")).replace(b"\n", b"\r\n") for line in lines
    )


def _header(value: str) -> str:
    if value.isascii() and len(value) < 900:
        return value
    return Header(value, "utf-8").encode()


def _header_address(address: str) -> str:
    return sanitize_address(address, "utf-8")


@dataclass(frozen=True)
class MimeContent:
    """The MIME message of one content without its per-recipient headers (To, Date,
    Message-ID): every recipient of the same content shares it."""

    head: bytes
    body: bytes

    @classmethod
    def build(cls, *, subject: str, text: str, html: str) -> MimeContent:
        """The message as Django's EmailMultiAlternatives would send it (multipart/alternative,
        UTF-8 parts), written directly: quoted-printable bodies (binascii, in C) and headers
        encoded once. Django's ``message()`` costs as much as rendering the templates."""
        boundary = f"===={uuid.uuid4().hex}===="
        head = [
            "MIME-Version: 1.0",
            f'Content-Type: multipart/alternative; boundary="{boundary}"'
            if html
            else 'Content-Type: text/plain; charset="utf-8"',
            f"Subject: {_header(subject)}",
            f"From: {_header_address(settings.DEFAULT_FROM_EMAIL)}",
        ]
        if not html:
            head.append("Content-Transfer-Encoding: quoted-printable")
            return cls(head=("\r\n".join(head) + "\r\n").encode("ascii"), body=_qp(text))
        parts = []
        for content, subtype in ((text, "plain"), (html, "html")):
            parts.append(
                f"--{boundary}\r\n"
                f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
                "Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode("ascii")
                + _qp(content)
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode("ascii")
        return cls(head=("\r\n".join(head) + "\r\n").encode("ascii"), body=body)

    def for_recipient(self, *, to: str, key: str, at: datetime) -> bytes:
        """The complete message for one recipient. The Message-ID is derived from the outbox
        key, so a re-sent email (after a crash) is recognisably the same message."""
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") or "partnerhub.local"
        headers = (
            f"To: {sanitize_address(to, 'utf-8')}\r\n"
            f"Date: {formatdate(at.timestamp(), usegmt=True)}\r\n"
            f"Message-ID: <{digest}@{domain}>\r\n"
        ).encode("ascii")
        return self.head + headers + b"\r\n" + self.body


def email_owe(
    *,
    key: str,
    kind: str,
    to: str,
    template: str,
    context: Mapping[str, Any],
    org_id: int | None = None,
    language: str | None = None,
    time_zone: str | None = None,
) -> OutboxEmail | None:
    """Record that ``to`` is owed an email; returns None if that key was owed already.

    Rendered in the recipient's language and time zone (``recipient_locales``) unless the
    caller names them. Must run inside the caller's transaction. Delivery is scheduled after
    commit.
    """
    if OutboxEmail.objects.filter(key=key).exists():
        return None
    if language is None or time_zone is None:
        found = recipient_locales([(to, org_id)]).get((to.strip().lower(), org_id))
        if found is not None:
            language = language or found[0]
            time_zone = time_zone or found[1]
    subject, text, html = email_render(
        template=template, context=context, language=language, time_zone=time_zone
    )
    mime = MimeContent.build(subject=subject, text=text, html=html)
    try:
        with transaction.atomic():
            email = OutboxEmail.objects.create(
                key=key,
                kind=kind,
                to_email=to,
                subject=subject,
                body_text=text,
                body_html=html,
                message=mime.for_recipient(to=to, key=key, at=timezone.now()),
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


# --- delivery ------------------------------------------------------------------------------


def _claimable(now: datetime) -> Q:
    return Q(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS) & (
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT)
    )


def claim_token(node: str | None = None) -> str:
    node = node or f"local-{os.getpid()}"
    return f"{node}:{BOOT_ID}:{uuid.uuid4().hex[:12]}"[:64]


@dataclass
class Claimed:
    pk: int
    to_email: str
    subject: str
    body_text: str
    body_html: str
    message: bytes | memoryview
    attempts: int


def outbox_claim_batch(
    *, ids: Sequence[int] | None = None, token: str, limit: int = BATCH_SIZE
) -> list[Claimed]:
    """Claim up to ``limit`` unsent emails (the given ids, or the oldest owed) in one
    transaction: one conditional UPDATE and one SELECT of what this token won."""
    now = timezone.now()
    with transaction.atomic():
        candidates = OutboxEmail.objects.filter(_claimable(now))
        if ids is not None:
            candidates = candidates.filter(pk__in=list(ids)[:limit])
        else:
            oldest = (
                OutboxEmail.objects.filter(_claimable(now))
                .order_by("created_at")
                .values("pk")[:limit]
            )
            candidates = candidates.filter(pk__in=oldest)
        if not candidates.order_by().update(claimed_at=now, claim_token=token):
            return []
        return [
            Claimed(*row)
            for row in OutboxEmail.objects.filter(claim_token=token, sent_at__isnull=True)
            .order_by("pk")
            .values_list(
                "pk", "to_email", "subject", "body_text", "body_html", "message", "attempts"
            )
        ]


class StoredEmailMessage(EmailMultiAlternatives):
    """An email whose MIME bytes were built when it was owed: any Django email backend sends it
    (SMTP sends the stored bytes; locmem keeps it for tests with its subject, body and parts)."""

    def __init__(self, claimed: Claimed) -> None:
        super().__init__(
            subject=claimed.subject,
            body=claimed.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[claimed.to_email],
        )
        if claimed.body_html:
            self.attach_alternative(claimed.body_html, "text/html")
        self._stored = bytes(claimed.message)

    def message(self, *args: Any, **kwargs: Any) -> Any:
        if not self._stored:  # owed before MIME bytes were stored
            return super().message(*args, **kwargs)
        return _StoredBytes(self._stored)


class _StoredBytes:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def as_bytes(self, *args: Any, **kwargs: Any) -> bytes:
        return self.raw

    def as_string(self, *args: Any, **kwargs: Any) -> str:
        return self.raw.decode("utf-8", "replace")


@dataclass
class DeliveryResult:
    sent: int = 0
    claimed: int = 0
    failed: list[int] = field(default_factory=list)


def outbox_deliver_batch(
    *,
    ids: Sequence[int] | None = None,
    limit: int = BATCH_SIZE,
    connection: Any = None,
    node: str | None = None,
) -> DeliveryResult:
    """Claim a batch (``ids``, or the oldest owed), send it over one connection, mark each
    accepted email sent. Emails that fail are released with their error for a retry."""
    token = claim_token(node)
    batch = outbox_claim_batch(ids=ids, token=token, limit=limit)
    result = DeliveryResult(claimed=len(batch))
    if not batch:
        return result
    mark_every = max(1, int(getattr(settings, "OUTBOX_MARK_EVERY", 1)))
    accepted: list[int] = []

    def mark() -> None:
        if accepted:
            OutboxEmail.objects.filter(pk__in=accepted, claim_token=token).update(
                sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
            )
            result.sent += len(accepted)
            accepted.clear()

    own = connection is None
    connection = connection or get_connection()
    try:
        if own:
            connection.open()
        send = _sender(connection)
        for position, email in enumerate(batch):
            try:
                send(email)
            except Exception as exc:
                mark()
                OutboxEmail.objects.filter(pk=email.pk, claim_token=token).update(
                    claimed_at=None,
                    claim_token="",
                    attempts=F("attempts") + 1,
                    last_error=str(exc)[:2000],
                )
                result.failed.append(email.pk)
                logger.warning("Delivery of owed email %s failed: %s", email.pk, exc)
                if position + 1 < len(batch) and not _connection_alive(connection):
                    _release(token, [e.pk for e in batch[position + 1 :]])
                    result.failed.extend(e.pk for e in batch[position + 1 :])
                    break
                continue
            accepted.append(email.pk)
            if len(accepted) >= mark_every:
                mark()
        mark()
    finally:
        if own:
            connection.close()
    return result


def _sender(connection: Any) -> Any:
    """How one claimed email is sent. Django's SMTP backend gets the stored bytes straight onto
    its open connection (no message object, no address parsing per email: the envelope sender
    is sanitised once per batch); any other backend gets a ``StoredEmailMessage``."""
    if isinstance(connection, SmtpBackend):
        connection.open()
        sender = sanitize_address(settings.DEFAULT_FROM_EMAIL, "utf-8")

        def send_smtp(email: Claimed) -> None:
            if not email.message or not email.to_email.isascii():
                connection.send_messages([StoredEmailMessage(email)])
                return
            if connection.connection is None:
                raise ConnectionError("The SMTP connection is closed.")
            connection.connection.sendmail(sender, [email.to_email], bytes(email.message))

        return send_smtp

    def send_any(email: Claimed) -> None:
        if not connection.send_messages([StoredEmailMessage(email)]):
            raise ConnectionError("The email backend did not send the message.")

    return send_any


def _connection_alive(connection: Any) -> bool:
    smtp: Any = getattr(connection, "connection", "n/a")
    if smtp == "n/a":  # not an SMTP backend (locmem, console): each send stands alone
        return True
    if smtp is None:
        return False
    try:
        return smtp.noop()[0] == 250
    except Exception:
        return False


def _release(token: str, ids: list[int]) -> None:
    OutboxEmail.objects.filter(pk__in=ids, claim_token=token, sent_at__isnull=True).update(
        claimed_at=None, claim_token=""
    )


def outbox_deliver_one(*, email_id: int, connection: Any = None, node: str | None = None) -> bool:
    """Send one owed email if it is still unsent and we win the claim. True when sent; raises
    when the send failed (the retrying task counts on it)."""
    result = outbox_deliver_batch(ids=[email_id], connection=connection, node=node)
    if result.failed:
        raise RuntimeError(f"Delivery of owed email {email_id} failed; it will be retried.")
    return result.sent == 1


def outbox_claims_release(*, node: str) -> int:
    """A worker that starts under ``node`` releases every claim its node made with another
    boot id: that process is gone (killed), its claims will never be finished (issue 9)."""
    return (
        OutboxEmail.objects.filter(
            sent_at__isnull=True,
            claimed_at__isnull=False,
            claim_token__startswith=f"{node}:",
        )
        .exclude(claim_token__startswith=f"{node}:{BOOT_ID}:")
        .update(claimed_at=None, claim_token="")
    )


def outbox_unsent_ids(*, older_than: timedelta = timedelta(0), limit: int = 1000) -> list[int]:
    """Owed emails still unsent (and unclaimed or abandoned), oldest first."""
    now = timezone.now()
    return list(
        OutboxEmail.objects.filter(_claimable(now), created_at__lte=now - older_than)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def outbox_flush(*, limit: int = 10_000) -> int:
    """Deliver every owed email synchronously over one SMTP connection (relay, tests, demo)."""
    sent = 0
    failed: set[int] = set()
    with get_connection() as connection:
        while sent + len(failed) < limit:
            result = outbox_deliver_batch(
                limit=min(BATCH_SIZE, limit - sent - len(failed)), connection=connection
            )
            sent += result.sent
            failed.update(result.failed)
            if not result.claimed or result.failed:
                break
    return sent
