"""Support console for trial consent requests and device shipments (T3, T14).

Device-trial extension requests (T7) are registered by the trials workflow's own admin.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from partnerhub.accounts.admin import AuditedAdminMixin, PartnerFilter

from .models import ConsentRequest, Device, DeviceShipment


@admin.register(ConsentRequest)
class ConsentRequestAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("customer", "partner", "admin_email", "status", "requested_at", "expires_at")
    list_select_related = ("customer", "partner")
    list_filter = ("status", PartnerFilter)
    search_fields = ("customer__name", "partner__name", "admin_email")
    raw_id_fields = ("trial", "partner", "customer", "requested_by", "decided_by")
    show_full_result_count = False


class DeviceInline(admin.TabularInline):
    model = Device
    extra = 0
    fields = ("serial_number", "returned_at")


@admin.register(DeviceShipment)
class DeviceShipmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "customer",
        "device_type",
        "quantity",
        "shipped_at",
        "agreement_end_date",
        "return_due_date",
    )
    list_select_related = ("trial__customer",)
    list_filter = ("device_type",)
    search_fields = ("trial__customer__name", "devices__serial_number")
    raw_id_fields = ("trial",)
    inlines = (DeviceInline,)
    show_full_result_count = False

    @admin.display(description=_("customer"), ordering="trial__customer__name")
    def customer(self, obj: DeviceShipment) -> str:
        return str(obj.trial.customer)


class ReturnedFilter(admin.SimpleListFilter):
    title = _("returned")
    parameter_name = "returned"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Returned")), ("no", _("Not returned"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return queryset.filter(returned_at__isnull=self.value() == "no")
        return queryset


@admin.register(Device)
class DeviceAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """T14: each trial device by serial number, until it is back."""

    list_display = ("serial_number", "shipment", "customer", "return_due", "returned_at")
    list_select_related = ("shipment__trial__customer",)
    list_filter = (ReturnedFilter, "shipment__device_type")
    search_fields = ("serial_number", "shipment__trial__customer__name")
    raw_id_fields = ("shipment",)
    show_full_result_count = False

    @admin.display(description=_("customer"))
    def customer(self, obj: Device) -> str:
        return str(obj.shipment.trial.customer)

    @admin.display(description=_("return due"), ordering="shipment__return_due_date")
    def return_due(self, obj: Device) -> date:
        return obj.shipment.return_due_date
