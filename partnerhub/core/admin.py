"""Support console: the email outbox (read-only), and helpers every app's admin uses."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import OutboxEmail

# The support console says what it is, not "Django administration".
admin.site.site_header = _("Partner Hub support console")
admin.site.site_title = _("Partner Hub support")
admin.site.index_title = _("Support console")
# "Delete selected …" skips every service, audit row and rule (D10 tombstones, P1 provisioning,
# T10 trial deletion, licence plans): no bulk delete anywhere in the console. A single object
# is deleted from its own page, and only where its admin allows it.
admin.site.disable_action("delete_selected")


class ReadOnlyAdminMixin:
    """Records kept for audit and support: looked at, never added, changed or deleted by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SentFilter(admin.SimpleListFilter):
    title = _("delivery")
    parameter_name = "sent"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Sent")), ("no", _("Not sent yet"))]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "yes":
            return queryset.filter(sent_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(sent_at__isnull=True)
        return queryset


@admin.register(OutboxEmail)
class OutboxEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "kind", "to_email", "subject", "org_id", "sent_at", "attempts")
    list_filter = (SentFilter, "kind")
    search_fields = ("to_email", "subject", "key", "=org_id")
    date_hierarchy = "created_at"
    show_full_result_count = False
