"""Writes about organizations and people. Keyword-only, typed, atomic, audited."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from .choices import OrgKind, PartnerAccess
from .lifecycle import region_for_country
from .models import AuditEntry, CustomerRelationship, Membership, Organization, User

# T2/T3: a partner person working in a customer's Control Hub acts for that customer. While it
# does, every audit row names both: the person (and their partner) and the customer's org.
_acting: ContextVar[tuple[str, str] | None] = ContextVar("audit_acting_for", default=None)


@contextmanager
def acting_for(*, partner: Organization, customer: Organization) -> Iterator[None]:
    """Audit every change made inside the block as the partner acting for ``customer``."""
    token = _acting.set((partner.name, customer.name))
    try:
        yield
    finally:
        _acting.reset(token)


def audit_actor(actor: User | None) -> tuple[str, dict[str, str]]:
    """The actor label of an audit row and, inside ``acting_for``, the details naming both
    sides; for writers of bulk audit rows (license changes) as well as ``audit_record``."""
    label = str(actor) if actor else "system"
    acting = _acting.get()
    if acting is None or actor is None:
        return label, {}
    partner_name, customer_name = acting
    return (
        f"{actor} ({partner_name}) for {customer_name}"[:255],
        {"acting_partner": partner_name, "acting_for": customer_name},
    )


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    org: Organization | None = None,
    target: str = "",
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Write one audit row. ``actor=None`` means the lifecycle (Celery beat) did it. Inside
    ``acting_for`` the row names the partner person and the customer they act for.

    A lifecycle change also owes its webhook event here, in the same transaction (issue 15)."""
    label, acting = audit_actor(actor)
    if acting:
        details = {**(details or {}), **acting}
    at = at or timezone.now()
    entry = AuditEntry.objects.create(
        at=at,
        actor=actor,
        actor_label=label[:255],
        action=action,
        org_id_value=org.pk if org else None,
        org_name=org.name if org else "",
        target=target,
        details=details or {},
    )
    audit_events_owe(action, [(org.pk, org.name, target)] if org else [], at, details or {})
    return entry


def audit_events_owe(
    action: str, rows: list[tuple[int | None, str, str]], at: datetime, details: dict[str, Any]
) -> None:
    """Owe the webhook event of audited changes (``webhooks.AUDIT_EVENTS``) in the caller's
    transaction; audit writers of their own (set-based deletion) call it beside their INSERT."""
    from .webhooks import AUDIT_EVENTS, webhooks_owe_for_audit

    if action in AUDIT_EVENTS and rows:
        webhooks_owe_for_audit(action=action, rows=rows, at=at, details=details)


def audit_bulk(
    *,
    action: str,
    rows: Iterable[tuple[int, str, str]],
    at: Any,
    details: dict[str, Any] | None = None,
) -> None:
    """One audit row per change (STYLE rule 2), written in one INSERT. ``rows`` are
    (org id, org name, target)."""
    rows = list(rows)
    AuditEntry.objects.bulk_create(
        AuditEntry(
            at=at,
            actor=None,
            actor_label="system",
            action=action,
            org_id_value=org_id,
            org_name=org_name,
            target=target,
            details=details or {},
        )
        for org_id, org_name, target in rows
    )
    audit_events_owe(action, list(rows), at, details or {})


@transaction.atomic
def customer_org_create(
    *,
    name: str,
    country: str,
    vertical: str = "",
    actor: User | None = None,
    created: datetime | None = None,
) -> Organization:
    """Create a customer org; its data-location region follows from the country (T2)."""
    org = Organization.objects.create(
        kind=OrgKind.CUSTOMER,
        name=" ".join(name.split()),
        country=country,
        vertical=vertical,
        data_region=region_for_country(country),
        created=created or timezone.now(),
    )
    audit_record(action="org.create", actor=actor, org=org)
    return org


@transaction.atomic
def user_create(
    *,
    email: str,
    org: Organization | None,
    role: str | None = None,
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
    actor: User | None = None,
) -> User:
    """Create a person in an org, optionally with a role there."""
    user = User.objects.create_user(
        email=email, password=password, org=org, first_name=first_name, last_name=last_name
    )
    if org is not None and role is not None:
        Membership.objects.create(user=user, org=org, role=role)
    audit_record(action="user.create", actor=actor, org=org, target=user.email)
    return user


@transaction.atomic
def relationship_grant(
    *,
    partner: Organization,
    customer: Organization,
    access: str = PartnerAccess.FULL_ADMIN,
    actor: User | None = None,
) -> CustomerRelationship:
    """Put ``customer`` on ``partner``'s customer list with the given access (T2, T3)."""
    if partner.kind != OrgKind.PARTNER or customer.kind != OrgKind.CUSTOMER:
        raise ValueError("A relationship links a partner org to a customer org.")
    rel, created = CustomerRelationship.objects.update_or_create(
        partner=partner, customer=customer, defaults={"access": access}
    )
    audit_record(
        action="relationship.grant" if created else "relationship.change",
        actor=actor,
        org=customer,
        target=partner.name,
        details={"access": access},
    )
    return rel


def deletion_recheck(*, org_ids: Iterable[int | None]) -> None:
    """D1: these orgs may no longer hold licenses or manage customers; the next tick decides
    their mark again. Called inside the transaction of every change that ends or cancels a
    subscription or removes a customer relationship (the idle tick reads only flagged orgs)."""
    ids = sorted({pk for pk in org_ids if pk is not None})
    # Unconditional, even where the flag is set already: the UPDATE takes the org's row lock,
    # so it waits for a D1 chunk that holds it (and flags the org again after that chunk
    # cleared it), or makes that chunk skip the org (SKIP LOCKED) until this change commits.
    for start in range(0, len(ids), 1000):
        Organization.objects.filter(pk__in=ids[start : start + 1000]).update(deletion_recheck=True)


@transaction.atomic
def relationship_revoke(
    *, partner: Organization, customer: Organization, actor: User | None = None
) -> bool:
    """Remove ``customer`` from ``partner``'s list (T3: consent cancelled or expired)."""
    deleted, _ = CustomerRelationship.objects.filter(partner=partner, customer=customer).delete()
    if deleted:
        deletion_recheck(org_ids=[partner.pk])
        audit_record(action="relationship.revoke", actor=actor, org=customer, target=partner.name)
    return bool(deleted)


def org_deletion_mark_clear(*, org: Organization, actor: User | None = None) -> bool:
    """D6: a new trial or subscription removes the deletion mark (and any warning)."""
    cleared = Organization.objects.filter(pk=org.pk, deletion_marked_at__isnull=False).update(
        deletion_marked_at=None, deletion_warned_at=None
    )
    if cleared:
        org.deletion_marked_at = org.deletion_warned_at = None
        audit_record(action="org.deletion_unmark", actor=actor, org=org, details={"rule": "D6"})
    return bool(cleared)


__all__ = [
    "OrgKind",
    "audit_record",
    "customer_org_create",
    "org_deletion_mark_clear",
    "relationship_grant",
    "relationship_revoke",
    "user_create",
]


@transaction.atomic
def person_locale_set(
    *,
    person: User,
    language: str | None = None,
    time_zone: str | None = None,
    audited: bool = True,
) -> bool:
    """Issue 14: store the language and/or time zone a person reads (``""`` time zone: their
    org's). A person's own preference: one UPDATE, audited when the person changes it
    themselves (not when the first sign-in takes the browser's language). True if it changed."""
    changes: dict[str, str] = {}
    if language is not None and language != person.language:
        changes["language"] = language
    if time_zone is not None and time_zone != person.time_zone:
        changes["time_zone"] = time_zone
    if not changes:
        return False
    User.objects.filter(pk=person.pk).update(**changes)
    for name, value in changes.items():
        setattr(person, name, value)
    if not audited:
        return True
    audit_record(
        action="person.locale_set",
        actor=person,
        org=person.org,
        target=person.email,
        details=changes,
    )
    return True
