"""The Buy page's writes and reads: a customer admin asks the managing partner to convert a
trial or renew a subscription (T11, S1); the partner converts or renews through the order
flow that exists (``licensing.orders``), which closes the request."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.accounts.access import ControlHubAction, controlhub_require
from partnerhub.accounts.choices import NotificationKind
from partnerhub.accounts.models import Organization, User
from partnerhub.accounts.notifications import notification_owe
from partnerhub.accounts.services import audit_record
from partnerhub.core.clock import business_date

from .choices import SubscriptionKind, SubscriptionState
from .lifecycle import EXPIRING_LATER_DAYS
from .models import BuyRequest, Subscription


def buyable_subscriptions(*, org: Organization, today: date) -> QuerySet[Subscription]:
    """What the Buy page lists: every running or suspended trial, and every paid subscription
    that ends within the expiry window or is suspended in its renewal period (S1), with their
    services and managing partner, and any open request of theirs."""
    return (
        Subscription.objects.filter(customer=org)
        .filter(
            Q(
                kind=SubscriptionKind.TRIAL,
                state__in=[SubscriptionState.ACTIVE, SubscriptionState.SUSPENDED],
            )
            | Q(kind=SubscriptionKind.PAID, state=SubscriptionState.SUSPENDED)
            | Q(
                kind=SubscriptionKind.PAID,
                state=SubscriptionState.ACTIVE,
                end_date__lte=today + timedelta(days=EXPIRING_LATER_DAYS),
            )
        )
        .select_related("partner")
        .prefetch_related("services", "buy_requests")
        .order_by("end_date", "pk")
    )


def open_buy_requests(*, partner: Organization, customer: Organization) -> QuerySet[BuyRequest]:
    """The customer page: what the customer asked this partner to convert or renew."""
    return (
        BuyRequest.objects.filter(
            subscription__customer=customer,
            subscription__partner=partner,
            handled_at__isnull=True,
        )
        .select_related("subscription", "requested_by")
        .order_by("-created_at")
    )


@transaction.atomic
def buy_request_create(
    *,
    subscription: Subscription,
    by: User,
    message: str = "",
    today: date | None = None,
    now: datetime | None = None,
) -> BuyRequest:
    """A customer admin asks the managing partner to convert or renew ``subscription``; the
    partner is told in its feed and by email. One open request per subscription."""
    now = now or timezone.now()
    today = today or business_date(now)
    # The customer's own full admins ask (Control Hub's one decision, asked again here).
    controlhub_require(by, subscription.customer_id, ControlHubAction.REQUEST_PURCHASE)
    sub = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if not buyable_subscriptions(org=sub.customer, today=today).filter(pk=sub.pk).exists():
        raise ValidationError(_("This subscription cannot be bought or renewed here any more."))
    if sub.partner_id is None:
        raise ValidationError(_("No partner manages this subscription: contact support."))
    if BuyRequest.objects.filter(subscription=sub, handled_at__isnull=True).exists():
        raise ValidationError(
            _("You have asked for this one already; your partner will be in touch.")
        )
    request = BuyRequest.objects.create(
        subscription=sub, requested_by=by, message=message.strip()[:2000], created_at=now
    )
    notification_owe(
        partner=sub.partner_id,
        kind=NotificationKind.BUY_REQUESTED,
        key=f"buy:{request.pk}",
        customer=sub.customer,
        link_path=reverse("customers:customer_detail", kwargs={"pk": sub.customer_id})
        + "#buy-requests",
        context={
            "date": sub.end_date,
            "subscription": sub.reference,
            "is_trial": sub.is_trial,
            "message": request.message,
            "by": by.email,
        },
    )
    audit_record(
        action="subscription.buy_request",
        actor=by,
        org=sub.customer,
        at=now,
        target=str(sub.reference or sub.pk),
        details={"subscription": sub.pk, "partner": sub.partner_id},
    )
    return request


def buy_requests_close(*, subscription: Subscription, now: datetime | None = None) -> int:
    """The partner converted or renewed: the subscription's open request is handled. Called
    inside the conversion's transaction."""
    return BuyRequest.objects.filter(subscription=subscription, handled_at__isnull=True).update(
        handled_at=now or timezone.now()
    )
