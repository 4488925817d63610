"""Control Hub: a customer org's own admin pages (its own URL space and look).

Who may do what is decided once, in ``partnerhub.accounts.access.controlhub_access`` (checked on
every request by ``ControlHubMixin`` and again by the services): customer full admins, and users
of a certified managing partner with full access whose own role is not read-only, change things;
read-only admins (customer or partner) see and get a 403 on anything that changes (and on the
forms themselves); a partner that got consent without full access (*provisioning admin*, T3)
sees the overview and may provision the trial, nothing else. Another org's objects are a 404
everywhere. Views validate and call one service.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView

from customers.choices import DeletionReason
from customers.lifecycle import INVITATION_VALID_DAYS
from customers.models import UserInvitation
from customers.services import org_delete
from customers.timeline import org_timeline
from customers.user_csv import (
    UsersAddInvalid,
    users_add_csv_import,
    users_add_csv_parse,
    users_add_csv_sample,
)
from customers.user_services import (
    InvitationInvalid,
    UserChangeRefused,
    invitation_accept,
    invitation_from_token,
    invitation_send,
    org_role_of,
    org_user_add,
    org_user_deactivate,
    org_user_reactivate,
    org_user_role_set,
)
from licensing.buy import buy_request_create, buyable_subscriptions
from licensing.calling import (
    CallingDataAtRisk,
    LicenseError,
    LicensePlan,
    calling_users_of,
    is_assignable,
    license_template_apply,
    license_template_plan,
    license_template_save,
    org_services,
    plan_error_messages,
    service_label,
    subscription_cancel,
    user_licenses_plan,
    user_licenses_set,
)
from licensing.choices import (
    LICENSE_HOLDING_STATES,
    ProvisioningStatus,
    ServiceType,
    SubscriptionKind,
    SubscriptionState,
    provisioning_status_help,
)
from licensing.csv_io import CsvInvalid, users_csv_export, users_csv_import, users_csv_parse
from licensing.models import AutoLicenseTemplate, Subscription
from licensing.provisioning import ProvisioningRefused
from licensing.selectors import org_users
from partnerhub.accounts.access import ControlHubAction as Action
from partnerhub.accounts.choices import CUSTOMER_ADMIN_ROLES, PartnerAccess, Role
from partnerhub.accounts.models import User
from partnerhub.accounts.permissions import ControlHubMixin
from partnerhub.accounts.services import acting_for
from partnerhub.core.clock import business_today
from trials.choices import ConsentStatus
from trials.consent import ConsentClosed, consent_accept, consent_decline, trial_provision
from trials.models import ConsentRequest

from . import selectors as sel
from .forms import (
    BuyRequestForm,
    CallingLocationForm,
    ConsentForm,
    CsvApplyForm,
    CsvUploadForm,
    LicensesForm,
    LicenseTemplateForm,
    OrgDeleteForm,
    SubscriptionCancelForm,
    UserAddForm,
    UserFilterForm,
    UserRoleForm,
    UsersAddApplyForm,
    UsersAddCsvForm,
)

CSV_SESSION_KEY = "controlhub_csv_import_{org}"
USERS_ADD_SESSION_KEY = "controlhub_users_add_{org}"
PREVIEW_ROWS = 200


def plan_rows(plan: LicensePlan, line_of: dict[int, int] | None = None) -> list[dict[str, Any]]:
    """The first changes of a plan, for a preview table (C4, C5)."""
    return [
        {
            "email": c.email,
            "line": (line_of or {}).get(c.user_id),
            "added": [plan.service_label(s) for s in c.added],
            "removed": [plan.service_label(s) for s in c.removed],
            "moved": [plan.service_label(s) for s in c.calling_move] if c.calling_move else None,
            "calling_lost": c.calling_lost,
        }
        for c in plan.changes[:PREVIEW_ROWS]
    ]


class ControlHubView(ControlHubMixin, TemplateView):
    """Base of every Control Hub page.

    ``action`` is what opening the page needs, ``post_action`` what sending its form needs
    (``partnerhub.accounts.access.ControlHubAction``; the decision is made there, once). Pages
    that exist only to change something set both, so read-only people get a 403 on GET too.
    """

    def check_access(self, request: HttpRequest) -> None:
        if self.access.via_partner and self.waiting_for_consent(request):
            raise Http404
        super().check_access(request)

    def dispatch_checked(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if self.acting_partner is None:
            return super().dispatch_checked(request, *args, **kwargs)
        # T2/T3: a partner acting for the customer: every change it makes here is audited
        # with both names (the person of the partner and the customer's org).
        with acting_for(partner=self.acting_partner, customer=self.org):
            return super().dispatch_checked(request, *args, **kwargs)

    @property
    def acting_partner(self) -> Any:
        """The partner org of a partner person working in this customer's Control Hub."""
        return self.access.partner

    def waiting_for_consent(self, request: HttpRequest) -> bool:
        """T3: a partner whose only link to the org is a trial request the customer has not
        answered yet gets no access to it (the customer is on its list, nothing more)."""
        partner = self.actor.org
        pending = ConsentRequest.objects.filter(
            partner=partner, customer=self.org, status=ConsentStatus.PENDING
        ).exists()
        if not pending:
            return False
        return not Subscription.objects.filter(
            customer=self.org,
            partner=partner,
            state__in=[SubscriptionState.ACTIVE, SubscriptionState.SUSPENDED],
        ).exists()

    @property
    def can_change(self) -> bool:
        return self.may(Action.CHANGE)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            org=self.org,
            role=self.role,
            can_change=self.can_change,
            is_full_admin=self.is_full_admin,
            is_provisioning_admin=self.role == PartnerAccess.PROVISIONING_ADMIN,
            can_provision=self.may(Action.PROVISION),
            role_label=role_label(self.role),
            acting_partner=self.acting_partner,
            is_customer_admin=self.role not in PartnerAccess.values,
        )
        return ctx

    def url(self, name: str, **kwargs: Any) -> str:
        return reverse(f"controlhub:{name}", kwargs={"org_pk": self.org.pk, **kwargs})

    def org_user_or_404(self, pk: int) -> User:
        try:
            return org_users(org=self.org).get(pk=pk)
        except User.DoesNotExist as exc:
            raise Http404 from exc

    def subscription_or_404(self, pk: int) -> Subscription:
        return get_object_or_404(Subscription.objects.filter(customer=self.org), pk=pk)


class OverviewView(ControlHubView):
    """D2 banner, S1/T11 license tags, subscriptions and their state, managing partners, and
    the pending trial requests (T3)."""

    template_name = "controlhub/overview.html"
    action = Action.OVERVIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        now = timezone.now()
        ctx.update(
            deletion_at=sel.deletion_planned_at(org=self.org, now=now),
            subscriptions=sel.subscription_rows(org=self.org, today=business_today()),
            partners=sel.managing_partners(org=self.org),
            consents=list(sel.pending_consents(org=self.org, now=now)),
            user_count=User.objects.filter(org=self.org).count(),
            # Issue 16: the org's own dates, past and predicted, with what would change them.
            timeline=org_timeline(org=self.org, now=now),
        )
        return ctx


class TrialRequestView(ControlHubView):
    """T3: a full admin accepts (the box decides full or provisioning access) or declines."""

    template_name = "controlhub/trial_request.html"
    action = post_action = Action.ANSWER_CONSENT

    def consent(self) -> ConsentRequest:
        return get_object_or_404(
            sel.pending_consents(org=self.org, now=timezone.now()), pk=self.kwargs["pk"]
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The consent email links here: opened after the request was answered (by a colleague)
        # or expired, it says so on the overview instead of a dead end.
        if (
            not sel.pending_consents(org=self.org, now=timezone.now())
            .filter(pk=self.kwargs["pk"])
            .exists()
        ):
            if not ConsentRequest.objects.filter(customer=self.org, pk=self.kwargs["pk"]).exists():
                raise Http404
            messages.info(request, _("This trial request was already answered or has expired."))
            return redirect(self.url("overview"))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx.setdefault("form", ConsentForm())
        ctx["consent"] = self.consent()
        return ctx

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        consent = self.consent()
        form = ConsentForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        try:
            if "decline" in request.POST:
                consent_decline(request=consent, by=self.actor)
                messages.success(
                    request,
                    _("You declined %(partner)s's trial; it is cancelled.")
                    % {"partner": consent.partner.name},
                )
            else:
                full = form.cleaned_data["grant_full_admin"]
                consent_accept(request=consent, by=self.actor, grant_full_admin=full)
                messages.success(
                    request,
                    (
                        _("Trial accepted. %(partner)s is now a full admin of your organization.")
                        if full
                        else _(
                            "Trial accepted. %(partner)s is a provisioning admin: it may set up "
                            "the trial, nothing else."
                        )
                    )
                    % {"partner": consent.partner.name},
                )
        except ConsentClosed:
            messages.error(request, _("This request was already answered or has expired."))
        return redirect(self.url("overview"))


class TrialProvisionView(ControlHubView):
    """P1 (and T3): finish the set-up of a subscription whose services await provisioning
    details — a trial accepted through a request, or any subscription whose Calling waits for a
    location and emergency address. The one page a provisioning admin may change things on."""

    template_name = "controlhub/trial_provision.html"
    action = post_action = Action.PROVISION

    def trial(self) -> Subscription:
        qs = Subscription.objects.filter(customer=self.org)
        if self.role == PartnerAccess.PROVISIONING_ADMIN:
            qs = qs.filter(kind=SubscriptionKind.TRIAL, partner=self.actor.org)
        return get_object_or_404(qs.prefetch_related("services"), pk=self.kwargs["pk"])

    def awaiting(self, trial: Subscription) -> list[Any]:
        return [
            s
            for s in trial.services.all()
            if s.provisioning_status == ProvisioningStatus.AWAITING_DETAILS
        ]

    def location_form(self, awaiting: list[Any], data: Any = None) -> CallingLocationForm | None:
        if not any(s.type == ServiceType.CALLING for s in awaiting):
            return None
        return CallingLocationForm(data, org=self.org, prefix="calling")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        trial = kwargs.get("trial") or self.trial()
        awaiting = self.awaiting(trial)
        for s in awaiting:
            s.help = provisioning_status_help(s.provisioning_status)
        ctx.update(
            trial=trial,
            awaiting=awaiting,
            location_form=kwargs.get("location_form") or self.location_form(awaiting),
        )
        return ctx

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        trial = self.trial()
        awaiting = self.awaiting(trial)
        if not awaiting:
            messages.info(request, _("Nothing is waiting for provisioning details."))
            return redirect(self.url("overview"))
        form = self.location_form(awaiting, request.POST)
        if form is not None and not form.is_valid():
            ctx = self.get_context_data(trial=trial, location_form=form)
            return self.render_to_response(ctx, status=400)
        try:
            done = trial_provision(
                trial=trial,
                by=self.actor,
                calling=form.cleaned_data if form is not None else None,
            )
        except ProvisioningRefused as refused:
            messages.error(request, refused.message)
            return redirect(self.url("overview"))
        except ValidationError as invalid:
            messages.error(request, " ".join(invalid.messages))
            return redirect(self.url("overview"))
        messages.success(
            request,
            ngettext(
                "%(n)d service is being provisioned; it is ready within minutes.",
                "%(n)d services are being provisioned; they are ready within minutes.",
                len(done),
            )
            % {"n": len(done)},
        )
        return redirect(self.url("overview"))


class UserListView(ControlHubView):
    """Search, filters, pagination; a fixed number of queries whatever the page size."""

    template_name = "controlhub/user_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        services = org_services(org=self.org)
        subs: dict[int, str] = {}
        for s in services.values():
            subs[s.subscription_id] = str(s.subscription.reference or s.subscription_id)
        form = UserFilterForm(self.request.GET or None, subscriptions=list(subs.items()))
        filters: dict[str, Any] = {}
        per_page = 50
        if form.is_valid():
            data = form.cleaned_data
            filters = {
                "search": data["q"].strip(),
                "service_type": data["service"],
                "subscription_id": data["subscription"],
                "unlicensed": data["unlicensed"],
            }
            per_page = data["per_page"] or per_page
        page = Paginator(org_users(org=self.org, **filters), per_page).get_page(
            self.request.GET.get("page")
        )
        query = self.request.GET.copy()
        query.pop("page", None)
        users = list(page.object_list)
        now = timezone.now()
        invited = dict(
            UserInvitation.objects.filter(
                user__in=[u.pk for u in users], accepted_at__isnull=True
            ).values_list("user_id", "expires_at")
        )
        for person in users:
            person.role_label = role_label(person.org_role or Role.USER)
            expires = invited.get(person.pk)
            person.invite_state = (
                "" if expires is None else ("pending" if expires > now else "expired")
            )
        ctx.update(form=form, page=page, users=users, query=query.urlencode())
        return ctx


class UserDetailView(ControlHubView):
    """A user's licenses (with S1/T11 tags) and calling data; the voicemail PIN is masked
    until the admin asks to reveal it."""

    template_name = "controlhub/user_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        person = self.org_user_or_404(self.kwargs["pk"])
        profile = getattr(person, "calling_profile", None)
        ctx.update(
            person=person,
            licenses=sel.user_license_rows(
                licenses=list(person.licenses.all()), today=business_today()
            ),
            profile=profile,
            numbers=list(person.phone_numbers.all()),
            reveal_pin=self.request.GET.get("reveal") == "pin",
            person_role=role_label(org_role_of(user=person, org=self.org)),
            role_form=UserRoleForm(initial={"role": org_role_of(user=person, org=self.org)}),
            invitation=UserInvitation.objects.filter(user=person).first(),
            now=timezone.now(),
        )
        return ctx


def _ids(values: list[str], allowed: Any) -> list[int]:
    """The integers of a posted list that name one of ``allowed`` (junk is ignored, never a
    500)."""
    out: list[int] = []
    for value in values:
        if str(value).isdigit() and int(value) in allowed and int(value) not in out:
            out.append(int(value))
    return out


class UserLicensesEditView(ControlHubView):
    """C3, seed 004's steps: (1) untick what goes — Calling on the old subscription — and Next;
    (2) tick what comes — Calling on the new one; (3) review: the whole change is validated and
    shown (a Calling move says the data is kept; a removal of Calling names the user and needs
    an explicit confirmation, and offers the move instead, C2); Save. One save, one move: the
    license row moves, the calling data stays (C1, C6). Every step is a POST of what the
    previous ones chose; nothing is written before Save."""

    template_name = "controlhub/user_licenses_edit.html"
    action = post_action = Action.CHANGE

    def load(self) -> None:
        self.person = self.org_user_or_404(self.kwargs["pk"])
        self.services = sel.services_with_use(org_services(org=self.org))
        self.held = [
            lic.service_id for lic in self.person.licenses.all() if lic.service_id in self.services
        ]

    def rows(self, ids: list[int], ticked: set[int]) -> list[dict[str, Any]]:
        return [
            {
                "service": self.services[pk],
                "label": service_label(self.services[pk]),
                "checked": pk in ticked,
                "held": pk in self.held,
                "assignable": is_assignable(self.services[pk]) or pk in self.held,
                "is_calling": self.services[pk].type == ServiceType.CALLING,
            }
            for pk in ids
        ]

    def step(self, name: str, *, keep: list[int], add: list[int], **extra: Any) -> HttpResponse:
        ctx: dict[str, Any] = {"person": self.person, "step": name, "keep": keep, "add": add}
        if name == "remove":
            ctx["rows"] = self.rows(self.held, set(keep))
        elif name == "add":
            others = [pk for pk in self.services if pk not in keep]
            ctx["rows"] = self.rows(others, set(add))
            ctx["calling_kept"] = any(self.services[pk].type == ServiceType.CALLING for pk in keep)
            ctx["calling_unticked"] = [
                pk
                for pk in self.held
                if pk not in keep and self.services[pk].type == ServiceType.CALLING
            ]
        ctx.update(extra)
        return self.render_to_response(self.get_context_data(**ctx))

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.load()
        return self.step("remove", keep=list(self.held), add=[])

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.load()
        post = request.POST
        keep = _ids(post.getlist("keep"), set(self.held))
        add = [pk for pk in _ids(post.getlist("add"), self.services) if pk not in keep]
        action = post.get("step", "")
        if action == "remove":  # step 1 sent: what stays; now what comes
            return self.step("add", keep=keep, add=add)
        if action == "back":
            return self.step("add", keep=keep, add=add)
        if action == "restart":
            return self.step("remove", keep=keep, add=add)
        wanted = [*keep, *add]
        form = LicensesForm(
            MultiValueDict(
                {
                    "services": [str(pk) for pk in wanted],
                    "confirm_calling_loss": ["on"] if post.get("confirm_calling_loss") else [],
                }
            ),
            services=self.services,
            held=set(self.held),
        )
        if not form.is_valid():
            return self.step(
                "review", keep=keep, add=add, form=form, errors=form.errors.get("services", [])
            )
        plan = user_licenses_plan(user=self.person, service_ids=form.cleaned_data["services"])
        change = plan.changes[0] if plan.changes else None
        review = {
            "form": form,
            "change": change,
            "moved": [plan.service_label(s) for s in change.calling_move]
            if change and change.calling_move
            else None,
            "added": [plan.service_label(s) for s in change.added] if change else [],
            "removed": [plan.service_label(s) for s in change.removed] if change else [],
            "calling_lost": bool(change and change.calling_lost),
            "errors": plan_error_messages(plan.errors, emails={self.person.pk: self.person.email}),
        }
        if action != "save" or plan.errors:  # step 2 sent (or a bad save): the review
            return self.step("review", keep=keep, add=add, **review)
        try:
            done = user_licenses_set(
                user=self.person,
                service_ids=form.cleaned_data["services"],
                actor=self.actor,
                confirm_calling_loss=form.cleaned_data["confirm_calling_loss"],
            )
        except CallingDataAtRisk as risk:
            return self.step("review", keep=keep, add=add, calling_at_risk=risk.emails, **review)
        except LicenseError as exc:  # the org changed since the review
            review["errors"] = plan_error_messages(
                exc.errors, emails={self.person.pk: self.person.email}
            )
            return self.step("review", keep=keep, add=add, **review)
        if done is None:
            messages.info(request, _("Nothing changed."))
        elif done.calling_move:
            messages.success(
                request,
                _("Calling moved; %(user)s keeps voicemail, PIN, numbers and call settings.")
                % {"user": self.person.email},
            )
        else:
            messages.success(request, _("Licenses saved."))
        return redirect(self.url("user_detail", pk=self.person.pk))


class UsersCsvExportView(ControlHubView):
    """C4: the users with one TRUE/FALSE column per subscription's service."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = HttpResponse(users_csv_export(org=self.org), content_type="text/csv")
        filename = f"{slugify(self.org.name) or 'org'}-users.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class UsersCsvImportView(ControlHubView):
    """C4: upload → every row checked, every bad row reported → preview → apply, all or none.

    The checked file waits in the session between the preview and the apply; the apply checks
    it again, because the org may have changed in between.
    """

    template_name = "controlhub/users_csv_import.html"
    action = post_action = Action.CHANGE

    @property
    def session_key(self) -> str:
        return CSV_SESSION_KEY.format(org=self.org.pk)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx.setdefault("form", CsvUploadForm())
        return ctx

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "apply" in request.POST:
            return self.apply(request)
        form = CsvUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        content: str = form.cleaned_data["file"]
        parsed = users_csv_parse(org=self.org, content=content)
        if not parsed.ok:
            return self.render_to_response(self.get_context_data(form=form, errors=parsed.errors))
        return self.preview(content, parsed)

    def preview(self, content: str, parsed: Any, **extra: Any) -> HttpResponse:
        token = hashlib.sha256(content.encode()).hexdigest()
        self.request.session[self.session_key] = {"token": token, "content": content}
        plan = parsed.plan
        rows = plan_rows(plan, line_of=parsed.line_of)
        return self.render_to_response(
            self.get_context_data(
                preview=rows,
                changes=len(plan.changes),
                moves=len(plan.moves),
                rows=parsed.rows,
                calling_losses=plan.calling_losses,
                more=max(len(plan.changes) - PREVIEW_ROWS, 0),
                apply_form=CsvApplyForm(initial={"token": token}),
                **extra,
            )
        )

    def apply(self, request: HttpRequest) -> HttpResponse:
        form = CsvApplyForm(request.POST)
        stored = request.session.get(self.session_key)
        if not form.is_valid() or not stored or stored["token"] != form.cleaned_data["token"]:
            messages.error(request, _("The preview has expired; upload the file again."))
            return redirect(self.url("users_csv_import"))
        try:
            changed = users_csv_import(
                org=self.org,
                content=stored["content"],
                actor=self.actor,
                confirm_calling_loss=form.cleaned_data["confirm_calling_loss"],
            )
        except CsvInvalid as exc:
            return self.render_to_response(
                self.get_context_data(form=CsvUploadForm(), errors=exc.errors)
            )
        except CallingDataAtRisk as risk:
            parsed = users_csv_parse(org=self.org, content=stored["content"])
            return self.preview(stored["content"], parsed, calling_at_risk=risk.emails)
        del request.session[self.session_key]
        messages.success(request, _("Import applied: %(n)d users changed.") % {"n": changed})
        return redirect(self.url("user_list"))


class LicenseTemplateView(ControlHubView):
    """C5: the auto-license template, and applying it to existing users (with "keep existing
    users' licenses" unticked it moves them between subscriptions, calling data kept)."""

    template_name = "controlhub/license_template.html"
    action = post_action = Action.CHANGE

    def make_form(self, data: Any = None) -> LicenseTemplateForm:
        template = AutoLicenseTemplate.objects.filter(org=self.org).first()
        initial = {
            "services": list(template.services.values_list("pk", flat=True)) if template else [],
            "keep_existing_licenses": template.keep_existing_licenses if template else True,
        }
        return LicenseTemplateForm(
            data, initial=initial, services=sel.services_with_use(org_services(org=self.org))
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx.setdefault("form", self.make_form())
        ctx["user_count"] = User.objects.filter(org=self.org, is_active=True).count()
        return ctx

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.make_form(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        actor = self.actor
        ids = form.cleaned_data["services"]
        keep = form.cleaned_data["keep_existing_licenses"]
        if "preview" not in request.POST and "apply" not in request.POST:
            try:
                license_template_save(
                    org=self.org, service_ids=ids, keep_existing_licenses=keep, actor=actor
                )
            except LicenseError as exc:
                for error in exc.errors:
                    form.add_error(None, error.message)
                return self.render_to_response(self.get_context_data(form=form))
            messages.success(request, _("Template saved; new users get these licenses."))
            return redirect(self.url("license_template"))
        # C5: preview (and apply) the proposed template; it is saved only if the change for the
        # existing users is valid. A failure is said of the org, not of one user.
        try:
            plan = license_template_plan(org=self.org, service_ids=ids, keep_existing_licenses=keep)
        except LicenseError as exc:
            refused = [e.message for e in exc.errors]
            return self.render_to_response(self.get_context_data(form=form, not_saved=refused[:50]))
        failed = plan_error_messages(plan.errors, emails=self.emails(plan.errors))
        if failed:
            return self.render_to_response(self.get_context_data(form=form, not_saved=failed[:50]))
        preview = {
            "preview": plan_rows(plan),
            "changes": len(plan.changes),
            "moves": len(plan.moves),
            "calling_losses": plan.calling_losses,
            "more": max(len(plan.changes) - PREVIEW_ROWS, 0),
        }
        if "apply" not in request.POST:
            license_template_save(
                org=self.org, service_ids=ids, keep_existing_licenses=keep, actor=actor
            )
            return self.render_to_response(self.get_context_data(form=form, **preview))
        try:
            changed = license_template_apply(
                org=self.org,
                actor=actor,
                confirm_calling_loss=form.cleaned_data["confirm_calling_loss"],
                service_ids=ids,
                keep_existing_licenses=keep,
            )
        except CallingDataAtRisk as risk:
            return self.render_to_response(
                self.get_context_data(form=form, calling_at_risk=risk.emails, **preview)
            )
        except LicenseError as exc:  # the org changed between the plan and the apply
            failed = plan_error_messages(exc.errors, emails=self.emails(exc.errors))
            return self.render_to_response(self.get_context_data(form=form, not_saved=failed[:50]))
        messages.success(
            request, _("Template applied to existing users: %(n)d users changed.") % {"n": changed}
        )
        return redirect(self.url("license_template"))

    def emails(self, errors: Any) -> dict[int, str]:
        ids = {e.user_id for e in errors if e.user_id and not e.org_wide}
        return dict(User.objects.filter(org=self.org, pk__in=ids).values_list("pk", "email"))


class SubscriptionListView(ControlHubView):
    template_name = "controlhub/subscription_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx["subscriptions"] = sel.subscription_rows(org=self.org, today=business_today())
        ctx["cancellable"] = LICENSE_HOLDING_STATES
        return ctx


class BuyView(ControlHubView):
    """The Buy page (T11, S1): each trial and each expiring or suspended subscription, what it
    holds and until when, and "I want to buy", which asks the managing partner to convert or
    renew it. The customer's own full admins ask; read-only admins and a partner acting for
    the customer see the page without the button."""

    template_name = "controlhub/buy.html"
    post_action = Action.REQUEST_PURCHASE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        today = business_today()
        rows = []
        for sub in buyable_subscriptions(org=self.org, today=today):
            open_request = next((r for r in sub.buy_requests.all() if r.handled_at is None), None)
            rows.append(
                {
                    "subscription": sub,
                    "open_request": open_request,
                    "tag": sel.license_tag(subscription=sub, today=today),
                    "form": kwargs.get("forms", {}).get(sub.pk)
                    or BuyRequestForm(initial={"subscription": sub.pk}),
                }
            )
        # The top bar's links follow the usual rule, not the Buy page's own.
        ctx.update(rows=rows, can_ask=self.may(Action.REQUEST_PURCHASE))
        return ctx

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = BuyRequestForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Pick a subscription to buy."))
            return redirect(self.url("buy"))
        sub = self.subscription_or_404(form.cleaned_data["subscription"])
        try:
            buy_request_create(
                subscription=sub,
                by=self.actor,
                message=form.cleaned_data["message"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(self.url("buy"))
        messages.success(
            request,
            _("%(partner)s has been asked to convert or renew it and will contact you.")
            % {"partner": sub.partner.name if sub.partner else ""},
        )
        return redirect(self.url("buy"))


class SubscriptionCancelView(ControlHubView):
    """C2: cancelling a subscription whose Calling still has users names them, demands an
    explicit confirmation, and offers the move instead."""

    template_name = "controlhub/subscription_cancel.html"
    action = post_action = Action.CHANGE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        sub = self.subscription_or_404(self.kwargs["pk"])
        if sub.state not in LICENSE_HOLDING_STATES:
            raise Http404
        ctx.setdefault("form", SubscriptionCancelForm())
        ctx.update(subscription=sub, calling_users=calling_users_of(subscription=sub))
        return ctx

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        sub = self.subscription_or_404(self.kwargs["pk"])
        if sub.state not in LICENSE_HOLDING_STATES:
            raise Http404
        form = SubscriptionCancelForm(request.POST)
        form.is_valid()
        try:
            subscription_cancel(
                subscription=sub,
                actor=self.actor,
                confirm_calling_loss=form.cleaned_data.get("confirm_calling_loss", False),
            )
        except CallingDataAtRisk:
            form.add_error(
                "confirm_calling_loss",
                _("Tick the box to confirm, or move these users to another subscription first."),
            )
            return self.render_to_response(self.get_context_data(form=form))
        messages.success(request, _("Subscription %(ref)s cancelled.") % {"ref": sub.reference})
        return redirect(self.url("subscription_list"))


class OrgDeleteView(ControlHubView):
    """D9/D10: a customer full admin deletes the org now, after typing its name. Everything
    goes; a tombstone stays. The admin's own account goes with it, so they are signed out."""

    template_name = "controlhub/org_delete.html"
    action = post_action = Action.DELETE_ORG

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx.setdefault("form", OrgDeleteForm(org=self.org))
        ctx["user_count"] = User.objects.filter(org=self.org).count()
        return ctx

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = OrgDeleteForm(request.POST, org=self.org)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        name = self.org.name
        actor = self.actor
        own_account = actor.org_id == self.org.pk
        org_delete(org=self.org, reason=DeletionReason.CUSTOMER_REQUEST, actor=actor)
        if own_account:
            logout(request)
        return render(request, "controlhub/org_deleted.html", {"name": name})


# --- users: add, invite, role, deactivate, bulk add ---------------------------------------------


class UserAddView(ControlHubView):
    """Add one user with a role; optionally invite them by email and give them the
    auto-license template's licenses (C5)."""

    template_name = "controlhub/user_add.html"
    action = post_action = Action.CHANGE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx.setdefault("form", UserAddForm(org=self.org))
        return ctx

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = UserAddForm(request.POST, org=self.org)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        data = form.cleaned_data
        try:
            person = org_user_add(
                org=self.org,
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role=data["role"],
                invite=data["invite"],
                template_licenses=data["template_licenses"],
                actor=self.actor,
            )
        except UserChangeRefused as refused:
            form.add_error("email", refused.message)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        except LicenseError as exc:
            for text in plan_error_messages(exc.errors, emails={}):
                form.add_error("template_licenses", text)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        messages.success(
            request,
            (
                _("%(email)s added and invited by email to set a password.")
                if data["invite"]
                else _("%(email)s added.")
            )
            % {"email": person.email},
        )
        return redirect(self.url("user_detail", pk=person.pk))


class UserChangeView(ControlHubView):
    """Base of the one-button changes on a user's page (role, deactivate, reactivate, invite):
    POST only; the result is a message on the user's page."""

    http_method_names = ["post"]
    action = post_action = Action.CHANGE

    def change(self, request: HttpRequest, person: User) -> str | None:
        raise NotImplementedError

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        person = self.org_user_or_404(self.kwargs["pk"])
        try:
            said = self.change(request, person)
        except UserChangeRefused as refused:
            messages.error(request, refused.message)
            return redirect(self.url("user_detail", pk=person.pk))
        if said:
            messages.success(request, said)
        if person.pk == self.actor.pk and not self.still_admin():
            return redirect("home")  # they changed their own access away
        return redirect(self.url("user_detail", pk=person.pk))

    def still_admin(self) -> bool:
        me = User.objects.get(pk=self.actor.pk)
        return me.is_active and org_role_of(user=me, org=self.org) in CUSTOMER_ADMIN_ROLES


class UserRoleView(UserChangeView):
    """Full admin, read-only admin or user; the last full admin keeps the role."""

    def change(self, request: HttpRequest, person: User) -> str | None:
        form = UserRoleForm(request.POST)
        if not form.is_valid():
            raise UserChangeRefused(_("Choose one of the roles."))
        role = form.cleaned_data["role"]
        if not org_user_role_set(org=self.org, user=person, role=role, actor=self.actor):
            return None
        return _("%(email)s is now: %(role)s.") % {
            "email": person.email,
            "role": dict(Role.choices)[role],
        }


class UserDeactivateView(UserChangeView):
    def change(self, request: HttpRequest, person: User) -> str | None:
        if not org_user_deactivate(org=self.org, user=person, actor=self.actor):
            return None
        return _("%(email)s is deactivated and can no longer sign in.") % {"email": person.email}


class UserReactivateView(UserChangeView):
    def change(self, request: HttpRequest, person: User) -> str | None:
        if not org_user_reactivate(org=self.org, user=person, actor=self.actor):
            return None
        return _("%(email)s is active again.") % {"email": person.email}


class UserInviteView(UserChangeView):
    def change(self, request: HttpRequest, person: User) -> str | None:
        invitation_send(org=self.org, user=person, actor=self.actor)
        return _("Invitation sent to %(email)s; the link works for %(days)d days.") % {
            "email": person.email,
            "days": INVITATION_VALID_DAYS,
        }


class UsersAddCsvView(ControlHubView):
    """Bulk-add users from a CSV: upload → every row checked, every bad row named by line →
    preview → add all, or none. The checked file waits in the session between preview and
    apply; the apply checks it again."""

    template_name = "controlhub/users_add_csv.html"
    action = post_action = Action.CHANGE

    @property
    def session_key(self) -> str:
        return USERS_ADD_SESSION_KEY.format(org=self.org.pk)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.GET.get("sample"):
            response = HttpResponse(users_add_csv_sample(), content_type="text/csv")
            response["Content-Disposition"] = 'attachment; filename="users-to-add.csv"'
            return response
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx.setdefault("form", UsersAddCsvForm())
        return ctx

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "apply" in request.POST:
            return self.apply(request)
        form = UsersAddCsvForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        content: str = form.cleaned_data["file"]
        options = {
            "invite": form.cleaned_data["invite"],
            "template_licenses": form.cleaned_data["template_licenses"],
        }
        parsed = users_add_csv_parse(
            org=self.org, content=content, template_licenses=options["template_licenses"]
        )
        if not parsed.ok:
            return self.render_to_response(self.get_context_data(form=form, errors=parsed.errors))
        token = hashlib.sha256(content.encode()).hexdigest()
        request.session[self.session_key] = {"token": token, "content": content, **options}
        return self.render_to_response(
            self.get_context_data(
                preview=parsed.users[:PREVIEW_ROWS],
                count=len(parsed.users),
                more=max(len(parsed.users) - PREVIEW_ROWS, 0),
                licenses=parsed.licenses,
                role_labels=dict(Role.choices),
                apply_form=UsersAddApplyForm(initial={"token": token}),
                **options,
            )
        )

    def apply(self, request: HttpRequest) -> HttpResponse:
        form = UsersAddApplyForm(request.POST)
        stored = request.session.get(self.session_key)
        if not form.is_valid() or not stored or stored["token"] != form.cleaned_data["token"]:
            messages.error(request, _("The preview has expired; upload the file again."))
            return redirect(self.url("users_add_csv"))
        try:
            added = users_add_csv_import(
                org=self.org,
                content=stored["content"],
                actor=self.actor,
                invite=stored["invite"],
                template_licenses=stored["template_licenses"],
            )
        except UsersAddInvalid as exc:
            return self.render_to_response(
                self.get_context_data(form=UsersAddCsvForm(), errors=exc.errors)
            )
        del request.session[self.session_key]
        messages.success(
            request,
            ngettext("%(n)d user added.", "%(n)d users added.", added) % {"n": added},
        )
        return redirect(self.url("user_list"))


class InvitationAcceptView(View):
    """The invitation link (no sign-in): the person sets a password, once, before the link
    expires; then they are signed in. A bad, replaced, expired or used link says so."""

    template_name = "controlhub/invitation_accept.html"

    def invitation(self) -> Any:
        return invitation_from_token(org_pk=self.kwargs["org_pk"], token=self.kwargs["token"])

    def render(self, request: HttpRequest, status: int = 200, **ctx: Any) -> HttpResponse:
        return render(request, self.template_name, ctx, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            invitation = self.invitation()
        except InvitationInvalid as refused:
            return self.render(request, status=410, refused=refused.message)
        return self.render(request, invitation=invitation, form=SetPasswordForm(invitation.user))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            invitation = self.invitation()
        except InvitationInvalid as refused:
            return self.render(request, status=410, refused=refused.message)
        form = SetPasswordForm(invitation.user, request.POST)
        if not form.is_valid():
            return self.render(request, status=400, invitation=invitation, form=form)
        try:
            person = invitation_accept(
                invitation=invitation, password=form.cleaned_data["new_password1"]
            )
        except InvitationInvalid as refused:
            return self.render(request, status=410, refused=refused.message)
        login(request, person, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request, _("Your password is set. Welcome to %(org)s.") % {"org": invitation.org.name}
        )
        return redirect("home")


def role_label(role: str) -> str:
    """The signed-in person's role in this org, for the header."""
    labels = {**dict(Role.choices), **dict(PartnerAccess.choices)}
    return str(labels.get(role, role))
