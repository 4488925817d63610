"""Saved views of the customer list (issue 16): writes and reads.

A view is the list's own query string (filters, ``sort``, ``per_page``), so whatever the list
accepts a view keeps, and a view never holds more than the list would take from the address bar.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery, TextField
from django.db.models.expressions import BaseExpression

from partnerhub.accounts.access import PartnerAction, partner_require
from partnerhub.accounts.models import Organization, User
from partnerhub.accounts.services import audit_record
from partnerhub.core.aggregates import JSONRows, json_rows

from .models import SavedView

# Never part of a view: the page number, the export switch, the "all customers" escape.
NOT_SAVED = frozenset({"page", "export", "view"})


def clean_query(query: str) -> str:
    return urlencode([(k, v) for k, v in parse_qsl(query) if k not in NOT_SAVED])


def saved_views_rider() -> BaseExpression:
    """The person's own views and those shared in their partner org, as an expression over a
    membership (its person and partner org): the list page reads them along with its access
    decision (``partner_access(riders=…)``) instead of in a query of their own."""
    views = (
        SavedView.objects.filter(partner=OuterRef("org_id"))
        .filter(Q(owner=OuterRef("user_id")) | Q(shared=True))
        .order_by()
        .values("partner")
        .annotate(
            _rows=JSONRows(
                id="pk",
                owner_id="owner_id",
                owner_email="owner__email",
                name="name",
                query="query",
                shared="shared",
                is_default="is_default",
            )
        )
        .values("_rows")
    )
    return Subquery(views, output_field=TextField())


def saved_views_read(raw: str | None) -> list[SavedView]:
    """The views ``saved_views_rider`` read, by name."""
    views = []
    for row in json_rows(raw):
        owner = User(pk=row["owner_id"], email=row["owner_email"])
        view = SavedView(
            pk=row["id"],
            owner=owner,
            name=row["name"],
            query=row["query"],
            shared=bool(row["shared"]),
            is_default=bool(row["is_default"]),
        )
        views.append(view)
    return sorted(views, key=lambda v: (v.name, v.pk))


def default_view(*, views: list[SavedView], user: User) -> SavedView | None:
    """The person's default among the views ``saved_views_read`` read (no query of its own)."""
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
