"""The words of a partner notice, for the feed and the email (one place: ``notification_text``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from partnerhub.accounts.choices import NotificationKind
from partnerhub.accounts.notifications import notification_text

register = template.Library()


@register.simple_tag(takes_context=True)
def notice_text(
    context: template.Context, kind: str, customer_name: str, details: Any = None
) -> str:
    """The sentence of a notice; ``details`` is the feed row's stored context, and an email
    passes none (its own template context is the notice's context)."""
    if details is None:
        details = context.flatten()
    return notification_text(kind=kind, customer_name=customer_name, context=details)


@register.simple_tag
def notice_subject(kind: str, customer_name: str) -> str:
    label = NotificationKind(kind).label if kind in NotificationKind.values else kind
    return f"{label}: {customer_name}"


@register.simple_tag
def notice_link_label(kind: str, link_url: str = "") -> str:
    """The words of the notice's link: where it leads (a customer that left the list is not
    opened, the list is)."""
    if link_url.rstrip("/").endswith(reverse("customers:customer_list").rstrip("/")):
        return _("Open your customer list")
    if kind == NotificationKind.BUY_REQUESTED:
        return _("Convert or renew")
    return _("Open the customer")
