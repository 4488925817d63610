"""Pages of orders and the setup wizard.

Partner side (T9): a tier 1 partner's sales admin places the order converting a trial.
Wizard (W1–W6): reached only through the emailed, signed, single-use link; no sign-in needed.
Views validate and call one service; they never save a domain object themselves.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View

from partnerhub.accounts.choices import CUSTOMER_ADMIN_ROLES, PartnerTier
from partnerhub.accounts.permissions import PartnerMemberMixin, TrialManagerMixin
from partnerhub.core.clock import business_today
from partnerhub.core.listview import ObjectListView

from .choices import OrderStatus, ServiceType, SubscriptionKind
from .filters import OrderFilterSet
from .forms import SubscriptionRenewForm, TrialConvertForm, WizardChooseForm, WizardCompanyForm
from .lifecycle import WizardOutcome, can_renew, renewal_deadline
from .models import Order, Subscription
from .orders import (
    LinkProblem,
    LinkRefused,
    OrderRefused,
    ServicesLeftOut,
    match_attempts_left,
    order_choice_refusal_record,
    order_from_link,
    order_link_claim,
    order_link_refusal_record,
    order_link_resend,
    order_match_attempt,
    order_place,
    order_setup_complete,
    trial_convertible,
)
from .selectors import WizardMatch, order_list, orders_of_partner, wizard_match
from .tables import OrderTable

SESSION_KEY = (
    "order_setup"  # {order pk: {"company_name", "admin_email"}}: links this browser opened
)
SESSION_DONE_KEY = "order_setup_done"  # pk of the order this browser just set up

# --- partner side (T9) ---------------------------------------------------------------------


class TrialConvertView(TrialManagerMixin, View):
    """T9: convert a trial to paid by placing an order. Tier 1 partners do it themselves; a
    tier 2 partner is told to go through its distributor. Another partner's trial is a 404."""

    template_name = "licensing/trial_convert_form.html"

    def get_trial(self, trial_pk: int) -> Subscription:
        return get_object_or_404(
            Subscription.objects.select_related("customer").prefetch_related("services"),
            pk=trial_pk,
            kind=SubscriptionKind.TRIAL,
            partner=self.partner,
        )

    def initial(self, trial: Subscription) -> dict[str, Any]:
        # T9 (seed 002): the partner enters itself as provisioning contact, so every service
        # converts correctly; the order starts with every service of the trial.
        initial: dict[str, Any] = {
            "provisioning_contact_email": self.actor.email,
            "term_months": 12,
        }
        for service in trial.services.all():
            initial[f"qty_{service.type}"] = service.quantity
        return initial

    def render_page(
        self,
        request: HttpRequest,
        trial: Subscription,
        form: TrialConvertForm,
        status: int = 200,
        left_out: dict[str, list[str]] | None = None,
    ) -> HttpResponse:
        pending = trial.conversion_orders.filter(status=OrderStatus.PLACED).first()
        context = {
            "trial": trial,
            "form": form,
            "tier_2": self.partner.partner_tier != PartnerTier.TIER_1,
            "convertible": trial_convertible(trial=trial, today=business_today()),
            "pending_order": pending,
            "left_out": [(ServiceType(t).label, emails) for t, emails in (left_out or {}).items()],
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, trial_pk: int) -> HttpResponse:
        trial = self.get_trial(trial_pk)
        return self.render_page(request, trial, TrialConvertForm(initial=self.initial(trial)))

    def post(self, request: HttpRequest, trial_pk: int) -> HttpResponse:
        trial = self.get_trial(trial_pk)
        form = TrialConvertForm(request.POST)
        if not form.is_valid():
            return self.render_page(request, trial, form, status=400)
        ordered = {line.service_type for line in form.lines()}
        drops = (
            [s.type for s in trial.services.all() if s.type not in ordered]
            if form.cleaned_data["confirm_left_out"]
            else []
        )
        try:
            order = order_place(
                lines=form.lines(),
                provisioning_contact_email=form.cleaned_data["provisioning_contact_email"],
                trial=trial,
                term_months=form.cleaned_data["term_months"],
                placed_by=self.actor,
                drop_services=drops,
            )
        except ServicesLeftOut as refused:
            form.add_error(None, refused.message)
            return self.render_page(request, trial, form, status=400, left_out=refused.users)
        except OrderRefused as refused:
            form.add_error(None, refused.message)
            return self.render_page(request, trial, form, status=400)
        messages.success(
            request,
            _("Order %(number)s placed. The setup link was emailed to %(email)s.")
            % {"number": order.number, "email": order.provisioning_contact_email},
        )
        return redirect("licensing:order_detail", order_pk=order.pk)


class OrderListView(PartnerMemberMixin, ObjectListView):
    """The partner's orders: status, customer, created, where the setup link stands (W1)."""

    filterset_class = OrderFilterSet
    table_class = OrderTable
    title = _("Orders")
    default_sort = "-placed_at"
    export_filename = "orders"

    def get_queryset(self) -> Any:
        return order_list(partner=self.partner)


class SubscriptionRenewView(TrialManagerMixin, View):
    """S3: renew an expiring or suspended paid subscription of this partner through an order;
    bought before the renewal period ends it reactivates the licenses in place. A tier 2
    partner is told to go through its distributor; another partner's subscription is a 404."""

    template_name = "licensing/subscription_renew_form.html"

    def get_subscription(self, subscription_pk: int) -> Subscription:
        return get_object_or_404(
            Subscription.objects.select_related("customer").prefetch_related("services"),
            pk=subscription_pk,
            kind=SubscriptionKind.PAID,
            partner=self.partner,
        )

    def form(self, sub: Subscription, data: Any = None) -> SubscriptionRenewForm:
        initial: dict[str, Any] = {
            "provisioning_contact_email": self.actor.email,
            "term_months": 12,
        }
        for service in sub.services.all():
            initial[f"qty_{service.type}"] = service.quantity
        return SubscriptionRenewForm(
            data, initial=initial, service_types=[s.type for s in sub.services.all()]
        )

    def render_page(
        self,
        request: HttpRequest,
        sub: Subscription,
        form: SubscriptionRenewForm,
        status: int = 200,
    ) -> HttpResponse:
        today = business_today()
        context = {
            "subscription": sub,
            "customer": sub.customer,
            "form": form,
            "tier_2": self.partner.partner_tier != PartnerTier.TIER_1,
            "renewable": can_renew(
                kind=sub.kind,
                state=sub.state,
                end_date=sub.end_date,
                period_end=sub.period_end_date,
                today=today,
            ),
            "deadline": (
                renewal_deadline(period_end=sub.period_end_date) if sub.period_end_date else None
            ),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, subscription_pk: int) -> HttpResponse:
        sub = self.get_subscription(subscription_pk)
        return self.render_page(request, sub, self.form(sub))

    def post(self, request: HttpRequest, subscription_pk: int) -> HttpResponse:
        sub = self.get_subscription(subscription_pk)
        form = self.form(sub, request.POST)
        if not form.is_valid():
            return self.render_page(request, sub, form, status=400)
        try:
            order_place(
                lines=form.lines(),
                provisioning_contact_email=form.cleaned_data["provisioning_contact_email"],
                renews=sub,
                term_months=form.cleaned_data["term_months"],
                placed_by=self.actor,
            )
        except OrderRefused as refused:
            form.add_error(None, refused.message)
            return self.render_page(request, sub, form, status=400)
        sub.refresh_from_db()
        messages.success(
            request,
            _(
                "The subscription was renewed: it now ends on %(date)s. Its users keep their "
                "licenses."
            )
            % {"date": sub.end_date},
        )
        return redirect("customers:customer_detail", pk=sub.customer_id)


class OrderDetailView(PartnerMemberMixin, View):
    """An order this partner placed: its lines, its status, where the wizard mapped it."""

    def get(self, request: HttpRequest, order_pk: int) -> HttpResponse:
        order = get_object_or_404(orders_of_partner(partner=self.partner), pk=order_pk)
        return render(
            request,
            "licensing/order_detail.html",
            {"order": order, "can_resend": order.status == OrderStatus.PLACED},
        )


class OrderLinkResendView(TrialManagerMixin, View):
    """W1: the partner sends a fresh setup link (the previous one stops working)."""

    def post(self, request: HttpRequest, order_pk: int) -> HttpResponse:
        order = get_object_or_404(Order, pk=order_pk, partner=self.partner)
        try:
            order_link_resend(order=order, actor=self.actor)
        except OrderRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(
                request,
                _("A new setup link was emailed to %(email)s.")
                % {"email": order.provisioning_contact_email},
            )
        return redirect("licensing:order_detail", order_pk=order.pk)


# --- the setup wizard (W1–W6) --------------------------------------------------------------

LINK_PAGES = {
    LinkProblem.TAMPERED: (
        400,
        _("This setup link is not valid"),
        _(
            "The link is incomplete or has been changed. Open it again from the email exactly "
            "as it was sent, or ask whoever placed the order for a new one."
        ),
    ),
    LinkProblem.SUPERSEDED: (
        410,
        _("A newer setup link was sent"),
        _("This link was replaced by a newer one. Use the link in the most recent email."),
    ),
    LinkProblem.EXPIRED: (
        410,
        _("This setup link has expired"),
        _("Setup links work for a limited time. Ask whoever placed the order to send a new one."),
    ),
    LinkProblem.USED: (
        410,
        _("This setup link has already been used"),
        _(
            "A setup link works once. If the order still needs to be set up, ask whoever "
            "placed it to send a new link."
        ),
    ),
    LinkProblem.CANCELLED: (
        410,
        _("This order was cancelled"),
        _("There is nothing to set up. Ask whoever placed the order if this is unexpected."),
    ),
}


def _wizard_state(request: HttpRequest) -> dict[str, dict[str, str]]:
    return request.session.get(SESSION_KEY, {})


def _link_refused_page(request: HttpRequest, refused: LinkRefused) -> HttpResponse:
    order_link_refusal_record(problem=refused.problem.value, order=refused.order)
    status, title, text = LINK_PAGES[refused.problem]
    return render(
        request,
        "licensing/order_link_invalid.html",
        {"title": title, "text": text, "problem": refused.problem.value},
        status=status,
    )


class SetupLinkMixin(View):
    """Resolves the link's order before any wizard page runs (W1); every refusal is a page."""

    order: Order
    token: str

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.token = kwargs["token"]
        try:
            order = order_from_link(token=self.token, claimed=self.claimed_here(request))
        except LinkRefused as refused:
            return _link_refused_page(request, refused)
        self.order = order
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def _pk_from_token(token: str) -> str:
        return token.split(":", 1)[0]

    def claimed_here(self, request: HttpRequest) -> bool:
        return self._pk_from_token(self.token) in _wizard_state(request)

    def inputs(self) -> dict[str, str]:
        return _wizard_state(self.request).get(str(self.order.pk), {})

    def save_inputs(self, values: dict[str, str]) -> None:
        state = dict(_wizard_state(self.request))
        state[str(self.order.pk)] = values
        self.request.session[SESSION_KEY] = state

    def url(self, name: str) -> str:
        return reverse(f"licensing:{name}", kwargs={"token": self.token})

    def context(self, **extra: Any) -> dict[str, Any]:
        return {"order": self.order, "lines": self.order.lines.all(), "token": self.token, **extra}


class SetupStartView(SetupLinkMixin):
    """W1: the link lands here. Opening it takes it for this browser (a POST, so that mail
    scanners that fetch links do not use it up)."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        if self.claimed_here(request):
            return redirect(self.url("order_setup_company"))
        return render(request, "licensing/order_setup_start.html", self.context())

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        if not self.claimed_here(request) and not order_link_claim(order=self.order):
            return _link_refused_page(request, LinkRefused(LinkProblem.USED, self.order))
        self.save_inputs(self.inputs())
        return redirect(self.url("order_setup_company"))


class ClaimedLinkMixin(SetupLinkMixin):
    """Wizard steps after the start page: only the browser that opened the link gets here."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.token = kwargs["token"]
        if not self.claimed_here(request):
            return redirect("licensing:order_setup_start", token=self.token)
        return super().dispatch(request, *args, **kwargs)


class SetupCompanyView(ClaimedLinkMixin):
    """W2: company name and admin email. Each submission is one matching attempt (W6 limit)."""

    template_name = "licensing/order_setup_company.html"

    def render_form(self, form: WizardCompanyForm, status: int = 200) -> HttpResponse:
        return render(
            self.request,
            self.template_name,
            self.context(form=form, attempts_left=match_attempts_left(order=self.order)),
            status=status,
        )

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        return self.render_form(WizardCompanyForm(initial=self.inputs()))

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        form = WizardCompanyForm(request.POST)
        if not form.is_valid():
            return self.render_form(form, status=400)
        match = order_match_attempt(
            order=self.order,
            company_name=form.cleaned_data["company_name"],
            admin_email=form.cleaned_data["admin_email"],
        )
        if match is None:
            form.add_error(
                None,
                _(
                    "Too many matching attempts with this link. Wait an hour and try again, "
                    "or ask whoever placed the order for help."
                ),
            )
            return self.render_form(form, status=429)
        self.save_inputs(
            {
                "company_name": form.cleaned_data["company_name"],
                "admin_email": form.cleaned_data["admin_email"],
            }
        )
        return redirect(self.url("order_setup_choose"))


OUTCOME_MESSAGES = {
    WizardOutcome.PROCEED_WITH_NOTE: _(
        "You are not an admin of %(org)s, and the wizard never adds admins on its own. The "
        "subscription is set up; ask the organization's existing admin to add you as an admin."
    ),
    WizardOutcome.BLOCKED_UNTIL_ADMIN: _(
        "You are not an admin of %(org)s, so this subscription cannot be set up yet. Ask the "
        "organization's existing admin to make you an admin, then open the link from your email "
        "again to finish."
    ),
    WizardOutcome.CONTACT_ADMIN: _(
        "%(org)s already exists and you are not one of its admins. Contact its current admin to "
        "have you added as an admin; the wizard cannot do that for you."
    ),
}


class SetupChooseView(ClaimedLinkMixin):
    """W2(a)/(b), W3: the matched orgs with their facts, or a new org; then W4/W5 decide."""

    template_name = "licensing/order_setup_choose.html"

    def match(self) -> WizardMatch:
        inputs = self.inputs()
        return wizard_match(company_name=inputs["company_name"], admin_email=inputs["admin_email"])

    def render_form(
        self, match: WizardMatch, form: WizardChooseForm, status: int = 200
    ) -> HttpResponse:
        trial_org_id = self.order.trial.customer_id if self.order.trial else None
        context = self.context(
            form=form,
            match=match,
            inputs=self.inputs(),
            # W6: whether a listed org is the trial's is the link holder's business (the email
            # names it); no other fact about it is shown.
            trial_org_id=trial_org_id,
            trial_listed=trial_org_id is not None and match.allows(trial_org_id),
        )
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        if not self.inputs().get("admin_email"):
            return redirect(self.url("order_setup_company"))
        match = self.match()
        return self.render_form(match, WizardChooseForm(match=match))

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        inputs = self.inputs()
        if not inputs.get("admin_email"):
            return redirect(self.url("order_setup_company"))
        match = self.match()
        form = WizardChooseForm(request.POST, match=match)
        if not form.is_valid():
            if "org" in form.errors and request.POST.get("org"):
                # W6: a value the match did not offer (a guessed org id) is written down.
                order_choice_refusal_record(order=self.order, org_pk=request.POST["org"])
            return self.render_form(match, form, status=400)
        org_pk = form.chosen_org_pk()
        org = next((o for o in match.orgs if o.pk == org_pk), None) if org_pk else None
        try:
            result = order_setup_complete(
                order=self.order,
                org=org,
                company_name=inputs["company_name"],
                admin_email=inputs["admin_email"],
                country=form.cleaned_data.get("country") or "",
            )
        except OrderRefused as refused:
            form.add_error(None, refused.message)
            return self.render_form(match, form, status=400)
        org_name = result.org.name if result.org else ""
        if not result.completed:
            return render(
                request,
                "licensing/order_setup_outcome.html",
                self.context(
                    outcome=result.outcome.value,
                    message=OUTCOME_MESSAGES[result.outcome] % {"org": org_name},
                ),
            )
        state = dict(_wizard_state(request))
        state.pop(str(self.order.pk), None)
        request.session[SESSION_KEY] = state
        request.session[SESSION_DONE_KEY] = {
            "order": self.order.pk,
            "outcome": result.outcome.value,
            "converted": result.converted,
            "admin_added": result.admin_added,
        }
        return redirect(self.url("order_setup_done"))


def setup_done(request: HttpRequest, token: str) -> HttpResponse:
    """The last page, shown once to the browser that set the order up; the link is used now."""
    done = request.session.get(SESSION_DONE_KEY) or {}
    order_pk: int | None = done.get("order")
    order = (
        None
        if order_pk is None
        else Order.objects.select_related("customer", "subscription")
        .filter(pk=order_pk, status=OrderStatus.COMPLETED)
        .first()
    )
    if order is None or token.split(":", 1)[0] != str(order.pk):
        try:
            order_from_link(token=token)
        except LinkRefused as refused:
            return _link_refused_page(request, refused)
        return redirect("licensing:order_setup_start", token=token)
    outcome = WizardOutcome(done["outcome"])
    note = (
        OUTCOME_MESSAGES[outcome] % {"org": order.customer.name if order.customer else ""}
        if outcome in OUTCOME_MESSAGES
        else ""
    )
    is_admin_here = bool(
        order.customer
        and order.customer.memberships.filter(
            user__email=order.admin_email, role__in=CUSTOMER_ADMIN_ROLES
        ).exists()
    )
    return render(
        request,
        "licensing/order_setup_done.html",
        {
            "order": order,
            "note": note,
            "converted": done.get("converted"),
            "admin_added": done.get("admin_added"),
            "is_admin_here": is_admin_here,
        },
    )
