"""Trial pages of the partner side (T1–T8, T10). Each view validates a form and calls one
service. ``TrialManagerMixin`` refuses everybody but sales admins and sales full admins (T1),
read-only admins included, on GET and POST; another partner's trial or customer is a 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from licensing.models import Subscription
from partnerhub.accounts.models import Organization, User
from partnerhub.accounts.permissions import TrialManagerMixin
from partnerhub.core.clock import business_today

from . import services
from .choices import TrialLength
from .forms import (
    ConfirmForm,
    DeviceFormSet,
    DevicesReturnForm,
    TrialAddForm,
    TrialExtendForm,
    TrialRequestForm,
    TrialServicesForm,
    TrialStartForm,
)
from .lifecycle import device_trial_cap, trial_extension_plan
from .models import ConsentRequest
from .selectors import (
    HOLDING,
    available_service_types,
    customer_services_held,
    partner_customers,
    partner_trials,
    unavailable_service_reasons,
    waiting_extension,
)


def _form_error(form: Form, exc: ValidationError) -> None:
    for message in exc.messages:
        form.add_error(None, message)


def _customer_url(org_id: int) -> str:
    return reverse("customers:customer_detail", kwargs={"pk": org_id})


class TrialView(TrialManagerMixin, View):
    request: HttpRequest

    def customer(self, pk: Any) -> Organization:
        return get_object_or_404(partner_customers(partner=self.partner), pk=pk)

    def trials(self) -> QuerySet[Subscription]:
        return partner_trials(partner=self.partner).select_related("customer", "partner")

    def trial(self, pk: Any) -> Subscription:
        return get_object_or_404(self.trials(), pk=pk)

    def consent(self, pk: Any) -> ConsentRequest:
        return get_object_or_404(
            ConsentRequest.objects.select_related("customer", "partner", "trial"),
            pk=pk,
            partner=self.partner,
        )


class _TrialOfferView(TrialView):
    """The trial offer form with its device lines: validate both, call one service, show the
    service's refusals as form errors (T2, T3)."""

    form_class: type[Form]
    title: Any
    existing = False

    def render_form(self, form: Form, devices: Any) -> HttpResponse:
        return render(
            self.request,
            "trials/trial_start.html",
            {"form": form, "devices": devices, "title": self.title, "existing": self.existing},
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_form(self.form_class(), DeviceFormSet(prefix="dev"))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self.form_class(request.POST)
        devices = DeviceFormSet(request.POST, prefix="dev")
        if form.is_valid() and devices.is_valid():
            try:
                customer_id = self.submit(form, devices)
            except ValidationError as exc:
                _form_error(form, exc)
            else:
                return redirect(_customer_url(customer_id))
        return self.render_form(form, devices)

    def submit(self, form: Any, devices: Any) -> int:
        """Call the service; return the customer's id."""
        raise NotImplementedError


class TrialStartView(_TrialOfferView):
    """T2: start a trial for a new customer."""

    form_class = TrialStartForm
    title = gettext_lazy("Start a trial for a new customer")

    def submit(self, form: Any, devices: Any) -> int:
        trial = services.trial_start_new_customer(
            partner=self.partner,
            actor=self.actor,
            company_name=form.cleaned_data["company_name"],
            admin_email=form.cleaned_data["admin_email"],
            vertical=form.cleaned_data["vertical"],
            country=form.cleaned_data["country"],
            services=form.service_specs(devices=devices.orders()),
            devices=devices.orders(),
            length_days=form.cleaned_data["length"],
        )
        messages.success(self.request, _("Trial started; its services are provisioning."))
        return trial.customer_id


class TrialRequestView(_TrialOfferView):
    """T3: ask an existing organization for consent to a trial. Before the request is sent the
    partner sees which org the email resolves to (name, created date, number of users, never
    user names: W6) and confirms it, or goes back to correct the email (seed 002, step 5)."""

    form_class = TrialRequestForm
    title = gettext_lazy("Request a trial for an existing organization")
    existing = True

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self.form_class(request.POST)
        devices = DeviceFormSet(request.POST, prefix="dev")
        if "back" in request.POST or not (form.is_valid() and devices.is_valid()):
            return self.render_form(form, devices)
        try:
            # Rate-limited per person and audited (T3 look-ups, issue 9); the answer is shown.
            org = services.existing_org_lookup(
                actor=self.actor, email=form.cleaned_data["admin_email"], now=timezone.now()
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("admin_email", message)
            return self.render_form(form, devices)
        if "confirm" not in request.POST:
            return render(
                request,
                "trials/trial_request_confirm.html",
                {
                    "form": form,
                    "devices": devices,
                    "title": self.title,
                    "org": org,
                    "user_count": User.objects.filter(org=org).count(),
                },
            )
        try:
            consent = services.trial_request_existing_org(
                partner=self.partner,
                actor=self.actor,
                admin_email=form.cleaned_data["admin_email"],
                services=form.service_specs(devices=devices.orders()),
                devices=devices.orders(),
                length_days=form.cleaned_data["length"],
            )
        except ValidationError as exc:
            _form_error(form, exc)
            return self.render_form(form, devices)
        messages.success(
            self.request, _("Consent request sent. The trial waits for the customer's consent.")
        )
        return redirect(_customer_url(consent.customer_id))


class ConsentResendView(TrialView):
    """T3: send the consent email again."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        consent = self.consent(pk)
        try:
            services.consent_resend(consent=consent, actor=self.actor)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("customers:customer_list")  # the request is over: maybe off the list
        else:
            messages.success(request, _("The consent email was sent again."))
        return redirect(_customer_url(consent.customer_id))


class ConsentCancelView(TrialView):
    """T3: cancel the trial request; the customer leaves the list."""

    @staticmethod
    def confirm_form(data: Any = None) -> ConfirmForm:
        return ConfirmForm(
            data,
            label=_("Yes, cancel this trial request"),
            required_message=_("Tick the box to confirm the cancellation."),
        )

    def confirm_page(self, consent: Any, form: ConfirmForm, status: int = 200) -> HttpResponse:
        return render(
            self.request,
            "trials/confirm.html",
            {
                "form": form,
                "title": _("Cancel the trial request to %(org)s?") % {"org": consent.customer},
                "explain": _("The customer leaves your customer list."),
                "confirm_label": _("Cancel the request"),
                "back": _customer_url(consent.customer_id),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.confirm_page(self.consent(pk), self.confirm_form())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        consent = self.consent(pk)
        form = self.confirm_form(request.POST)
        if not form.is_valid():
            return self.confirm_page(consent, form, status=400)
        try:
            services.consent_cancel(consent=consent, actor=self.actor)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(_customer_url(consent.customer_id))
        messages.success(
            request, _("Trial request to %(org)s cancelled.") % {"org": consent.customer}
        )
        return redirect("customers:customer_list")


class TrialAddView(TrialView):
    """T5: add a trial to a customer (T4 limits the services)."""

    def form_kwargs(self, customer: Organization) -> dict[str, Any]:
        return {
            "allowed": available_service_types(customer=customer, partner=self.partner),
            "reasons": unavailable_service_reasons(customer=customer, partner=self.partner),
        }

    def render_form(self, customer: Organization, form: Form, devices: Any) -> HttpResponse:
        return render(
            self.request,
            "trials/trial_start.html",
            {
                "form": form,
                "devices": devices,
                "customer": customer,
                # T5: the customer's information, what it has and who manages each.
                "customer_info": True,
                "services_held": list(customer_services_held(customer=customer)),
                "user_count": User.objects.filter(org=customer).count(),
                "title": _("Add a trial for %(org)s") % {"org": customer},
            },
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        customer = self.customer(pk)
        form = TrialAddForm(**self.form_kwargs(customer))
        return self.render_form(customer, form, DeviceFormSet(prefix="dev"))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        customer = self.customer(pk)
        form = TrialAddForm(request.POST, **self.form_kwargs(customer))
        devices = DeviceFormSet(request.POST, prefix="dev")
        if form.is_valid() and devices.is_valid():
            try:
                services.trial_add_to_customer(
                    partner=self.partner,
                    actor=self.actor,
                    customer=customer,
                    services=form.service_specs(devices=devices.orders()),
                    devices=devices.orders(),
                    length_days=form.cleaned_data["length"],
                )
            except ValidationError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("Trial added; the customer's admins were emailed."))
                return redirect(_customer_url(customer.pk))
        return self.render_form(customer, form, devices)


class TrialServicesView(TrialView):
    """T8: add or remove a trial's services."""

    def forms(self, trial: Subscription, data: Any = None) -> tuple[TrialServicesForm, Any]:
        current = list(trial.services.values_list("type", flat=True))
        allowed = available_service_types(
            customer=trial.customer, partner=self.partner, exclude_trial=trial
        )
        reasons = unavailable_service_reasons(
            customer=trial.customer, partner=self.partner, exclude_trial=trial
        )
        return (
            TrialServicesForm(data, current=current, allowed=allowed, reasons=reasons),
            DeviceFormSet(data, prefix="dev"),
        )

    def render_form(self, trial: Subscription, form: Form, devices: Any) -> HttpResponse:
        return render(
            self.request,
            "trials/trial_start.html",
            {
                "form": form,
                "devices": devices,
                "trial": trial,
                "customer": trial.customer,
                "title": _("Change the services of the trial for %(org)s")
                % {"org": trial.customer},
                "shipped": list(trial.device_shipments.all()),
            },
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        trial = self.trial(pk)
        return self.render_form(trial, *self.forms(trial))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        trial = self.trial(pk)
        form, devices = self.forms(trial, request.POST)
        if form.is_valid() and devices.is_valid():
            try:
                services.trial_services_change(
                    trial=trial,
                    actor=self.actor,
                    add=form.additions(devices=devices.orders()),
                    remove=form.removals(),
                    devices=devices.orders(),
                )
            except ValidationError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("The trial's services were changed."))
                return redirect(_customer_url(trial.customer_id))
        return self.render_form(trial, form, devices)


class TrialExtendView(TrialView):
    """T6/T7: extend from today; shows the resulting end date before saving (a small script
    updates it as you pick; without JavaScript the Preview button does), warns when it is
    earlier than the current end, and turns a device trial past 120 days into a request."""

    def render_form(self, trial: Subscription, form: TrialExtendForm) -> HttpResponse:
        today = business_today()
        plan = None
        if form.is_bound and form.is_valid():
            plan = trial_extension_plan(
                today=today,
                days=form.cleaned_data["days"],
                current_end=trial.end_date,
                start_date=trial.start_date,
                has_devices=services._has_devices(trial),
            )
        return render(
            self.request,
            "trials/trial_extend.html",
            {
                "form": form,
                "trial": trial,
                "customer": trial.customer,
                "today": today,
                "plan": plan,
                # T7: a waiting request is shown instead of the form, so nobody fills it twice.
                "waiting": waiting_extension(trial=trial),
                "has_devices": services._has_devices(trial),
                "device_cap": device_trial_cap(start_date=trial.start_date),
                "choices": [30, 60, 90],
                # The script shows these, formatted by Django like every other date.
                "choice_ends": [
                    (days, today + timedelta(days=days)) for days in TrialLength.values
                ],
            },
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_form(self.trial(pk), TrialExtendForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        trial = self.trial(pk)
        form = TrialExtendForm(request.POST)
        if "preview" in request.POST or not form.is_valid():
            return self.render_form(trial, form)
        try:
            result = services.trial_extend(
                trial=trial,
                actor=self.actor,
                days=form.cleaned_data["days"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            _form_error(form, exc)
            return self.render_form(trial, form)
        if result.extension_request is not None:
            messages.info(
                request,
                _(
                    "Support staff approve or refuse every extension of a device trial: your "
                    "request to end on %(date)s was sent to them. You will be told their "
                    "decision by email and on this page."
                )
                % {"date": result.extension_request.requested_end_date},
            )
        else:
            messages.success(
                request, _("The trial now ends on %(date)s.") % {"date": result.end_date}
            )
        return redirect(_customer_url(trial.customer_id))


class TrialDeleteView(TrialView):
    """T10: delete a trial after an explicit confirmation."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        trial = self.trial(pk)
        return self.confirm_page(trial, ConfirmForm())

    def confirm_page(self, trial: Subscription, form: Form, status: int = 200) -> HttpResponse:
        return render(
            self.request,
            "trials/confirm.html",
            {
                "form": form,
                "title": _("Delete the trial for %(org)s?") % {"org": trial.customer},
                "explain": _(
                    "Its licenses are removed now. Shipped devices must still be returned."
                ),
                "confirm_label": _("Delete the trial"),
                "danger": True,
                "back": _customer_url(trial.customer_id),
            },
            status=status,
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        trial = self.trial(pk)
        form = ConfirmForm(request.POST)
        if not form.is_valid():
            return self.confirm_page(trial, form, status=400)
        if trial.state not in HOLDING:
            messages.error(request, _("This trial has ended already."))
            return redirect(_customer_url(trial.customer_id))
        try:
            services.trial_delete(trial=trial, actor=self.actor)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The trial was deleted."))
        return HttpResponseRedirect(_customer_url(trial.customer_id))


class DevicesReturnView(TrialView):
    """T14: record returned trial devices by serial; a serial not shipped for this trial is
    refused with a clear message and nothing is recorded."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        trial = self.trial(pk)
        form = DevicesReturnForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Enter the serial numbers of the returned devices."))
            return redirect(_customer_url(trial.customer_id))
        try:
            returned = services.devices_return(
                trial=trial, serial_numbers=form.serials(), actor=self.actor
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("Recorded as returned: %(serials)s.")
                % {"serials": ", ".join(d.serial_number for d in returned)},
            )
        return redirect(_customer_url(trial.customer_id))


class ReturnLabelRequestView(TrialView):
    """T14: ask for a new return label for a US customer's trial devices (US only)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        trial = self.trial(pk)
        try:
            services.return_label_request(trial=trial, actor=self.actor)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("A new return label was requested from the device trial team.")
            )
        return redirect(_customer_url(trial.customer_id))
