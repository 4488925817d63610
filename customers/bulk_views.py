"""Bulk actions on the customer list (issue 16): the selection comes from the list's form (the
ticked customers, or "all N matching" with the list's query string); each action asks
``partnerhub.accounts.access`` through its mixin and again in its service."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from partnerhub.accounts.access import PartnerAction
from partnerhub.accounts.permissions import PartnerMemberMixin
from partnerhub.core.clock import business_today
from trials.lifecycle import EXTENSION_CHOICES

from .bulk import (
    BULK_LIMIT,
    BulkRefused,
    bulk_export_record,
    bulk_selection,
    bulk_signin_ask,
    bulk_trial_extend,
    trial_extension_preview,
)
from .saved_views import clean_query


class _BulkMixin(PartnerMemberMixin):
    def selection(self, request: HttpRequest) -> list[int]:
        return bulk_selection(
            partner=self.partner,
            customer_ids=request.POST.getlist("customer"),
            all_matching=request.POST.get("all") == "1",
            query=clean_query(request.POST.get("query", "")),
        )

    def back(self, request: HttpRequest) -> HttpResponse:
        query = clean_query(request.POST.get("query", ""))
        url = reverse("customers:customer_list")
        return redirect(f"{url}?{query}" if query else f"{url}?view=all")

    def nothing_ticked(self, request: HttpRequest) -> HttpResponse:
        messages.error(request, _("Tick at least one customer, or select all matching ones."))
        return self.back(request)


class BulkTrialExtendView(_BulkMixin, View):
    """T6 for many trials: one preview of every resulting date and every refusal, then apply
    (all or nothing)."""

    change_action = PartnerAction.RUN_TRIALS

    def post(self, request: HttpRequest) -> HttpResponseBase:
        ids = self.selection(request)
        if not ids:
            return self.nothing_ticked(request)
        if len(ids) > BULK_LIMIT:
            messages.error(
                request,
                _("At most %(limit)d customers at a time: narrow the filters or tick fewer.")
                % {"limit": BULK_LIMIT},
            )
            return self.back(request)
        try:
            days = int(request.POST.get("days", ""))
        except ValueError:
            days = 0
        if days not in EXTENSION_CHOICES:
            days = EXTENSION_CHOICES[0]
        today = business_today()
        if request.POST.get("apply") == "1":
            try:
                lines = bulk_trial_extend(
                    actor=request.user,  # type: ignore[arg-type]
                    partner=self.partner,
                    customer_ids=ids,
                    days=days,
                    expected=[int(i) for i in request.POST.getlist("extend") if i.isdigit()],
                    today=today,
                )
            except BulkRefused as refused:
                messages.error(request, refused.message)
            else:
                n = sum(1 for line in lines if line.extended)
                messages.success(
                    request,
                    ngettext("%(n)d trial extended.", "%(n)d trials extended.", n) % {"n": n},
                )
                return self.back(request)
        lines = trial_extension_preview(
            partner=self.partner, customer_ids=ids, days=days, today=today
        )
        return render(
            request,
            "customers/bulk_extend.html",
            {
                "lines": lines,
                "days": days,
                "day_choices": EXTENSION_CHOICES,
                "extended": [line for line in lines if line.extended],
                "refused": [line for line in lines if not line.extended],
                "selected": request.POST.getlist("customer"),
                "all": request.POST.get("all") == "1",
                "query": clean_query(request.POST.get("query", "")),
                "today": today,
            },
        )


class BulkExportView(_BulkMixin, View):
    """The selected customers as the list's CSV (the same columns), audited."""

    change_action = PartnerAction.VIEW

    def post(self, request: HttpRequest) -> HttpResponseBase:
        from .views import SelectedCustomersExport

        all_matching = request.POST.get("all") == "1"
        query = clean_query(request.POST.get("query", ""))
        ids = None if all_matching else self.selection(request)
        if ids is not None and not ids:
            return self.nothing_ticked(request)
        bulk_export_record(
            actor=request.user,  # type: ignore[arg-type]
            partner=self.partner,
            count=len(ids) if ids is not None else -1,
            query=query,
        )
        data = QueryDict(query, mutable=True)
        data["export"] = "csv"
        list_view = SelectedCustomersExport(selected=ids)
        list_view.setup(request)
        list_view.partner, list_view.role = self.partner, self.role
        list_view.partner_side = self.partner_side
        request.GET = data  # type: ignore[assignment]  # the list reads filters, sort, columns
        return list_view.get(request)


class BulkSigninAskView(_BulkMixin, View):
    """D5: one email to each admin of each selected customer, asking them to sign in."""

    change_action = PartnerAction.CHANGE

    def post(self, request: HttpRequest) -> HttpResponse:
        ids = self.selection(request)
        if not ids:
            return self.nothing_ticked(request)
        try:
            result = bulk_signin_ask(
                actor=request.user,  # type: ignore[arg-type]
                partner=self.partner,
                customer_ids=ids,
            )
        except BulkRefused as refused:
            messages.error(request, refused.message)
            return self.back(request)
        messages.success(
            request,
            ngettext(
                "%(n)d admin asked to sign in.", "%(n)d admins asked to sign in.", result.emails
            )
            % {"n": result.emails},
        )
        if result.without_admin:
            messages.warning(
                request,
                _("No admin to ask in: %(names)s.") % {"names": ", ".join(result.without_admin)},
            )
        return self.back(request)
