"""The partner side: the customer list and the customer page (P1–P4, D2, D8, T14).

Views only read (through ``customers.selectors``); trial actions live in ``trials.views``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import django_filters
from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.db.models.expressions import BaseExpression
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from django.views import View

from licensing.buy import open_buy_requests
from licensing.choices import ProvisioningStatus
from licensing.lifecycle import days_left
from licensing.models import CustomerRow, Service
from licensing.provisioning import (
    ProvisioningRefused,
    service_manual_done,
    service_provisioning_retry,
)
from partnerhub.accounts.access import PartnerAction
from partnerhub.accounts.choices import PartnerAccess, PartnerTier
from partnerhub.accounts.models import CustomerRelationship, Organization
from partnerhub.accounts.permissions import (
    PartnerMemberMixin,
    TrialManagerMixin,
    trials_sales_only_reason,
)
from partnerhub.core.clock import business_today
from partnerhub.core.formrender import FAST_FORM_RENDERER
from partnerhub.core.listview import ObjectListView, capped_count, filters_active
from trials.choices import ExtensionStatus
from trials.lifecycle import (
    EXTENSION_CHOICES,
    can_convert,
    can_request_return_label,
    device_trial_cap,
)
from trials.selectors import (
    available_service_types,
    customer_services_held,
    partner_trial,
    pending_consent,
)
from trials.services import carrier_guidance

from .band import customer_band
from .columns import column_choices, columns_from_form, columns_parse, table_kwargs
from .filters import CustomerFilterSet
from .saved_views import (
    clean_query,
    default_view,
    saved_view_save,
    saved_views_read,
    saved_views_rider,
)
from .selectors import (
    BAND_LINKS,
    customer_list_rows,
    customer_page,
    customer_rows_attach,
    customer_rows_ordered,
    customer_rows_page,
    partner_customers,
)
from .tables import CustomerTable
from .timeline import org_timeline

# Each band is counted: singular and plural through ngettext ("1 subscription").
BAND_LABELS: dict[str, Any] = {
    "to_be_deleted": ngettext_lazy("to be deleted", "to be deleted", "count"),
    "trial_expiring_30": ngettext_lazy(
        "trial expiring within 30 days", "trials expiring within 30 days", "count"
    ),
    "expiring_30": ngettext_lazy(
        "subscription expiring within 30 days", "subscriptions expiring within 30 days", "count"
    ),
    "trial_expired": ngettext_lazy("trial expired", "trials expired", "count"),
    "provisioning_failed": ngettext_lazy("provisioning failed", "provisioning failed", "count"),
    "pending_consent": ngettext_lazy(
        "pending customer consent", "pending customer consent", "count"
    ),
    "awaiting_details": ngettext_lazy(
        "awaiting provisioning details", "awaiting provisioning details", "count"
    ),
}


def _band_key(filterset: django_filters.FilterSet) -> str | None:
    """The band entry whose link is exactly this filter (one filter, one value), if any."""
    picked = {
        name: value
        for name, value in filterset.form.cleaned_data.items()
        if value not in (None, "", [], (), False)
    }
    if len(picked) != 1:
        return None
    ((name, value),) = picked.items()
    query = "to_be_deleted=true" if name == "to_be_deleted" else None
    if isinstance(value, list | tuple) and len(value) == 1:
        query = f"{name}={value[0]}"
    return next((key for key, link in BAND_LINKS.items() if link == query), None)


def band_label(key: str, count: int) -> str:
    return str(BAND_LABELS[key] % {"count": count})


class CustomerListView(PartnerMemberMixin, ObjectListView):
    """P2–P4, D2: the partner's customers with filters, sort, pages, CSV and a count band, all
    read from the list's read model (``licensing.CustomerRow``).

    At most six queries whatever the filters, sort, page and page size: session, user, the
    membership with its org, the count (with the band when it must be recounted; none when the
    band is fresh and nothing is filtered), the page's rows joined to their orgs with their
    admins, and the services of the page's subscriptions.

    Pages: the page's customer ids are cut with OFFSET from the sort's composite index
    ``(partner, key, customer)`` of the narrow row — an index-only walk that never touches the
    org table — and a page past the middle walks the same index from the other end, so the
    last page costs what the first does. Next/previous are the same jump by one page.
    """

    filterset_class = CustomerFilterSet
    table_class = CustomerTable
    title = _("Customers")
    default_sort = "name"
    export_filename = "customers"
    count_cap = 1000  # filtered lists say "more than 1,000" rather than count 80,000 rows

    def get_queryset(self) -> QuerySet[CustomerRow]:
        return customer_list_rows(partner=self.partner)

    def get_filterset(self, queryset: QuerySet[Any]) -> django_filters.FilterSet:
        return CustomerFilterSet(
            self.request.GET or None, queryset=queryset, request=self.request, partner=self.partner
        )

    @staticmethod
    def _sort(accessors: Sequence[str]) -> tuple[str, bool]:
        first = accessors[0] if accessors else "name_key"
        return first.lstrip("-"), first.startswith("-")

    def ordered(self, queryset: QuerySet[Any], accessors: Sequence[str]) -> QuerySet[Any]:
        key, descending = self._sort(accessors)
        return customer_rows_ordered(queryset, key=key, descending=descending)

    def page_queryset(
        self,
        queryset: QuerySet[Any],
        accessors: Sequence[str],
        *,
        offset: int,
        limit: int,
        count: int,
    ) -> QuerySet[Any]:
        key, descending = self._sort(accessors)
        after = count - offset - limit  # rows after this page
        from_end = not self.count_capped and offset > max(after, 0)
        if from_end:
            # Nearer the end: cut the page from the other end of the index (OFFSET ``after``).
            offset, limit = max(after, 0), min(limit, count - offset)
        return customer_rows_page(
            partner=self.partner,
            filtered=queryset,
            key=key,
            descending=descending,
            offset=offset,
            limit=limit,
            from_end=from_end,
        )

    def get_count(self, queryset: QuerySet[Any], filterset: django_filters.FilterSet) -> int:
        """The band is fresh in the cache, or recounted by this request together with the
        filtered count (one query), or — while another request recounts it — the last band
        counted. Unfiltered, a fresh band's total is the count."""
        active = filters_active(filterset)
        band = customer_band(
            partner=self.partner,
            filtered=queryset if active else None,
            count_limit=self.count_limit,
        )
        self.summary = band.counts
        shown = _band_key(filterset) if active and band.fresh else None
        if shown is not None and band.counts is not None:
            count = band.counts[shown]  # a band link's list: the fresh band counted it exactly
        elif active:
            filtered = band.filtered
            count = capped_count(queryset, self.count_limit) if filtered is None else filtered
            self.count_capped = self.count_limit is not None and count >= self.count_limit
        elif band.fresh and band.counts is not None:
            count = band.counts["total"]
        else:
            count = queryset.count()
        return count

    def fetch_rows(self, queryset: QuerySet[Any]) -> list[Any]:
        return customer_rows_attach(
            partner=self.partner, today=business_today(), now=timezone.now(), queryset=queryset
        )

    def get_extra_context(self, *, filterset: django_filters.FilterSet) -> dict[str, Any]:
        summary = [
            {
                "key": key,
                "label": band_label(key, self.summary[key]),
                "count": self.summary[key],
                "query": query,
            }
            for key, query in BAND_LINKS.items()
            if self.summary is not None
        ]
        actions = []
        actions_note = ""
        if self.role_runs_trials():
            actions.append({"url": reverse("trials:trial_start"), "label": _("Start a trial")})
        else:
            # T1: only sales roles run trials; say so instead of hiding the button silently.
            actions_note = trials_sales_only_reason()
        return {
            "summary": summary,
            "actions": actions,
            "actions_note": actions_note,
            # Issue 16: saved views; "Clear" shows every customer even with a default view.
            "saved_views": self.saved_views,
            "current_query": clean_query(self.request.GET.urlencode()),
            "clear_query": "view=all",
            "saved_view_form": SavedViewForm(renderer=FAST_FORM_RENDERER),
            # Issue 16: the column chooser (show, hide, order), kept in the query string.
            "column_choices": column_choices(self.columns),
            "chooser_hidden": [
                (key, value)
                for key, values in self.request.GET.lists()
                if key not in ("columns", "page")
                for value in values
            ],
            # Issue 16: bulk actions on the ticked customers or all matching ones.
            "bulk": {
                "extend": self.partner_side.may(PartnerAction.RUN_TRIALS),
                "signin_ask": self.partner_side.may(PartnerAction.CHANGE),
                "day_choices": EXTENSION_CHOICES,
            },
        }

    def get_table_kwargs(self) -> dict[str, Any]:
        self.columns = columns_parse(self.request.GET.get("columns"))
        return table_kwargs(self.columns)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Landing on the list with no filters opens the person's default view, if any; the
        column chooser's form comes back as the list's ``columns`` parameter."""
        if "col" in request.GET or "columns_chosen" in request.GET:
            query = request.GET.copy()
            query["columns"] = columns_from_form(request.GET)
            for key in [k for k in query if k == "col" or k.startswith("pos_")]:
                del query[key]
            query.pop("columns_chosen", None)
            query.pop("page", None)
            return redirect(f"{reverse('customers:customer_list')}?{query.urlencode()}")
        # The saved views came with the access decision's membership query (no query of their
        # own), whether or not the default is opened.
        # (A bulk export runs this view inside its own request, without them: none are shown.)
        self.saved_views = saved_views_read(self.partner_side.riders.get("saved_views"))
        if not request.GET:
            view = default_view(views=self.saved_views, user=request.user)  # type: ignore[arg-type]
            if view is not None and view.query:
                return redirect(f"{reverse('customers:customer_list')}?{view.query}")
        return super().get(request, *args, **kwargs)

    def membership_riders(self) -> dict[str, BaseExpression]:
        return {"saved_views": saved_views_rider()}

    def role_runs_trials(self) -> bool:
        from partnerhub.accounts.choices import TRIAL_MANAGER_ROLES

        return self.role in TRIAL_MANAGER_ROLES


class SelectedCustomersExport(CustomerListView):
    """The list's CSV of chosen customers (a bulk export; ``None``: all the filters match)."""

    selected: list[int] | None = None

    def get_queryset(self) -> QuerySet[CustomerRow]:
        rows = super().get_queryset()
        return rows if self.selected is None else rows.filter(customer_id__in=self.selected)


class CustomerDetailView(PartnerMemberMixin, View):
    def act_for(self, *, customer: Organization, page: Any) -> dict[str, Any]:
        """T2/T3: with full or provisioning admin access the partner works in the customer's
        Control Hub: "Set up customer" while services of its subscriptions wait for set-up,
        "View customer" after."""
        access = (
            CustomerRelationship.objects.filter(partner=self.partner, customer=customer)
            .values_list("access", flat=True)
            .first()
        )
        if access not in (PartnerAccess.FULL_ADMIN, PartnerAccess.PROVISIONING_ADMIN):
            return {}
        unfinished = any(
            svc.provisioning_status == ProvisioningStatus.AWAITING_DETAILS
            for row in page.subscription_rows
            for svc in row.services
        )
        return {
            "controlhub_url": reverse("controlhub:overview", kwargs={"org_pk": customer.pk}),
            "controlhub_setup": unfinished,
        }

    """The customer page: the partner's subscriptions and services with their provisioning
    statuses, trial dates and days left, device shipments and returns (T14), the deletion
    countdown (D2, D8), the org's admins, and the actions the signed-in role may take (T1)."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        from partnerhub.accounts.choices import TRIAL_MANAGER_ROLES

        # Includes customers waiting for a trial consent (T3), unlike the mixin's lookup.
        customer = get_object_or_404(partner_customers(partner=self.partner), pk=pk)
        today, now = business_today(), timezone.now()
        page = customer_page(partner=self.partner, customer=customer, today=today, now=now)
        runs_trials = self.role in TRIAL_MANAGER_ROLES
        trial = partner_trial(partner=self.partner, customer=customer)
        trial_info: dict[str, Any] = {}
        if trial is not None:
            trial_info = {
                "trial": trial,
                "days_left": days_left(end_date=trial.end_date, today=today),
                "device_cap": device_trial_cap(start_date=trial.start_date),
                "convertible": can_convert(end_date=trial.end_date, today=today, converted=False),
                "waiting_extension": next(
                    (
                        e
                        for e in page.extension_requests
                        if e.trial_id == trial.pk and e.status == ExtensionStatus.PENDING
                    ),
                    None,
                ),
            }
        devices_out = [
            shipment.trial_id
            for shipment in page.shipments
            if any(d.returned_at is None for d in shipment.devices.all())
        ]
        return render(
            request,
            "customers/customer_detail.html",
            {
                "page": page,
                "customer": customer,
                "today": today,
                "runs_trials": runs_trials,
                "tier_1": self.partner.partner_tier == PartnerTier.TIER_1,
                "can_add_trial": runs_trials
                and trial is None
                and bool(available_service_types(customer=customer, partner=self.partner)),
                "consent": pending_consent(partner=self.partner, customer=customer),
                "services_held": list(customer_services_held(customer=customer)),
                "buy_requests": list(open_buy_requests(partner=self.partner, customer=customer)),
                **self.act_for(customer=customer, page=page),
                # T14: carrier guidance by the customer's country; a new label (US only).
                "return_guidance": carrier_guidance(customer=customer) if page.shipments else "",
                "can_request_label": can_request_return_label(country=customer.country),
                "return_trial_pk": devices_out[0] if devices_out else None,
                # Issue 16: what moved the org's dates and what the rules predict next.
                "timeline": org_timeline(org=customer, now=now, partner=self.partner),
                **trial_info,
            },
        )


class _ServiceActionView(TrialManagerMixin, View):
    """P1: a sales admin acts on one provisioning service of a customer (T1: sales roles)."""

    def service(self, pk: int, service_pk: int) -> Service:
        # Only the partner's own subscriptions: another tenant's service is a 404.
        return get_object_or_404(
            Service.objects.select_related("subscription"),
            pk=service_pk,
            subscription__customer_id=pk,
            subscription__partner=self.partner,
        )

    def act(self, service: Service) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int, service_pk: int) -> HttpResponse:
        service = self.service(pk, service_pk)
        try:
            done = self.act(service)
        except ProvisioningRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, done)
        return redirect("customers:customer_detail", pk=pk)


class ServiceProvisioningRetryView(_ServiceActionView):
    """P1: send a failed service to the vendor again."""

    def act(self, service: Service) -> str:
        service_provisioning_retry(service=service, actor=self.actor)
        return str(
            _("%(service)s goes to the vendor again.") % {"service": service.get_type_display()}
        )


class ServiceManualDoneView(_ServiceActionView):
    """P1: the partner finished a *Manual provisioning (partner)* service."""

    def act(self, service: Service) -> str:
        service_manual_done(service=service, actor=self.actor)
        return str(
            _("%(service)s is provisioned; licenses can be assigned.")
            % {"service": service.get_type_display()}
        )


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Name of this view"), max_length=80)
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)
    shared = forms.BooleanField(label=_("Share with my organization"), required=False)
    make_default = forms.BooleanField(label=_("Open it when I open the list"), required=False)


class SavedViewSaveView(PartnerMemberMixin, View):
    """Save the list's current filters, sort, columns and page size under a name."""

    change_action = PartnerAction.OWN_SETTINGS  # a read-only admin may save views for themselves

    def post(self, request: HttpRequest) -> HttpResponse:
        form = SavedViewForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest(_("A saved view needs a name."))
        view = saved_view_save(
            owner=request.user,  # type: ignore[arg-type]
            partner=self.partner,
            name=form.cleaned_data["name"],
            query=form.cleaned_data["query"],
            shared=form.cleaned_data["shared"],
            make_default=form.cleaned_data["make_default"],
        )
        messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
        return redirect(f"{reverse('customers:customer_list')}?{view.query}")
