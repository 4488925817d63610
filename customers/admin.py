"""Support console for organizations, activity and deletion tombstones.

D7: nothing here can exempt an org from deletion. The deletion fields are read-only, there is
no action that touches them, and orgs cannot be deleted from the admin either: deletion goes
through ``customers.services.org_delete`` so it always leaves a tombstone (D10).
Held deletion batches are registered by the lifecycle's own admin.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from licensing.models import Subscription
from licensing.readmodel import customer_rows_refresh
from partnerhub.accounts.admin import AuditedAdminMixin
from partnerhub.accounts.choices import OrgKind
from partnerhub.accounts.lifecycle import region_for_country
from partnerhub.accounts.models import CustomerRelationship, Membership, Organization, User
from partnerhub.core.admin import ReadOnlyAdminMixin

from .choices import DeletionStage
from .lifecycle import deletion_stage, planned_deletion_at
from .models import ActivityEvent, DeletionTombstone
from .timeline import org_timeline

DELETION_FIELDS = ("deletion_marked_at", "deletion_warned_at", "last_activity_at")


class ToBeDeletedFilter(admin.SimpleListFilter):
    """D2: the same "To be deleted" filter partners have on their customer list."""

    title = pgettext_lazy("admin filter title", "to be deleted")
    parameter_name = "to_be_deleted"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("yes", _("To be deleted")),
            ("warned", _("Warned of deletion")),
            ("no", _("Not marked")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(deletion_marked_at__isnull=False)
        if self.value() == "warned":
            return queryset.filter(deletion_warned_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deletion_marked_at__isnull=True)
        return queryset


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "org"
    extra = 0
    raw_id_fields = ("user",)
    fields = ("user", "role", "created")
    verbose_name_plural = _("roles")


class UserInline(admin.TabularInline):
    """The org's people, to look at; each links to its own page."""

    model = User
    fk_name = "org"
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    fields = ("email", "first_name", "last_name", "is_active", "last_login")
    readonly_fields = fields


class SubscriptionInline(admin.TabularInline):
    """The customer's subscriptions; changed on their own page, where the services are."""

    model = Subscription
    fk_name = "customer"
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    fields = ("reference", "kind", "state", "partner", "start_date", "end_date", "period_end_date")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Subscription]:
        return super().get_queryset(request).select_related("partner")


class PartnerRelationshipInline(admin.TabularInline):
    """Which partners manage this customer, with what access (T3)."""

    model = CustomerRelationship
    fk_name = "customer"
    extra = 0
    raw_id_fields = ("partner",)
    fields = ("partner", "access", "created")
    verbose_name_plural = _("managed by partners")


@admin.register(Organization)
class OrganizationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "partner_tier",
        "partner_certified",
        "country",
        "data_region",
        "created",
        "deletion_status",
        "last_activity_at",
    )
    list_filter = (
        "kind",
        ToBeDeletedFilter,
        "partner_tier",
        "partner_certified",
        "data_region",
        "vertical",
        "country",
    )
    search_fields = ("name", "=id")
    # D7: support staff see the countdown but cannot move it.
    readonly_fields = (
        "name_prefix",
        "data_region",
        *DELETION_FIELDS,
        "deletion_status",
        "planned_deletion",
        "timeline",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "kind",
                    "name",
                    "name_prefix",
                    "created",
                    "vertical",
                    "country",
                    "data_region",
                    "time_zone",
                )
            },
        ),
        (_("Partner"), {"fields": ("partner_tier", "partner_certified")}),
        (
            _("Deletion of unused organizations"),
            {"fields": ("deletion_status", "planned_deletion", *DELETION_FIELDS)},
        ),
        (_("Timeline"), {"fields": ("timeline",)}),
    )
    show_full_result_count = False
    list_per_page = 50

    # Who an org is does not change after it exists: when it was created, whether it is a
    # partner or a customer, and a partner's tier (T9 decides by it) are read-only.
    identity_fields = ("created", "kind", "partner_tier")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, *self.identity_fields) if obj is not None else fields

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> Any:
        """Autocomplete boxes ask for what fits: the order form's partner box lists partners,
        its customer box customers."""
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        wanted = {"partner": OrgKind.PARTNER, "customer": OrgKind.CUSTOMER}.get(
            request.GET.get("field_name", "")
        )
        if request.GET.get("app_label") and wanted is not None:
            queryset = queryset.filter(kind=wanted)
        return queryset, distinct

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        if obj is None:
            return []
        if obj.kind == OrgKind.PARTNER:
            # A partner's customers can be 100,000 rows; they are one filter away instead.
            return [MembershipInline, UserInline]
        return [SubscriptionInline, PartnerRelationshipInline, MembershipInline, UserInline]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # D10: only org_delete, which leaves a tombstone

    def save_model(self, request: HttpRequest, obj: Organization, form: Any, change: bool) -> None:
        # T2: the data-location region always follows the country.
        obj.data_region = region_for_country(obj.country)
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Name, region, admins and relationships are on the customer list: keep its rows exact.
        customer_rows_refresh(customer_ids=[form.instance.pk])

    @admin.display(description=_("deletion"))
    def deletion_status(self, obj: Organization) -> str:
        """D2: "To be deleted" and where the countdown stands."""
        stage = deletion_stage(
            marked_at=obj.deletion_marked_at,
            warned_at=obj.deletion_warned_at,
            last_activity_at=obj.last_activity_at,
            now=timezone.now(),
        )
        if stage == DeletionStage.NOT_MARKED:
            return "—"
        return f"{_('To be deleted')} · {stage.label}"

    @admin.display(description=_("timeline"))
    def timeline(self, obj: Organization) -> str:
        """Issue 16: every date that moved and every date the rules predict (one source:
        ``customers.lifecycle.org_forecast``), for support staff answering "why this date?"."""
        if obj.pk is None:
            return "—"
        return render_to_string(
            "customers/_timeline.html",
            {"timeline": org_timeline(org=obj, now=timezone.now())},
        )

    @admin.display(description=_("planned deletion"))
    def planned_deletion(self, obj: Organization) -> str:
        if obj.deletion_marked_at is None:
            return "—"
        when = planned_deletion_at(
            marked_at=obj.deletion_marked_at,
            warned_at=obj.deletion_warned_at,
            last_activity_at=obj.last_activity_at,
            now=timezone.now(),
        )
        return date_format(timezone.localtime(when), "DATETIME_FORMAT")


@admin.register(ActivityEvent)
class ActivityEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """D5: the evidence of user activity; recorded by the product, never by hand."""

    list_display = ("at", "kind", "org", "user", "source", "recorded_at")
    list_select_related = ("org", "user")
    list_filter = ("kind", "source")
    search_fields = ("org__name", "user__email")
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(DeletionTombstone)
class DeletionTombstoneAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """D10: all that is left of a deleted org."""

    list_display = ("name", "org_id_value", "kind", "reason", "deleted_at", "deleted_by")
    list_filter = ("reason", "kind")
    search_fields = ("name", "=org_id_value")
    date_hierarchy = "deleted_at"
    show_full_result_count = False
