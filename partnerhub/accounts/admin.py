"""Support console for people, roles, relationships, content and the audit log.

Organizations are registered in ``customers/admin.py``: their page shows subscriptions and the
deletion countdown, which live in apps above this one.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from partnerhub.core.admin import ReadOnlyAdminMixin

from .choices import OrgKind
from .models import (
    AuditEntry,
    ContentItem,
    CustomerRelationship,
    Membership,
    Notification,
    Organization,
    User,
)
from .permissions import signed_in_user
from .services import audit_record


class AuditedAdminMixin:
    """Every change made in the support console is an audit row (STYLE rule 2)."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        org = obj if isinstance(obj, Organization) else getattr(obj, "org", None)
        audit_record(
            action=f"admin.{obj._meta.model_name}.{'change' if change else 'add'}",
            actor=signed_in_user(request),
            org=org if isinstance(org, Organization) else None,
            target=str(obj)[:255],
            details={"fields": sorted(form.changed_data)},
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        org = getattr(obj, "org", None)
        audit_record(
            action=f"admin.{obj._meta.model_name}.delete",
            actor=signed_in_user(request),
            org=org if isinstance(org, Organization) else None,
            target=str(obj)[:255],
        )
        super().delete_model(request, obj)  # type: ignore[misc]


class PartnerFilter(admin.SimpleListFilter):
    """Filter by managing partner; lists partner orgs only (never 100,000 customers)."""

    title = _("partner")
    parameter_name = "partner"
    field = "partner"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, Any]]:
        return list(
            Organization.objects.filter(kind=OrgKind.PARTNER)
            .order_by("name")
            .values_list("pk", "name")
        )

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value():
            return queryset.filter(**{f"{self.field}_id": self.value()})
        return queryset


class UserAddForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserChangeForm(DjangoUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    raw_id_fields = ("org",)
    fields = ("org", "role", "created")


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    """People sign in with their email; there is no username."""

    form = UserChangeForm
    add_form = UserAddForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("Personal info"),
            {"fields": ("first_name", "last_name", "org", "language", "time_zone")},
        ),
        (
            _("Permissions"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined", "email_domain")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ("email_domain", "last_login", "date_joined")
    list_display = ("email", "first_name", "last_name", "org", "is_staff", "is_active")
    list_select_related = ("org",)
    list_filter = ("is_staff", "is_superuser", "is_active", "org__kind")
    search_fields = ("email", "first_name", "last_name", "org__name")
    ordering = ("email",)
    raw_id_fields = ("org",)
    inlines = (MembershipInline,)
    show_full_result_count = False

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return self.inlines if obj is not None else ()  # roles come after the person exists


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "org", "role", "created")
    list_select_related = ("user", "org")
    list_filter = ("role", "org__kind")
    search_fields = ("user__email", "org__name")
    raw_id_fields = ("user", "org")
    show_full_result_count = False


@admin.register(CustomerRelationship)
class CustomerRelationshipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("customer", "partner", "access", "created")
    list_select_related = ("customer", "partner")
    list_filter = (PartnerFilter, "access")
    search_fields = ("customer__name", "partner__name")
    raw_id_fields = ("partner", "customer")
    show_full_result_count = False


@admin.register(ContentItem)
class ContentItemAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("title", "kind", "org", "author", "created")
    list_select_related = ("org", "author")
    list_filter = ("kind",)
    search_fields = ("title", "org__name", "author__email")
    raw_id_fields = ("org", "author")
    show_full_result_count = False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "actor_label", "action", "org_name", "org_id_value", "target")
    list_filter = ("action",)
    search_fields = ("actor_label", "action", "org_name", "target", "=org_id_value")
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What each partner person was told (the feed), for look-ups when a partner asks."""

    list_display = ("created_at", "user", "partner", "kind", "customer_name", "read_at")
    list_filter = ("kind",)
    search_fields = ("user__email", "partner__name", "customer_name")
    list_select_related = ("user", "partner")
    date_hierarchy = "created_at"
