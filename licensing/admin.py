"""Support console for subscriptions, services, licenses and calling data.

Orders (W) are registered by the order set-up wizard's own admin.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerhub.accounts.admin import AuditedAdminMixin, PartnerFilter

from .lifecycle import subscription_status
from .models import (
    AutoLicenseTemplate,
    CallingProfile,
    License,
    PhoneNumber,
    Service,
    Subscription,
)


class ServiceInline(admin.TabularInline):
    model = Service
    extra = 0
    fields = ("type", "quantity", "provisioning_status", "provisioned_at", "edition", "site_url")
    show_change_link = True


@admin.register(Subscription)
class SubscriptionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "customer",
        "partner",
        "kind",
        "state",
        "status",
        "start_date",
        "end_date",
        "period_end_date",
    )
    list_select_related = ("customer", "partner")
    list_filter = ("kind", "state", PartnerFilter)
    search_fields = ("customer__name", "reference", "=id")
    raw_id_fields = ("customer", "partner", "converted_from")
    readonly_fields = ("status", "created")
    inlines = (ServiceInline,)
    show_full_result_count = False

    @admin.display(description=_("status (P3)"))
    def status(self, obj: Subscription) -> str:
        if obj.end_date is None:  # the add page
            return "—"
        status = subscription_status(
            kind=obj.kind, state=obj.state, end_date=obj.end_date, today=timezone.localdate()
        )
        return str(status.label) if status is not None else "—"


@admin.register(Service)
class ServiceAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("type", "subscription", "customer", "quantity", "provisioning_status")
    list_select_related = ("subscription__customer", "subscription__partner")
    list_filter = ("type", "provisioning_status")
    search_fields = ("subscription__customer__name", "subscription__reference", "site_url")
    raw_id_fields = ("subscription",)
    show_full_result_count = False

    @admin.display(description=_("customer"), ordering="subscription__customer__name")
    def customer(self, obj: Service) -> str:
        return str(obj.subscription.customer)


@admin.register(License)
class LicenseAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "service_type", "service", "assigned_at")
    list_select_related = ("user", "service__subscription__customer")
    list_filter = ("service_type",)
    search_fields = ("user__email", "service__subscription__customer__name")
    raw_id_fields = ("user", "service")
    show_full_result_count = False


@admin.register(CallingProfile)
class CallingProfileAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """C1: the user's calling data. The voicemail PIN is a secret and never shown."""

    list_display = ("user", "extension", "voicemail_enabled", "updated")
    list_select_related = ("user",)
    list_filter = ("voicemail_enabled",)
    search_fields = ("user__email", "extension")
    raw_id_fields = ("user",)
    exclude = ("voicemail_pin",)
    show_full_result_count = False


@admin.register(PhoneNumber)
class PhoneNumberAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("number", "org", "user", "subscription")
    list_select_related = ("org", "user", "subscription__customer")
    search_fields = ("number", "org__name", "user__email")
    raw_id_fields = ("org", "user", "subscription")
    show_full_result_count = False


@admin.register(AutoLicenseTemplate)
class AutoLicenseTemplateAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("org", "keep_existing_licenses", "updated")
    list_select_related = ("org",)
    list_filter = ("keep_existing_licenses",)
    search_fields = ("org__name",)
    raw_id_fields = ("org", "services")
