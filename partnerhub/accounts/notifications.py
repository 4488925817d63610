"""Partner notifications: the in-app feed of every person of a partner, and the same events by
email to the partner's admins (each owed through the outbox, one unique key per event and
person).

It sits at the accounts layer so that services of licensing, trials and customers can owe a
notice inside their own transaction: ``notification_owe`` for one event, ``notifications_owe_bulk``
for a sweep's chunk. The feed keeps everything; a person may turn the email off per kind
(``NotificationEmailOptOut``). Deletion notices (D1 mark, D3 warning) are feed-only (D8).
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Func, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from partnerhub.core.outbox import absolute_url, outbox_key
from partnerhub.core.sweeps import OwedEmail, emails_owe_bulk

from .choices import (
    EMAILED_NOTIFICATION_KINDS,
    FEED_ONLY_NOTIFICATION_KINDS,
    PARTNER_ROLES,
    NotificationKind,
)
from .models import Membership, Notification, NotificationEmailOptOut, Organization, User

NOTICE_TEMPLATE = "partner_notice"
# Kinds whose email has a template of its own (more detail than the shared notice).
NOTICE_TEMPLATES = {
    NotificationKind.CONSENT_EXPIRED: "consent_expired",
    NotificationKind.EXTENSION_APPROVED: "extension_decided",
    NotificationKind.EXTENSION_REFUSED: "extension_decided",
    NotificationKind.PROVISIONING_FAILED: "provisioning_failed",
}


def notice_template(kind: str) -> str:
    """The email template of a notice kind: its own, or the shared ``partner_notice``."""
    return NOTICE_TEMPLATES.get(kind, NOTICE_TEMPLATE)  # type: ignore[call-overload]


@dataclass(frozen=True)
class Notice:
    """One event a partner is told about."""

    partner_id: int
    kind: str
    key: str
    link_path: str
    customer_id: int | None = None
    customer_name: str = ""
    context: Mapping[str, Any] = field(default_factory=dict)
    # Empty: the kind's template (``notice_template``).
    template: str = ""


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _partner_people(partner_ids: set[int]) -> dict[int, list[tuple[int, str, str]]]:
    """Every active person with a partner role, as (user id, email, language), per partner."""
    people: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for org_id, user_id, email, language in (
        Membership.objects.filter(
            org_id__in=partner_ids, role__in=PARTNER_ROLES, user__is_active=True
        )
        .order_by("org_id", "user__email")
        .values_list("org_id", "user_id", "user__email", "user__language")
    ):
        people[org_id].append((user_id, email, language))
    return people


def notifications_owe_bulk(notices: Iterable[Notice], *, now: datetime | None = None) -> int:
    """Put each notice in the feed of every person of its partner and owe the email to those
    who did not turn it off; inside the caller's transaction. Returns the emails newly owed.

    Three queries for a whole chunk of notices (people, opt-outs, one INSERT of the feed rows)
    plus the outbox's own; a notice owed twice (same key) is neither listed nor emailed twice.
    """
    notices = list(notices)
    if not notices:
        return 0
    now = now or timezone.now()
    people = _partner_people({n.partner_id for n in notices})
    user_ids = {uid for rows in people.values() for uid, _e, _l in rows}
    opted_out = set(
        NotificationEmailOptOut.objects.filter(
            user_id__in=user_ids, kind__in={n.kind for n in notices}
        ).values_list("user_id", "kind")
    )
    rows: list[Notification] = []
    emails: list[OwedEmail] = []
    for notice in notices:
        context = {k: _jsonable(v) for k, v in notice.context.items()}
        for user_id, email, language in people.get(notice.partner_id, []):
            rows.append(
                Notification(
                    user_id=user_id,
                    partner_id=notice.partner_id,
                    kind=notice.kind,
                    key=notice.key,
                    customer_id_value=notice.customer_id,
                    customer_name=notice.customer_name,
                    context=context,
                    link_path=notice.link_path,
                    created_at=now,
                )
            )
            if notice.kind in FEED_ONLY_NOTIFICATION_KINDS or (user_id, notice.kind) in opted_out:
                continue
            emails.append(
                OwedEmail(
                    key=outbox_key(notice.kind, email, notice.key),
                    kind=notice.kind,
                    to=email,
                    template=notice.template or notice_template(notice.kind),
                    context={
                        **notice.context,
                        "kind": notice.kind,
                        "customer_name": notice.customer_name,
                        "link_url": absolute_url(notice.link_path),
                        "settings_url": absolute_url(_settings_path()),
                    },
                    org_id=notice.partner_id,
                    language=language or None,
                )
            )
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return emails_owe_bulk(emails)


def notification_owe(
    *,
    partner: Organization | int,
    kind: str,
    key: str,
    link_path: str,
    customer: Organization | None = None,
    customer_name: str = "",
    context: Mapping[str, Any] | None = None,
    template: str = "",
) -> int:
    """Owe one notice to a partner (feed + email), inside the caller's transaction."""
    partner_id = partner if isinstance(partner, int) else partner.pk
    return notifications_owe_bulk(
        [
            Notice(
                partner_id=partner_id,
                kind=kind,
                key=key,
                link_path=link_path,
                customer_id=customer.pk if customer is not None else None,
                customer_name=customer.name if customer is not None else customer_name,
                context=dict(context or {}),
                template=template,
            )
        ]
    )


def _settings_path() -> str:
    from django.urls import reverse

    return reverse("accounts:notification_settings")


# ---- the feed ----------------------------------------------------------------------------


def _date(value: Any) -> str:
    parsed = parse_date(str(value)[:10]) if value else None
    return date_format(parsed, "DATE_FORMAT") if parsed else ""


def notification_text(*, kind: str, customer_name: str, context: Mapping[str, Any]) -> str:
    """The one sentence that says what happened, for the feed and the email (in the reader's
    language: called while their language is active)."""
    c = {"customer": customer_name, **{k: v for k, v in context.items() if isinstance(v, str)}}
    c["date"] = _date(context.get("date"))
    texts = {
        NotificationKind.CONSENT_ACCEPTED: (
            _("%(customer)s accepted your trial request and gave you full admin access.")
            if context.get("full_admin")
            else _(
                "%(customer)s accepted your trial request and made you a provisioning admin: "
                "you may set up the trial, nothing else."
            )
        ),
        NotificationKind.CONSENT_DECLINED: _(
            "%(customer)s declined your trial request; the trial is cancelled."
        ),
        NotificationKind.CONSENT_EXPIRED: _(
            "Nobody at %(customer)s answered your trial request by %(date)s; the trial is "
            "cancelled."
        ),
        NotificationKind.EXTENSION_APPROVED: _(
            "Support approved the extension of the trial of %(customer)s: it now ends on %(date)s."
        ),
        NotificationKind.EXTENSION_REFUSED: _(
            "Support refused the extension of the trial of %(customer)s to %(date)s."
        ),
        NotificationKind.PROVISIONING_FAILED: _(
            "Provisioning of %(services)s failed for %(customer)s. Contact support."
        ),
        NotificationKind.BUY_REQUESTED: _(
            "%(customer)s wants to buy %(subscription)s, which ends on %(date)s: convert or "
            "renew it."
        ),
        NotificationKind.ORG_DELETED: _(
            "%(customer)s deleted its organization with all of its data; it has left your "
            "customer list."
        ),
        NotificationKind.DELETION_MARKED: _(
            "%(customer)s holds no licenses and is marked for deletion."
        ),
        NotificationKind.DELETION_WARNED: _(
            "%(customer)s has been unused for a while: its admins were warned that it will be "
            "deleted on %(date)s unless someone uses it."
        ),
    }
    c.setdefault("services", "")
    if kind == NotificationKind.BUY_REQUESTED:
        c["subscription"] = (
            _("the trial")
            if context.get("is_trial")
            else (context.get("subscription") or _("a subscription"))
        )
    text = texts.get(kind)  # type: ignore[call-overload]
    return str(text) % c if text is not None else customer_name


def partner_feed(*, user: User) -> QuerySet[Notification]:
    """A person's feed, newest first (the list page pages it)."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")


UNREAD_ATTR = "_unread_notifications"  # where a request's user keeps the bell's count


def unread_count_expression() -> Func:
    """The bell's count as a subquery of a query over memberships (or anything with a
    ``user_id``): a COUNT on the partial index of unread rows. ``access.partner_access`` folds
    it into its membership query, so a partner page spends no query on the bell."""
    unread = (
        Notification.objects.filter(user_id=OuterRef("user_id"), read_at__isnull=True)
        .order_by()
        .values("user_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(unread, output_field=IntegerField()), 0)


def unread_count_remember(user: Any, count: int) -> None:
    """Keep the count read with the person's membership for the rest of the request."""
    setattr(user, UNREAD_ATTR, count)


def _unread_forget(user: Any) -> None:
    # Nothing remembered is fine (also through request.user's lazy wrapper).
    with contextlib.suppress(AttributeError):
        delattr(user, UNREAD_ATTR)


def unread_count(*, user: User) -> int:
    """The bell: the count read with the person's membership in this request, else one COUNT
    on the partial index of unread rows."""
    remembered = getattr(user, UNREAD_ATTR, None)
    if remembered is not None:
        return int(remembered)
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# ---- writes by the person ----------------------------------------------------------------


@transaction.atomic
def notification_read(*, user: User, notification_id: int) -> Notification | None:
    """Mark one of the person's notices read; another person's is None (a 404 for the view)."""
    notification = Notification.objects.filter(user=user, pk=notification_id).first()
    if notification is not None and notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        _unread_forget(user)
    return notification


@transaction.atomic
def notifications_read_all(*, user: User) -> int:
    """Mark every unread notice of the person read; returns how many."""
    _unread_forget(user)
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


@transaction.atomic
def notification_email_kinds_set(*, user: User, email_kinds: Iterable[str]) -> list[str]:
    """The person gets emails for ``email_kinds`` and none of the other emailed kinds (the feed
    keeps all). Returns the kinds now turned off."""
    from .services import audit_record

    wanted = set(email_kinds)
    off = [str(k) for k in EMAILED_NOTIFICATION_KINDS if k not in wanted]
    NotificationEmailOptOut.objects.filter(user=user).exclude(kind__in=off).delete()
    NotificationEmailOptOut.objects.bulk_create(
        [NotificationEmailOptOut(user=user, kind=k) for k in off], ignore_conflicts=True
    )
    audit_record(
        action="notification.email_settings",
        actor=user,
        org=user.org,
        target=user.email,
        details={"emails_off": off},
    )
    return off


def email_kinds_off(*, user: User) -> set[str]:
    return set(NotificationEmailOptOut.objects.filter(user=user).values_list("kind", flat=True))
