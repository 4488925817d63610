"""Support console for trials: device-trial extension requests (T7)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .choices import ExtensionStatus
from .models import ExtensionRequest
from .services import extension_request_decide


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(admin.ModelAdmin):
    """T7: support staff approve (the trial is extended) or refuse device-trial extensions."""

    list_display = (
        "trial",
        "requested_end_date",
        "status",
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
    )
    fields = (*readonly_fields, "decision_note")
    actions = ("approve", "refuse")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def _decide(
        self, request: HttpRequest, queryset: QuerySet[ExtensionRequest], approve: bool
    ) -> None:
        done = 0
        for extension in queryset.filter(status=ExtensionStatus.PENDING):
            try:
                extension_request_decide(
                    extension_request=extension,
                    actor=request.user,  # type: ignore[arg-type]
                    approve=approve,
                    note=extension.decision_note,
                )
            except ValidationError as exc:
                self.message_user(request, f"{extension}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                done += 1
        self.message_user(request, _("%(n)d request(s) decided.") % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("Approve: extend the trial to the requested date"))
    def approve(self, request: HttpRequest, queryset: QuerySet[ExtensionRequest]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description=_("Refuse the extension"))
    def refuse(self, request: HttpRequest, queryset: QuerySet[ExtensionRequest]) -> None:
        self._decide(request, queryset, approve=False)
