"""Support console for the lifecycle (issue 3): held deletion batches.

Registered from ``CustomersConfig.ready`` so that it lives beside, not inside, the app's
``admin.py`` (the rest of the support console).

Support staff can release a batch the safety limit held back; they cannot exempt an org from
deletion (D7), so nothing else about the countdown is editable here.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from partnerhub.accounts.permissions import SignedInRequest

from .models import DeletionHold
from .sweeps import hold_release


@admin.register(DeletionHold)
class DeletionHoldAdmin(admin.ModelAdmin):
    list_display = ("created_at", "tick_at", "due_count", "limit", "released_at", "released_by")
    list_filter = (("released_at", admin.EmptyFieldListFilter),)
    readonly_fields = (
        "created_at",
        "tick_at",
        "due_count",
        "limit",
        "org_ids",
        "released_at",
        "released_by",
    )
    actions = ["release"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: DeletionHold | None = None) -> bool:
        return False

    @admin.action(description=_("Release: let the next tick delete these organizations"))
    def release(self, request: SignedInRequest, queryset: QuerySet[DeletionHold]) -> None:
        released = sum(hold_release(hold=hold, user=request.user) for hold in queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d held batch released; the next tick deletes its orgs still due.",
                "%(count)d held batches released; the next tick deletes their orgs still due.",
                released,
            )
            % {"count": released},
            messages.SUCCESS,
        )
