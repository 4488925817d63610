"""Saved views of the customer list (issue 16): writes and reads.

A view is the list's own query string (filters, ``sort``, ``per_page``), so whatever the list
accepts a view keeps, and a view never holds more than the list would take from the address bar.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from django.db import transaction
from django.db.models import Q, QuerySet

from partnerhub.accounts.access import PartnerAction, partner_require
from partnerhub.accounts.models import Organization, User
from partnerhub.accounts.services import audit_record

from .models import SavedView

# Never part of a view: the page number, the export switch, the "all customers" escape.
NOT_SAVED = frozenset({"page", "export", "view"})


def clean_query(query: str) -> str:
    return urlencode([(k, v) for k, v in parse_qsl(query) if k not in NOT_SAVED])


def saved_views_for(*, user: User, partner: Organization) -> QuerySet[SavedView]:
    """The person's own views and those shared in their partner org."""
    return (
        SavedView.objects.filter(partner=partner)
        .filter(Q(owner=user) | Q(shared=True))
        .select_related("owner")
        .order_by("name", "pk")
    )


def default_view(*, views: list[SavedView], user: User) -> SavedView | None:
    """The person's default among the views ``saved_views_for`` read (no query of its own)."""
    return next((v for v in views if v.owner_id == user.pk and v.is_default), None)


@transaction.atomic
def saved_view_save(
    *,
    owner: User,
    partner: Organization,
    name: str,
    query: str,
    shared: bool = False,
    make_default: bool = False,
) -> SavedView:
    """Save (or overwrite, by name) the person's view; at most one default per person."""
    partner_require(owner, PartnerAction.OWN_SETTINGS, partner)
    if make_default:
        SavedView.objects.filter(owner=owner, is_default=True).update(is_default=False)
    view, created = SavedView.objects.update_or_create(
        owner=owner,
        name=name.strip()[:80],
        defaults={
            "partner": partner,
            "query": clean_query(query),
            "shared": shared,
            "is_default": make_default,
        },
    )
    audit_record(
        action="saved_view.save",
        actor=owner,
        org=partner,
        target=str(view.pk),
        details={"name": view.name, "shared": shared, "default": make_default, "new": created},
    )
    return view


@transaction.atomic
def saved_view_delete(*, owner: User, view: SavedView) -> None:
    partner_require(owner, PartnerAction.OWN_SETTINGS, view.partner)
    audit_record(
        action="saved_view.delete",
        actor=owner,
        org=view.partner,
        target=str(view.pk),
        details={"name": view.name},
    )
    view.delete()
