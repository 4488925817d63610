"""Support console for subscriptions, services, licenses, calling data and orders.

Saving a new order goes through ``licensing.orders.order_place`` (which emails the setup link,
W1); an order is not edited afterwards, only acted on.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from partnerhub.accounts.admin import AuditedAdminMixin, PartnerFilter
from partnerhub.accounts.permissions import SignedInRequest, signed_in_user
from partnerhub.core.admin import ReadOnlyAdminMixin
from partnerhub.core.clock import business_today

from .choices import SubscriptionKind
from .lifecycle import subscription_status
from .models import (
    AutoLicenseTemplate,
    BuyRequest,
    CallingProfile,
    License,
    Order,
    OrderLine,
    PhoneNumber,
    Service,
    Subscription,
)
from .orders import (
    OrderLineSpec,
    OrderRefused,
    conversion_check,
    order_cancel,
    order_link_resend,
    order_place,
    order_place_check,
    renewal_check,
)
from .provisioning import ProvisioningRefused, service_provisioning_retry, services_mark_provisioned
from .readmodel import customer_rows_refresh


class RowsRefreshAdminMixin:
    """A support-console change to a subscription, a service or a license changes what the
    customer list's rows hold (statuses, services, licenses bought and assigned): the rows of
    the customers it touched — before and after the change — are refreshed in the change's
    transaction, as a service would."""

    customer_lookup = ""  # the ORM path from the object to its customer's id

    def _customers_of(self, pks: list[Any]) -> set[int]:
        return set(
            self.model.objects.filter(pk__in=pks).values_list(  # type: ignore[attr-defined]
                self.customer_lookup, flat=True
            )
        )

    def _customer_before(self, form: Any) -> int | None:
        """The customer the object belonged to when the form was opened (the first hop of the
        path, e.g. a license's service, may have been changed)."""
        hop, _sep, rest = self.customer_lookup.partition("__")
        hop = hop.removesuffix("_id")
        old = form.initial.get(hop)
        if old is None or not rest:
            return old
        related = self.model._meta.get_field(hop).related_model  # type: ignore[attr-defined]
        return related.objects.filter(pk=old).values_list(rest, flat=True).first()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        ids = self._customers_of([form.instance.pk]) | {self._customer_before(form)}
        customer_rows_refresh(customer_ids=[i for i in ids if i is not None])

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        ids = self._customers_of([obj.pk])
        super().delete_model(request, obj)  # type: ignore[misc]
        customer_rows_refresh(customer_ids=ids)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        ids = set(queryset.values_list(self.customer_lookup, flat=True))
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        customer_rows_refresh(customer_ids=ids)


class ServiceInline(admin.TabularInline):
    model = Service
    extra = 0
    fields = ("type", "quantity", "provisioning_status", "provisioned_at", "edition", "site_url")
    show_change_link = True


@admin.register(Subscription)
class SubscriptionAdmin(RowsRefreshAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    customer_lookup = "customer_id"
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

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> Any:
        """The order form's trial box lists trials only."""
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        if request.GET.get("field_name") == "trial" and request.GET.get("model_name") == "order":
            queryset = queryset.filter(kind=SubscriptionKind.TRIAL)
        return queryset, distinct

    @admin.display(description=_("status"))
    def status(self, obj: Subscription) -> str:
        if obj.end_date is None:  # the add page
            return "—"
        status = subscription_status(
            kind=obj.kind, state=obj.state, end_date=obj.end_date, today=business_today()
        )
        return str(status.label) if status is not None else "—"


@admin.register(Service)
class ServiceAdmin(RowsRefreshAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    customer_lookup = "subscription__customer_id"
    list_display = (
        "type",
        "subscription",
        "customer",
        "quantity",
        "provisioning_status",
        "provisioning_reason",
    )
    list_select_related = ("subscription__customer", "subscription__partner")
    list_filter = ("type", "provisioning_status")
    search_fields = ("subscription__customer__name", "subscription__reference", "site_url")
    raw_id_fields = ("subscription",)
    show_full_result_count = False
    actions = ("mark_provisioned", "retry_provisioning")
    readonly_fields = ("provisioning_reason", "provisioning_attempts", "provisioning_details")

    @admin.display(description=_("customer"), ordering="subscription__customer__name")
    def customer(self, obj: Service) -> str:
        return str(obj.subscription.customer)

    @admin.action(description=_("Finish manual provisioning: mark the selected as provisioned"))
    def mark_provisioned(self, request: SignedInRequest, queryset: QuerySet[Service]) -> None:
        done = services_mark_provisioned(services=queryset, actor=request.user)
        self.message_user(
            request,
            _("%(count)d service(s) marked provisioned.") % {"count": done},
            messages.SUCCESS,
        )

    @admin.action(description=_("Retry provisioning of the selected failed services"))
    def retry_provisioning(self, request: SignedInRequest, queryset: QuerySet[Service]) -> None:
        retried = 0
        for service in queryset:
            try:
                service_provisioning_retry(service=service, actor=request.user)
                retried += 1
            except ProvisioningRefused as refused:
                self.message_user(request, f"{service}: {refused.message}", messages.WARNING)
        if retried:
            self.message_user(
                request,
                _("%(count)d service(s) sent to the vendor again.") % {"count": retried},
                messages.SUCCESS,
            )


@admin.register(License)
class LicenseAdmin(RowsRefreshAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    customer_lookup = "service__subscription__customer_id"
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


class OrderLineFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if self.instance.pk is not None:
            return
        lines = [
            OrderLineSpec(
                service_type=form.cleaned_data["service_type"],
                quantity=form.cleaned_data["quantity"],
            )
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if not lines:
            raise ValidationError(_("An order needs at least one service."))
        # S3/T9: a renewal or conversion that would exceed, drop or double licenses is refused
        # here, with the service's message, before anything is saved.
        order = self.instance
        try:
            if order.trial_id is not None:
                conversion_check(trial=order.trial, lines=lines)
            if order.renews_id is not None:
                renewal_check(subscription=order.renews, lines=lines, today=business_today())
        except OrderRefused as refused:
            raise ValidationError(refused.message) from None


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    formset = OrderLineFormSet
    extra = 2
    fields = ["service_type", "quantity"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "status",
        "purpose",
        "partner",
        "provisioning_contact_email",
        "placed_at",
        "link_expires_at",
        "customer",
    ]
    list_filter = ["status", "purpose"]
    search_fields = ["number", "provisioning_contact_email", "company_name", "admin_email"]
    list_select_related = ["partner", "customer"]
    # Type to find a partner, a customer or a subscription, instead of typing raw ids.
    autocomplete_fields = ["partner", "customer", "trial", "renews"]
    inlines = [OrderLineInline]
    actions = ["resend_setup_link", "cancel_orders"]
    # S3: support renews a subscription by naming it in ``renews`` (completed at once).
    add_fields = [
        "purpose",
        "partner",
        "trial",
        "renews",
        "provisioning_contact_email",
        "term_months",
    ]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return tuple(self.add_fields)
        return tuple(f.name for f in Order._meta.fields if f.name != "id")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return () if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Order, form: Any, change: bool) -> None:
        # A new order is placed in save_related, where the lines are known; nothing else saves.
        return None

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:
            return
        lines = [
            OrderLineSpec(
                service_type=line.cleaned_data["service_type"],
                quantity=line.cleaned_data["quantity"],
            )
            for formset in formsets
            for line in formset.forms
            if line.cleaned_data and not line.cleaned_data.get("DELETE")
        ]
        data = form.cleaned_data
        order = order_place(
            lines=lines,
            provisioning_contact_email=data["provisioning_contact_email"],
            purpose=data["purpose"],
            partner=data.get("partner"),
            trial=data.get("trial"),
            renews=data.get("renews"),
            term_months=data["term_months"],
            placed_by=signed_in_user(request),
        )
        # The admin logs and redirects with the object it built: hand it the placed order.
        form.instance.__dict__.update(
            {k: v for k, v in order.__dict__.items() if not k.startswith("_")}
        )
        form.instance._state.adding = False

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> list[dict[str, Any]]:
        # The lines were written by order_place, not by the inline formsets.
        return [{"added": {}}]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            return form_class

        # Built on the form class the admin made (known only at run time): mypy takes no variable
        # as a base class.
        class PlaceOrderForm(form_class):  # type: ignore[misc, valid-type]
            def clean(self) -> dict[str, Any]:
                cleaned = super().clean()
                trial = cleaned.get("trial")
                renews = cleaned.get("renews")
                if trial is not None and cleaned.get("partner") is None:
                    cleaned["partner"] = trial.partner
                if renews is not None and cleaned.get("partner") is None:
                    cleaned["partner"] = renews.partner
                try:
                    order_place_check(
                        partner=cleaned.get("partner"),
                        trial=trial,
                        renews=renews,
                        placed_by=signed_in_user(request),
                        today=business_today(),
                    )
                except OrderRefused as refused:
                    raise ValidationError(refused.message) from None
                return cleaned

        return PlaceOrderForm

    @admin.action(description=_("Resend the setup link (the previous one stops working)"))
    def resend_setup_link(self, request: SignedInRequest, queryset: QuerySet[Order]) -> None:
        sent = 0
        for order in queryset:
            try:
                order_link_resend(order=order, actor=request.user)
                sent += 1
            except OrderRefused as refused:
                self.message_user(request, f"{order.number}: {refused.message}", messages.WARNING)
        if sent:
            self.message_user(request, _("%(n)s setup link(s) sent.") % {"n": sent})

    @admin.action(description=_("Cancel the selected orders that are not set up yet"))
    def cancel_orders(self, request: SignedInRequest, queryset: QuerySet[Order]) -> None:
        for order in queryset:
            try:
                order_cancel(order=order, actor=request.user)
            except OrderRefused as refused:
                self.message_user(request, f"{order.number}: {refused.message}", messages.WARNING)


@admin.register(BuyRequest)
class BuyRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What customers asked their partners to convert or renew (the Buy page), for look-ups."""

    list_display = ("subscription", "requested_by", "created_at", "handled_at")
    list_filter = ("handled_at",)
    search_fields = ("subscription__customer__name", "requested_by__email", "message")
    list_select_related = ("subscription__customer", "requested_by")
    readonly_fields = ("subscription", "requested_by", "message", "created_at", "handled_at")
