"""View mixins over the access decisions of ``access.py`` (T1, T3, tenant isolation).

Views mix these in; each resolves the signed-in person's standing once and stores it on the
view. The decision itself (who may do what) lives in ``access.py`` only; this module says why,
in words, when it refuses. An object outside the person's tenant must be looked up through
``self.partner`` or ``self.org`` so that it is a 404, never a 403 that confirms it exists.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models.expressions import BaseExpression
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from .access import (
    ControlHubAccess,
    ControlHubAction,
    PartnerAction,
    controlhub_access,
    partner_access,
)
from .choices import OrgKind, PartnerAccess, Role
from .models import Membership, Organization, User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignedInRequest(HttpRequest):
    """For annotations: a request that passed a sign-in check (the support console's actions,
    ``login_required`` views), so its user is a person, never ``AnonymousUser``."""

    user: User


def signed_in_user(request: HttpRequest) -> User:
    """The person of a request behind a sign-in check, where the annotation cannot say so (an
    overridden admin method keeps its base class's ``HttpRequest``)."""
    if not request.user.is_authenticated:
        raise PermissionDenied
    return request.user


def not_certified_reason() -> str:
    """Translated when shown (the language is the request's)."""
    return _(
        "Your organization is not a certified partner yet, so the customer list, trials and "
        "orders are closed to it. They open as soon as certification is complete."
    )


def trials_sales_only_reason() -> str:
    # T1: only sales roles start or change trials.
    return _(
        "Only sales admins and sales full admins start or change trials. Ask one of them, or "
        "ask your full admin for a sales role."
    )


class PartnerMemberMixin(LoginRequiredMixin):
    """The person works for a certified partner (``access.partner_access``); sets
    ``self.partner`` and ``self.role``.

    Read-only admins may look at everything of their partner; any change they send by hand is a
    403 (T1). ``change_action`` is what a change on the view needs; ``change_page`` pages exist
    only to change something and refuse people without it on GET too.
    """

    change_action: PartnerAction = PartnerAction.CHANGE
    change_page = False
    actor: User  # the signed-in person, for the services' ``actor``
    partner: Organization
    role: str

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.actor = request.user
        access = partner_access(request.user, riders=self.membership_riders())
        if access is None:
            raise PermissionDenied(self.no_access_reason(request.user))
        self.partner, self.role, self.partner_side = access.partner, access.role, access
        request.partner_side = access  # type: ignore[attr-defined]  # the top bar's links
        changing = request.method not in SAFE_METHODS or self.change_page
        if changing and not self.can_change():
            raise PermissionDenied(self.refusal_reason())
        return super().dispatch(request, *args, **kwargs)

    def membership_riders(self) -> dict[str, BaseExpression]:
        """What the page reads along with the access decision's membership query (its
        values on ``self.partner_side.riders``); none by default."""
        return {}

    @staticmethod
    def no_access_reason(user: User) -> str:
        org = user.org
        if org is None or org.kind != OrgKind.PARTNER:
            return _("These pages are for partner organizations.")
        if not org.partner_certified:
            return not_certified_reason()
        if not Membership.objects.filter(user=user, org=org).exists():
            return _("You have no role in your organization yet.")
        return _("Your role does not allow this.")

    def refusal_reason(self) -> str:
        """Why this role may not change this, in words (the 403 page shows it)."""
        if self.role == Role.PARTNER_READ_ONLY:
            return _(
                "You are a read-only admin: you can see everything of your organization, but "
                "not change it."
            )
        if self.change_action == PartnerAction.RUN_TRIALS:
            return trials_sales_only_reason()
        return _("Your role does not allow this change.")

    def can_change(self) -> bool:
        return self.partner_side.may(self.change_action)

    def customer_or_404(self, pk: Any) -> Organization:
        """A customer on this partner's list, or 404 (another partner's customer is a 404)."""
        return get_object_or_404(
            Organization.objects.filter(
                kind=OrgKind.CUSTOMER, partner_relationships__partner=self.partner
            ),
            pk=pk,
        )


class TrialManagerMixin(PartnerMemberMixin):
    """T1: only sales admins and sales full admins start or change trials; the forms themselves
    are refused to everybody else."""

    change_action = PartnerAction.RUN_TRIALS
    change_page = True


class ControlHubMixin(LoginRequiredMixin):
    """A customer admin of the org in the URL (``org_pk``), or a partner user with access to it
    (``access.controlhub_access``). Anyone else gets a 404 for that org.

    ``action`` is what the page needs to be opened; a POST needs ``post_action``. Sets
    ``self.access``, ``self.org`` and ``self.role`` (a customer role, or ``PartnerAccess``).
    """

    action: ControlHubAction = ControlHubAction.READ
    post_action: ControlHubAction = ControlHubAction.CHANGE
    actor: User  # the signed-in person, for the services' ``actor``
    access: ControlHubAccess
    org: Organization
    role: str

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.actor = request.user
        access = controlhub_access(request.user, kwargs["org_pk"])
        if access is None:
            raise Http404
        self.access, self.org, self.role = access, access.org, access.role
        request.hub_side = access  # type: ignore[attr-defined]  # the top bar's links
        self.check_access(request)
        return self.dispatch_checked(request, *args, **kwargs)

    def dispatch_checked(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return super().dispatch(request, *args, **kwargs)

    def check_access(self, request: HttpRequest) -> None:
        needed = self.action if request.method in SAFE_METHODS else self.post_action
        if not self.access.may(needed):
            raise PermissionDenied(self.refusal_reason(needed))

    def refusal_reason(self, needed: ControlHubAction) -> str:
        if self.role == PartnerAccess.PROVISIONING_ADMIN:
            return _("As provisioning admin you set up this organization's services, nothing else.")
        if needed in (
            ControlHubAction.ANSWER_CONSENT,
            ControlHubAction.DELETE_ORG,
            ControlHubAction.REQUEST_PURCHASE,
        ):
            return _("Only a full admin of this organization may do this.")
        return _("You have read-only access to this organization: you can look, not change.")

    def may(self, action: ControlHubAction) -> bool:
        return self.access.may(action)

    @property
    def is_full_admin(self) -> bool:
        return self.role == Role.CUSTOMER_FULL_ADMIN
