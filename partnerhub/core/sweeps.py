"""Plumbing shared by the lifecycle's due-sweeps (STYLE rule 4): results, chunked row locks,
bulk audit rows and bulk owed emails.

A sweep selects what is due as of ``now`` with one set-based query per chunk, acts with bulk
updates, records that it was done, and owes its emails in the same transaction. It is safe to run
late, twice, or twice at once:

* on PostgreSQL each chunk locks its rows with ``SELECT … FOR UPDATE SKIP LOCKED``, so a second
  tick running at the same moment takes other rows (or none) and, once the first commits, finds
  them no longer due;
* on SQLite every transaction is ``BEGIN IMMEDIATE`` (settings), which takes the database's write
  lock before the due rows are read, so two ticks serialise chunk by chunk;
* decisions about a whole batch (the deletion safety limit) take ``sweep_lock``: a
  transaction-scoped advisory lock on PostgreSQL, the IMMEDIATE write lock on SQLite;
* the outbox's unique key makes "two emails for one key" impossible whatever happens.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from .models import OutboxEmail
from .outbox import MimeContent, email_render, emails_rendered, recipient_locales

logger = logging.getLogger(__name__)

CHUNK_SIZE = 500
REPORT_SAMPLE = 50  # labels kept per sweep for --dry-run and logs

M = TypeVar("M", bound=Model)


@dataclass
class SweepResult:
    """What one sweep did (or, in a dry run, would do)."""

    name: str
    rule: str
    count: int = 0
    emails: int = 0
    items: list[str] = field(default_factory=list)

    def add(self, labels: Iterable[str]) -> None:
        for label in labels:
            self.count += 1
            if len(self.items) < REPORT_SAMPLE:
                self.items.append(label)


# A fan-out chunk (issue 11): the sweep acts only on due rows whose id is in [first, last].
PkRange = tuple[int, int]


def within_range(queryset: QuerySet[M], within: PkRange | None) -> QuerySet[M]:
    if within is None:
        return queryset
    return queryset.filter(pk__gte=within[0], pk__lte=within[1])


def chunks(seq: Sequence[Any], size: int = CHUNK_SIZE) -> Iterator[Sequence[Any]]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


def lock_rows(queryset: QuerySet[M]) -> QuerySet[M]:
    """Row locks for a chunk: FOR UPDATE SKIP LOCKED where the database has it (PostgreSQL).

    SQLite has no row locks; there the chunk's IMMEDIATE transaction holds the write lock.
    """
    features = connection.features
    if features.has_select_for_update_skip_locked:
        if features.has_select_for_update_of:
            return queryset.select_for_update(skip_locked=True, of=("self",))
        return queryset.select_for_update(skip_locked=True)
    return queryset


@contextmanager
def sweep_lock(name: str) -> Iterator[None]:
    """A transaction that only one tick at a time may hold for ``name``.

    PostgreSQL: ``pg_advisory_xact_lock`` (released at commit or rollback). SQLite: the
    transaction itself, begun IMMEDIATE, holds the database's write lock.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            key = zlib.crc32(f"partnerhub:{name}".encode())
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
        yield


@dataclass(frozen=True)
class OwedEmail:
    """An email a sweep owes; ``key`` is unique (recipient, kind, object, deadline)."""

    key: str
    kind: str
    to: str
    template: str
    context: dict[str, Any]
    org_id: int | None = None
    language: str | None = None  # None: the recipient's (``outbox.recipient_locales``)
    time_zone: str | None = None


def emails_owe_bulk(items: Iterable[OwedEmail]) -> int:
    """Owe many emails inside the caller's transaction; returns how many were new.

    Keys owed before are found with one query per chunk (not one per email), the new rows are
    written with one INSERT, and delivery is queued after commit. A concurrent tick that owed the
    same key first makes the INSERT fail: then each row is retried on its own and the duplicate
    is skipped, so one key never becomes two emails.
    """
    wanted: dict[str, OwedEmail] = {}
    for item in items:
        wanted.setdefault(item.key, item)
    if not wanted:
        return 0
    keys = list(wanted)
    existing: set[str] = set()
    for part in chunks(keys):
        existing.update(OutboxEmail.objects.filter(key__in=part).values_list("key", flat=True))
    rows = []
    # Recipients of one notice share its content (T12 goes to every user of the org): render
    # each distinct (template, language, context) once, and build its MIME message once; each
    # recipient only gets its own To, Date and Message-ID headers.
    rendered: dict[tuple[Any, ...], tuple[str, str, str, MimeContent]] = {}
    counted_only = not emails_rendered()
    owed_at = timezone.now()
    # Each recipient's language and time zone, for the whole chunk at once (issue 14).
    new_keys = [key for key in keys if key not in existing]
    locales = recipient_locales(
        (wanted[key].to, wanted[key].org_id)
        for key in new_keys
        if wanted[key].language is None or wanted[key].time_zone is None
    )
    for key in new_keys:
        item = wanted[key]
        language, zone = item.language, item.time_zone
        found = locales.get((item.to.strip().lower(), item.org_id))
        if found is not None:
            language, zone = language or found[0], zone or found[1]
        cache_key = (
            (item.template, language, zone, repr(sorted(item.context.items())))
            if not counted_only
            else ("",)  # a dry run: one placeholder for every email (``emails_counted_only``)
        )
        if cache_key not in rendered:
            subject, text, html = email_render(
                template=item.template, context=item.context, language=language, time_zone=zone
            )
            rendered[cache_key] = (
                subject,
                text,
                html,
                MimeContent.build(subject=subject, text=text, html=html),
            )
        subject, text, html, mime = rendered[cache_key]
        rows.append(
            OutboxEmail(
                key=key,
                kind=item.kind,
                to_email=item.to,
                subject=subject,
                body_text=text,
                body_html=html,
                message=mime.for_recipient(to=item.to, key=key, at=owed_at),
                org_id=item.org_id,
            )
        )
    if not rows:
        return 0
    try:
        with transaction.atomic():
            created = OutboxEmail.objects.bulk_create(rows)
    except IntegrityError:
        created = []
        for row in rows:
            try:
                with transaction.atomic():
                    row.pk = None
                    row.save(force_insert=True)
                created.append(row)
            except IntegrityError:
                continue  # a concurrent tick owed it first
    ids = [row.pk for row in created if row.pk is not None]
    transaction.on_commit(lambda: schedule_delivery(ids))
    return len(created)


def schedule_delivery(ids: Sequence[int]) -> None:
    """Queue delivery after commit: one task per chunk of owed emails, delivered by the worker
    over one SMTP connection (``outbox_deliver_many``); each failure there gets its own retried
    task. A broker that is down loses nothing: the relay (beat, every 5 minutes) picks up
    whatever is still unsent."""
    if not ids or not getattr(settings, "OUTBOX_DELIVER_ON_COMMIT", True):
        return
    from .tasks import outbox_deliver_many

    for part in chunks(list(ids), 100):
        try:
            outbox_deliver_many.delay(list(part))
        except Exception:
            logger.warning("Could not queue %d owed emails; the relay will deliver them.", len(ids))
            return
