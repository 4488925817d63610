"""Support console for trials: consent requests and device shipments (T3, T14), and the
device-trial extension requests support staff approve or refuse (T7).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from partnerhub.accounts.admin import AuditedAdminMixin, PartnerFilter
from partnerhub.accounts.permissions import SignedInRequest

from .choices import ExtensionStatus
from .models import ConsentRequest, Device, DeviceShipment, ExtensionRequest
from .services import extension_request_decide


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


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(admin.ModelAdmin):
    """T7: support staff approve (the trial is extended) or refuse device-trial extensions."""

    list_display = (
        "trial",
        "requested_end_date",
        "status",
        "reason",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
    )
    list_filter = ("status",)
    search_fields = ("trial__customer__name", "requested_by__email")
    list_select_related = ("trial__customer", "requested_by", "decided_by")
    readonly_fields = (
        "trial",
        "requested_by",
        "requested_at",
        "requested_end_date",
        "reason",
        "status",
        "decided_by",
        "decided_at",
        "decision_note",
    )
    fields = readonly_fields  # decided through the actions, with their confirmation page
    actions = ("approve", "refuse")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def _decide(
        self, request: SignedInRequest, queryset: QuerySet[ExtensionRequest], approve: bool
    ) -> HttpResponse | None:
        """Both actions first show a confirmation page: each request with the partner's reason,
        and a note the partner sees on the customer page (needed to refuse)."""
        pending = list(
            queryset.filter(status=ExtensionStatus.PENDING).select_related(
                "trial__customer", "trial__partner", "requested_by"
            )
        )
        if not pending:
            self.message_user(
                request, _("None of the selected requests is waiting."), messages.WARNING
            )
            return None
        form = DecisionForm(request.POST if "confirm" in request.POST else None, approve=approve)
        if form.is_bound and form.is_valid():
            done = 0
            for extension in pending:
                try:
                    extension_request_decide(
                        extension_request=extension,
                        actor=request.user,
                        approve=approve,
                        note=form.cleaned_data["note"],
                    )
                except ValidationError as exc:
                    self.message_user(
                        request, f"{extension}: {' '.join(exc.messages)}", messages.ERROR
                    )
                else:
                    done += 1
            message = (
                ngettext("%(n)d request approved.", "%(n)d requests approved.", done)
                if approve
                else ngettext("%(n)d request refused.", "%(n)d requests refused.", done)
            )
            self.message_user(request, message % {"n": done}, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Approve these extensions?") if approve else _("Refuse these extensions?"),
            "opts": self.model._meta,
            "requests": pending,
            "form": form,
            "approve": approve,
            "action": "approve" if approve else "refuse",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/trials/extensionrequest/decide_confirmation.html", context
        )

    @admin.action(description=_("Approve: extend the trial to the requested date"))
    def approve(
        self, request: SignedInRequest, queryset: QuerySet[ExtensionRequest]
    ) -> HttpResponse | None:
        return self._decide(request, queryset, approve=True)

    @admin.action(description=_("Refuse the extension"))
    def refuse(
        self, request: SignedInRequest, queryset: QuerySet[ExtensionRequest]
    ) -> HttpResponse | None:
        return self._decide(request, queryset, approve=False)


class DecisionForm(forms.Form):
    """The note support staff send with a decision; the partner reads it."""

    note = forms.CharField(
        label=_("Note to the partner"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Shown to the partner on the customer's page."),
    )

    def __init__(self, *args: Any, approve: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not approve:
            self.fields["note"].required = True
            self.fields["note"].error_messages["required"] = _(
                "Say why, so the partner knows what to tell the customer."
            )
