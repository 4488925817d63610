"""The REST API, v1 (issue 15): another interface over the same selectors, forms and services
as the pages. Nothing here decides a rule: the forms validate (their messages become field
errors), the services refuse (T1 by role, T4, T6/T7, T9 …), the selectors shape the reads.

A key acts as its creator (``api.auth``): partner endpoints need a partner key, Control Hub
endpoints resolve the org in the URL exactly as the Control Hub pages do (a customer admin of
it, or a partner with access), so another tenant's object is a 404.
"""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.db.models import QuerySet
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from customers.api import MAX_EVENTS, ActivityInvalid, activity_events_record
from customers.choices import ActivityKind
from customers.filters import CustomerFilterSet
from customers.selectors import (
    customer_list_rows,
    customer_page,
    customer_rows_attach,
    customer_rows_page,
    partner_customers,
)
from customers.tables import CustomerTable
from customers.views import CustomerListView
from licensing.calling import (
    CallingDataAtRisk,
    LicenseError,
    license_plan,
    license_plan_apply,
    org_licenses_lock,
    user_licenses_set,
)
from licensing.choices import ServiceType, SubscriptionKind
from licensing.models import Order, Subscription
from licensing.orders import OrderLineSpec, OrderRefused, order_place
from licensing.selectors import orders_of_partner, org_users
from partnerhub.accounts.access import ControlHubAction, PartnerAction
from partnerhub.accounts.models import AuditEntry, Organization, User
from partnerhub.accounts.notifications import notification_read, notification_text, partner_feed
from trials import services as trial_services
from trials.forms import (
    DeviceFormSet,
    TrialExtendForm,
    TrialRequestForm,
    TrialServicesForm,
    TrialStartForm,
)
from trials.models import ConsentRequest
from trials.selectors import available_service_types, partner_trials

from . import serializers as s
from .base import ApiView, form_errors

PROBLEMS = {
    400: OpenApiResponse(s.ProblemSerializer, description="Invalid fields (problem details)"),
    401: OpenApiResponse(s.ProblemSerializer, description="No or a bad API key"),
    403: OpenApiResponse(s.ProblemSerializer, description="The key's role or scope forbids it"),
    404: OpenApiResponse(s.ProblemSerializer, description="Not found (or another tenant's)"),
    429: OpenApiResponse(s.ProblemSerializer, description="Rate limit; see Retry-After"),
}
POST_PROBLEMS = {
    **PROBLEMS,
    409: OpenApiResponse(s.ProblemSerializer, description="Same Idempotency-Key in flight"),
    413: OpenApiResponse(s.ProblemSerializer, description="Body too large"),
    415: OpenApiResponse(s.ProblemSerializer, description="Send application/json"),
    422: OpenApiResponse(s.ProblemSerializer, description="Idempotency-Key reused, other body"),
}
IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Retrying a POST with the same key returns the first answer and changes nothing.",
)
PAGE_SIZE_MAX = 100


# ---- helpers -------------------------------------------------------------------------------
def _validated(serializer_class: type[s.serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _offer_form_data(data: dict[str, Any]) -> QueryDict:
    """The JSON of an offer as the form data the trial pages post (so the same forms decide)."""
    form = QueryDict(mutable=True)
    for name in ("company_name", "admin_email", "vertical", "country", "site_url", "time_zone"):
        if data.get(name) is not None:
            form[name] = str(data[name])
    for name in ("licenses", "meetings_edition", "length"):
        if data.get(name) is not None:
            form[name] = str(data[name])
    for service_type in data.get("services", []):
        form[service_type] = "on"
        # One license count for every licensed service, or a count per service.
        count = (data.get("service_licenses") or {}).get(service_type, data.get("licenses"))
        if count is not None:
            form[f"{service_type}_licenses"] = str(count)
    lines = data.get("device_lines", [])
    form["dev-TOTAL_FORMS"] = str(len(lines))
    form["dev-INITIAL_FORMS"] = "0"
    form["dev-MAX_NUM_FORMS"] = "6"
    for index, line in enumerate(lines):
        form[f"dev-{index}-device_type"] = line["device_type"]
        form[f"dev-{index}-quantity"] = str(line["quantity"])
    return form


def _offer_forms(
    form_class: type[TrialStartForm] | type[TrialRequestForm],
    serializer_class: type[s.serializers.Serializer],
    body: Any,
) -> tuple[Any, Any]:
    """An offer's JSON through the trial pages' own forms (the offer and its device lines),
    validated: the API decides nothing the pages do not decide."""
    form_data = _offer_form_data(_validated(serializer_class, body))
    form, devices = form_class(form_data), DeviceFormSet(form_data, prefix="dev")
    _check_forms((form, ""), (devices, "device_lines"))
    return form, devices


def _check_forms(*forms: Any) -> None:
    errors: dict[str, Any] = {}
    for form, prefix in forms:
        if not form.is_valid():
            errors.update(form_errors(form, prefix))
    if errors:
        raise exceptions.ValidationError(errors)


def _cursor_scope(request: Request) -> str:
    items = sorted(
        (k, v) for k, values in request.query_params.lists() for v in values if k != "cursor"
    )
    return repr(items)


def _cursor_offset(request: Request, salt: str) -> int:
    raw = request.query_params.get("cursor")
    if not raw:
        return 0
    try:
        value = signing.loads(raw, salt=salt)
        offset, scope = int(value["o"]), str(value["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise exceptions.ValidationError({"cursor": ["This cursor is not valid."]}) from None
    if scope != _cursor_scope(request) or offset < 0:
        raise exceptions.ValidationError(
            {"cursor": ["This cursor belongs to other filters or another sort."]}
        )
    return offset


def _cursor(request: Request, salt: str, offset: int) -> str:
    return signing.dumps({"o": offset, "s": _cursor_scope(request)}, salt=salt)


def _page_size(request: Request, default: int = 25) -> int:
    raw = request.query_params.get("page_size")
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= PAGE_SIZE_MAX:
        raise exceptions.ValidationError(
            {"page_size": [f"A whole number from 1 to {PAGE_SIZE_MAX}."]}
        )
    return size


def _page_links(
    request: Request, salt: str, offset: int, size: int, more: bool
) -> dict[str, str | None]:
    return {
        "next": _cursor(request, salt, offset + size) if more else None,
        "previous": _cursor(request, salt, max(offset - size, 0)) if offset else None,
    }


PAGE_PARAMS = [
    OpenApiParameter("cursor", OpenApiTypes.STR, description="From `next`/`previous`."),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="1–100, default 25."),
]


# ---- customers (P1–P4, D2) -----------------------------------------------------------------
# A column of the page's table (``-`` for descending) → the read-model key it sorts by.
SORT_KEYS: dict[str, str] = {
    name: str(column.order_by[0]) if column.order_by else name
    for name, column in sorted(CustomerTable.base_columns.items())
    if column.orderable is not False
}


class CustomerListApi(ApiView):
    """The partner's customer list: the page's filters, search and sort, cursor pages."""

    @extend_schema(
        operation_id="customers_list",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Name, admin email or domain."),
            OpenApiParameter("to_be_deleted", OpenApiTypes.BOOL),
            OpenApiParameter("provisioning_status", OpenApiTypes.STR, many=True),
            OpenApiParameter("subscription_status", OpenApiTypes.STR, many=True),
            OpenApiParameter("service", OpenApiTypes.STR, many=True),
            OpenApiParameter("region", OpenApiTypes.STR, many=True),
            OpenApiParameter(
                "sort",
                OpenApiTypes.STR,
                enum=[*SORT_KEYS, *(f"-{k}" for k in SORT_KEYS)],
                description="A column, `-` for descending; default `name`.",
            ),
            *PAGE_PARAMS,
        ],
        responses={200: s.CustomerPageSerializer, **PROBLEMS},
        examples=[
            OpenApiExample(
                "A page",
                response_only=True,
                value={
                    "results": [
                        {
                            "id": 42,
                            "name": "Acme Ltd",
                            "country": "DK",
                            "data_region": "emea",
                            "provisioning_status": "provisioned",
                            "service_types": ["meetings", "calling"],
                            "admins": ["admin@acme.example"],
                            "marked_for_deletion_at": None,
                            "planned_deletion_at": None,
                            "subscriptions": [],
                        }
                    ],
                    "next": "eyJvIjoyNX0:1v…",
                    "previous": None,
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        partner = self.partner_side(PartnerAction.VIEW)
        size = _page_size(request)
        sort = request.query_params.get("sort") or CustomerListView.default_sort
        if sort.lstrip("-") not in SORT_KEYS:
            raise exceptions.ValidationError({"sort": [f"One of: {', '.join(SORT_KEYS)}."]})
        offset = _cursor_offset(request, "api.customers")
        # The page's own reads: the read model's rows, its FilterSet (search and filters), the
        # sort key of the page's column, the same page cut and the same row loading.
        params = request.query_params.copy()
        for name in ("cursor", "page_size", "sort"):
            params.pop(name, None)
        base = customer_list_rows(partner=partner)
        filterset = CustomerFilterSet(
            params or None, queryset=base, request=request._request, partner=partner
        )
        if filterset.is_bound and not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        page = customer_rows_page(
            partner=partner,
            filtered=filterset.qs if filterset.is_bound else base,
            key=SORT_KEYS[sort.lstrip("-")],
            descending=sort.startswith("-"),
            offset=offset,
            limit=size + 1,
        )
        rows = customer_rows_attach(
            partner=partner, today=timezone.localdate(), now=timezone.now(), queryset=page
        )
        more = len(rows) > size
        orgs = [row.org for row in rows[:size]]  # type: ignore[attr-defined]
        data = s.CustomerOutSerializer(orgs, many=True).data
        return Response(
            {"results": data, **_page_links(request, "api.customers", offset, size, more)}
        )


class CustomerDetailApi(ApiView):
    @extend_schema(
        operation_id="customers_retrieve",
        responses={200: s.CustomerDetailSerializer, **PROBLEMS},
    )
    def get(self, request: Request, pk: int) -> Response:
        partner = self.partner_side(PartnerAction.VIEW)
        customer = get_object_or_404(partner_customers(partner=partner), pk=pk)
        page = customer_page(
            partner=partner, customer=customer, today=timezone.localdate(), now=timezone.now()
        )
        data = dict(s.CustomerOutSerializer(customer).data)
        data["consent_requests"] = s.ConsentOutSerializer(page.consent_requests, many=True).data
        data["extension_requests"] = s.ExtensionRequestOutSerializer(
            page.extension_requests, many=True
        ).data
        return Response(data)


# ---- trials (T2–T8, T10) -------------------------------------------------------------------
class _TrialApi(ApiView):
    scopes = {"GET": "read", "POST": "trials", "PUT": "trials", "DELETE": "trials"}

    def trial_action(self) -> PartnerAction:
        return PartnerAction.VIEW if self.request.method == "GET" else PartnerAction.RUN_TRIALS

    def trial(self, pk: int) -> Subscription:
        partner = self.partner_side(self.trial_action())
        return get_object_or_404(
            partner_trials(partner=partner).select_related("customer", "partner"), pk=pk
        )

    def consent(self, pk: int) -> ConsentRequest:
        partner = self.partner_side(self.trial_action())
        return get_object_or_404(
            ConsentRequest.objects.select_related("customer", "partner", "trial"),
            pk=pk,
            partner=partner,
        )


def _trial_out(trial: Subscription) -> dict[str, Any]:
    trial = Subscription.objects.prefetch_related("services").get(pk=trial.pk)
    return dict(s.TrialOutSerializer(trial).data)


class TrialStartApi(_TrialApi):
    @extend_schema(
        operation_id="trials_start",
        summary="Start a trial for a new customer",
        request=s.TrialStartSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: s.TrialOutSerializer, **POST_PROBLEMS},
        examples=[
            OpenApiExample(
                "Meetings and Calling for 60 days",
                request_only=True,
                value={
                    "company_name": "Acme Ltd",
                    "admin_email": "it@acme.example",
                    "vertical": "retail",
                    "country": "DK",
                    "services": ["meetings", "calling"],
                    "licenses": 25,
                    "length": 60,
                    "device_lines": [{"device_type": "desk_phone", "quantity": 5}],
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        return self.idempotent(self.start)

    def start(self) -> Response:
        partner = self.partner_side(PartnerAction.RUN_TRIALS)
        form, devices = _offer_forms(TrialStartForm, s.TrialStartSerializer, self.json_body())
        trial = trial_services.trial_start_new_customer(
            partner=partner,
            actor=self.principal.user,
            company_name=form.cleaned_data["company_name"],
            admin_email=form.cleaned_data["admin_email"],
            vertical=form.cleaned_data["vertical"],
            country=form.cleaned_data["country"],
            services=form.service_specs(),
            devices=devices.orders(),
            length_days=form.cleaned_data["length"],
        )
        return Response(_trial_out(trial), status=201)


class TrialRequestApi(_TrialApi):
    @extend_schema(
        operation_id="trial_requests_create",
        summary="Request a trial for an existing organization (its admin consents)",
        request=s.TrialRequestSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: s.ConsentOutSerializer, **POST_PROBLEMS},
    )
    def post(self, request: Request) -> Response:
        return self.idempotent(self.create)

    def create(self) -> Response:
        partner = self.partner_side(PartnerAction.RUN_TRIALS)
        form, devices = _offer_forms(TrialRequestForm, s.TrialRequestSerializer, self.json_body())
        consent = trial_services.trial_request_existing_org(
            partner=partner,
            actor=self.principal.user,
            admin_email=form.cleaned_data["admin_email"],
            services=form.service_specs(),
            devices=devices.orders(),
            length_days=form.cleaned_data["length"],
        )
        return Response(s.ConsentOutSerializer(consent).data, status=201)


class ConsentResendApi(_TrialApi):
    @extend_schema(
        operation_id="trial_requests_resend",
        request=None,
        parameters=[IDEMPOTENCY],
        responses={200: s.ConsentResendOutSerializer, **POST_PROBLEMS},
    )
    def post(self, request: Request, pk: int) -> Response:
        consent = self.consent(pk)

        def resend() -> Response:
            sent = trial_services.consent_resend(consent=consent, actor=self.principal.user)
            return Response({"emails_sent": sent})

        return self.idempotent(resend)


class ConsentCancelApi(_TrialApi):
    @extend_schema(
        operation_id="trial_requests_cancel",
        request=None,
        parameters=[IDEMPOTENCY],
        responses={204: None, **POST_PROBLEMS},
    )
    def post(self, request: Request, pk: int) -> Response:
        consent = self.consent(pk)

        def cancel() -> Response:
            trial_services.consent_cancel(consent=consent, actor=self.principal.user)
            return Response(status=204)

        return self.idempotent(cancel)


class TrialDetailApi(_TrialApi):
    @extend_schema(
        operation_id="trials_retrieve", responses={200: s.TrialOutSerializer, **PROBLEMS}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_trial_out(self.trial(pk)))

    @extend_schema(
        operation_id="trials_delete",
        summary="Delete a trial (its licenses go)",
        responses={204: None, **PROBLEMS},
    )
    def delete(self, request: Request, pk: int) -> Response:
        trial_services.trial_delete(trial=self.trial(pk), actor=self.principal.user)
        return Response(status=204)


class TrialExtendApi(_TrialApi):
    @extend_schema(
        operation_id="trials_extend",
        summary="Extend a trial, counted from today; device trials past the cap wait for support",
        request=s.TrialExtendSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: s.TrialExtendOutSerializer, **POST_PROBLEMS},
        examples=[OpenApiExample("30 days", request_only=True, value={"days": 30})],
    )
    def post(self, request: Request, pk: int) -> Response:
        trial = self.trial(pk)

        def extend() -> Response:
            data = _validated(s.TrialExtendSerializer, self.json_body())
            form = TrialExtendForm({"days": str(data["days"]), "reason": data.get("reason", "")})
            _check_forms((form, ""))
            result = trial_services.trial_extend(
                trial=trial,
                actor=self.principal.user,
                days=form.cleaned_data["days"],
                reason=form.cleaned_data["reason"],
            )
            request_out = (
                s.ExtensionRequestOutSerializer(result.extension_request).data
                if result.extension_request
                else None
            )
            return Response({"end_date": result.end_date, "extension_request": request_out})

        return self.idempotent(extend)


class TrialServicesApi(_TrialApi):
    @extend_schema(
        operation_id="trials_services_set",
        summary="Set the services a trial holds from now on (add and remove)",
        request=s.TrialServicesSerializer,
        responses={200: s.TrialOutSerializer, **POST_PROBLEMS},
    )
    def put(self, request: Request, pk: int) -> Response:
        trial = self.trial(pk)
        partner = self.partner_side(PartnerAction.RUN_TRIALS)
        data = _validated(s.TrialServicesSerializer, self.json_body())
        form_data = _offer_form_data(data)
        current = list(trial.services.values_list("type", flat=True))
        allowed = available_service_types(
            customer=trial.customer, partner=partner, exclude_trial=trial
        )
        form = TrialServicesForm(form_data, current=current, allowed=allowed)
        devices = DeviceFormSet(form_data, prefix="dev")
        _check_forms((form, ""), (devices, "device_lines"))
        trial = trial_services.trial_services_change(
            trial=trial,
            actor=self.principal.user,
            add=form.additions(),
            remove=form.removals(),
            devices=devices.orders(),
        )
        return Response(_trial_out(trial))


# ---- orders (T9, W1) -----------------------------------------------------------------------
def _order_out(order: Order) -> dict[str, Any]:
    now = timezone.now()
    if order.link_used_at:
        link = "used"
    elif order.link_expires_at is None:
        link = "none"
    elif order.link_expires_at <= now:
        link = "expired"
    else:
        link = "unused"
    order.link_state = link  # type: ignore[attr-defined]
    return dict(s.OrderOutSerializer(order).data)


class OrderListApi(ApiView):
    scopes = {"GET": "read", "POST": "orders"}

    @extend_schema(
        operation_id="orders_place",
        summary="Place an order (a trial conversion when trial_id is given); emails the setup link",
        request=s.OrderPlaceSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: s.OrderOutSerializer, **POST_PROBLEMS},
        examples=[
            OpenApiExample(
                "Convert a trial",
                request_only=True,
                value={
                    "trial_id": 7,
                    "provisioning_contact_email": "it@acme.example",
                    "term_months": 12,
                    "lines": [{"service_type": "meetings", "quantity": 25}],
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        return self.idempotent(self.place)

    def place(self) -> Response:
        partner = self.partner_side(PartnerAction.RUN_TRIALS)
        data = _validated(s.OrderPlaceSerializer, self.json_body())
        trial = None
        if data.get("trial_id") is not None:
            trial = get_object_or_404(
                Subscription.objects.filter(partner=partner, kind=SubscriptionKind.TRIAL),
                pk=data["trial_id"],
            )
        types = [line["service_type"] for line in data["lines"]]
        if len(set(types)) != len(types):
            raise exceptions.ValidationError({"lines": ["Each service once."]})
        try:
            order = order_place(
                lines=[OrderLineSpec(ln["service_type"], ln["quantity"]) for ln in data["lines"]],
                provisioning_contact_email=data["provisioning_contact_email"],
                trial=trial,
                partner=partner,
                term_months=data["term_months"],
                placed_by=self.principal.user,
            )
        except OrderRefused as refused:
            raise exceptions.ValidationError({"non_field_errors": [refused.message]}) from None
        return Response(_order_out(orders_of_partner(partner=partner).get(pk=order.pk)), status=201)


class OrderDetailApi(ApiView):
    @extend_schema(
        operation_id="orders_retrieve", responses={200: s.OrderOutSerializer, **PROBLEMS}
    )
    def get(self, request: Request, number: str) -> Response:
        partner = self.partner_side(PartnerAction.VIEW)
        order = get_object_or_404(orders_of_partner(partner=partner), number=number)
        return Response(_order_out(order))


# ---- notifications (the partner person's feed) -------------------------------------------
def _notification_out(rows: list[Any]) -> Any:
    for row in rows:
        row.text = notification_text(
            kind=row.kind, customer_name=row.customer_name, context=row.context
        )
    return s.NotificationOutSerializer(rows, many=True).data


class NotificationListApi(ApiView):
    @extend_schema(
        operation_id="notifications_list",
        summary="The key creator's notifications, newest first",
        parameters=PAGE_PARAMS,
        responses={200: s.NotificationPageSerializer, **PROBLEMS},
    )
    def get(self, request: Request) -> Response:
        self.partner_side(PartnerAction.OWN_SETTINGS)
        size = _page_size(request, 50)
        offset = _cursor_offset(request, "api.notifications")
        rows = list(partner_feed(user=self.principal.user)[offset : offset + size + 1])
        links = _page_links(request, "api.notifications", offset, size, len(rows) > size)
        return Response({"results": _notification_out(rows[:size]), **links})


class NotificationReadApi(ApiView):
    scopes = {"POST": "read"}

    @extend_schema(
        operation_id="notifications_read",
        request=None,
        responses={200: s.NotificationOutSerializer, **POST_PROBLEMS},
    )
    def post(self, request: Request, pk: int) -> Response:
        self.partner_side(PartnerAction.OWN_SETTINGS)

        def read() -> Response:
            row = notification_read(user=self.principal.user, notification_id=pk)
            if row is None:
                raise Http404
            return Response(_notification_out([row])[0])

        return self.idempotent(read)


# ---- the audit log of the key's own org ----------------------------------------------------
class AuditListApi(ApiView):
    @extend_schema(
        operation_id="audit_list",
        summary="What people of your organization did, newest first",
        parameters=PAGE_PARAMS,
        responses={200: s.AuditPageSerializer, **PROBLEMS},
    )
    def get(self, request: Request) -> Response:
        size = _page_size(request, 50)
        offset = _cursor_offset(request, "api.audit")
        org = self.principal.org
        rows = list(
            AuditEntry.objects.filter(actor__org=org).order_by("-at", "-pk")[
                offset : offset + size + 1
            ]
        )
        data = s.AuditOutSerializer(rows[:size], many=True).data
        return Response(
            {"results": data, **_page_links(request, "api.audit", offset, size, len(rows) > size)}
        )


# ---- Control Hub (C2–C4) -------------------------------------------------------------------
class _ControlHubApi(ApiView):
    scopes = {"GET": "read", "POST": "users", "PUT": "users"}

    def org(self, org_pk: int) -> Organization:
        """The org as Control Hub resolves it: READ to look, CHANGE to change licenses."""
        read = self.request.method == "GET"
        return self.controlhub(org_pk, ControlHubAction.READ if read else ControlHubAction.CHANGE)


class UserListApi(_ControlHubApi):
    @extend_schema(
        operation_id="controlhub_users_list",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Email or name."),
            OpenApiParameter("service", OpenApiTypes.STR, enum=list(ServiceType.values)),
            *PAGE_PARAMS,
        ],
        responses={200: s.UserPageSerializer, **PROBLEMS},
    )
    def get(self, request: Request, org_pk: int) -> Response:
        org = self.org(org_pk)
        size = _page_size(request, 50)
        offset = _cursor_offset(request, "api.users")
        service = request.query_params.get("service", "")
        if service and service not in ServiceType.values:
            raise exceptions.ValidationError({"service": ["Not a service type."]})
        qs: QuerySet[User] = org_users(
            org=org, search=request.query_params.get("q", "").strip()[:200], service_type=service
        )
        rows = list(qs[offset : offset + size + 1])
        data = s.UserOutSerializer(rows[:size], many=True).data
        return Response(
            {"results": data, **_page_links(request, "api.users", offset, size, len(rows) > size)}
        )


class UserLicensesApi(_ControlHubApi):
    @extend_schema(
        operation_id="controlhub_user_licenses_set",
        summary="Set one user's licenses in one change (a Calling move keeps calling data)",
        description=(
            "Give every service id the user should hold afterwards. Swapping Calling from one "
            "subscription to another moves the license and keeps voicemail, numbers and "
            "settings. Removing Calling without a new one deletes that data: the request is "
            "refused (400, field `confirm_calling_loss`) unless `confirm_calling_loss` is true."
        ),
        request=s.LicenseSetSerializer,
        responses={200: s.LicenseChangeOutSerializer, **POST_PROBLEMS},
    )
    def put(self, request: Request, org_pk: int, pk: int) -> Response:
        org = self.org(org_pk)
        person = get_object_or_404(User.objects.filter(org=org), pk=pk)
        data = _validated(s.LicenseSetSerializer, self.json_body())
        try:
            change = user_licenses_set(
                user=person,
                service_ids=data["service_ids"],
                actor=self.principal.user,
                confirm_calling_loss=data["confirm_calling_loss"],
            )
        except CallingDataAtRisk as risk:
            raise exceptions.ValidationError(
                {
                    "confirm_calling_loss": [
                        "This removes Calling and deletes the calling data of "
                        + ", ".join(risk.emails)
                    ]
                }
            ) from None
        except LicenseError as exc:
            raise exceptions.ValidationError(
                {"service_ids": [e.message for e in exc.errors]}
            ) from None
        return Response(
            {
                "changed": change is not None,
                "calling_moved": bool(change and change.calling_move),
                "calling_lost": bool(change and change.calling_lost),
            }
        )


class LicenseBulkApi(_ControlHubApi):
    @extend_schema(
        operation_id="controlhub_licenses_bulk",
        summary="Apply a license plan to many users: every row or none, every bad row named",
        request=s.LicenseBulkSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: s.LicenseBulkOutSerializer, **POST_PROBLEMS},
    )
    def post(self, request: Request, org_pk: int) -> Response:
        org = self.org(org_pk)
        return self.idempotent(lambda: self.apply(org))

    def apply(self, org: Organization) -> Response:
        data = _validated(s.LicenseBulkSerializer, self.json_body())
        rows = data["rows"]
        org_licenses_lock(org=org)
        users = dict(
            User.objects.filter(org=org, email__in=[r["email"].lower() for r in rows]).values_list(
                "email", "pk"
            )
        )
        errors: dict[str, list[str]] = {}
        wanted: dict[int, list[int]] = {}
        for index, row in enumerate(rows):
            email = row["email"].lower()
            if email not in users:
                errors[f"rows[{index}].email"] = ["No user of this organization has this email."]
            elif users[email] in wanted:
                errors[f"rows[{index}].email"] = ["This user is listed twice."]
            else:
                wanted[users[email]] = row["service_ids"]
        if errors:
            raise exceptions.ValidationError(errors)
        index_of = {users[r["email"].lower()]: i for i, r in enumerate(rows)}
        plan = license_plan(org=org, wanted=wanted, users={v: k for k, v in users.items()})
        if plan.errors:
            raise exceptions.ValidationError(
                {
                    (
                        f"rows[{index_of[e.user_id]}].service_ids"
                        if e.user_id in index_of
                        else "rows"
                    ): [e.message]
                    for e in plan.errors
                }
            )
        try:
            changed = license_plan_apply(
                plan=plan,
                actor=self.principal.user,
                confirm_calling_loss=data["confirm_calling_loss"],
                source="api",
            )
        except CallingDataAtRisk as risk:
            raise exceptions.ValidationError(
                {
                    "confirm_calling_loss": [
                        f"This deletes the calling data of {', '.join(risk.emails)}."
                    ]
                }
            ) from None
        except LicenseError as exc:
            raise exceptions.ValidationError({"rows": [e.message for e in exc.errors]}) from None
        return Response({"users_changed": changed})


# ---- activity (D5), folded in from POST /api/activity/ -------------------------------------
class ActivityApi(ApiView):
    """D5: outside systems report activity of the key's own org's users (same parsing and
    service as the old endpoint; one bad event and none is recorded)."""

    scopes = {"POST": "users"}

    @extend_schema(
        operation_id="activity_report",
        summary="Report user activity (sign-ins, messages) so the org is not deleted as idle",
        request={
            "application/json": {
                "type": "object",
                "properties": {
                    "events": {
                        "type": "array",
                        "maxItems": 1000,
                        "items": {
                            "type": "object",
                            "required": ["email", "kind"],
                            "properties": {
                                "email": {"type": "string", "format": "email"},
                                "kind": {"type": "string", "enum": list(ActivityKind.values)},
                                "at": {"type": "string", "format": "date-time"},
                                "source": {"type": "string", "maxLength": 64},
                            },
                        },
                    }
                },
                "required": ["events"],
            }
        },
        parameters=[IDEMPOTENCY],
        responses={200: s.ActivityOutSerializer, **POST_PROBLEMS},
    )
    def post(self, request: Request) -> Response:
        return self.idempotent(self.report)

    def report(self) -> Response:
        body = self.json_body()
        raw = body.get("events")
        if not isinstance(raw, list) or not raw or len(raw) > MAX_EVENTS:
            raise exceptions.ValidationError(
                {"events": [f"Send a list of 1 to {MAX_EVENTS} events."]}
            )
        try:
            recorded, ignored = activity_events_record(
                raw_events=raw, users=User.objects.filter(org=self.principal.org)
            )
        except ActivityInvalid as invalid:
            raise exceptions.ValidationError(
                {f"events[{e['index']}].{e['field']}": [e["message"]] for e in invalid.errors}
            ) from None
        return Response({"recorded": recorded, "ignored": ignored})
