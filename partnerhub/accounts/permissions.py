"""View mixins over the access decisions of ``access.py`` (T1, T3, tenant isolation).

Views mix these in; each resolves the signed-in person's standing once and stores it on the
view. The decision itself (who may do what) lives in ``access.py`` only. An object outside the
person's tenant must be looked up through ``self.partner`` or ``self.org`` so that it is a 404,
never a 403 that confirms it exists.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404

from .access import (
    ControlHubAccess,
    ControlHubAction,
    PartnerAction,
    controlhub_access,
    partner_access,
)
from .choices import OrgKind
from .models import Organization

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class PartnerMemberMixin(LoginRequiredMixin):
    """The person works for a certified partner; sets ``self.partner`` and ``self.role``.

    Read-only admins may look at everything of their partner; any change they send by hand is a
    403 (T1). ``change_action`` is what a change on the view needs; ``change_page`` pages exist
    only to change something and refuse people without it on GET too.
    """

    change_action: PartnerAction = PartnerAction.CHANGE
    change_page = False
    partner: Organization
    role: str

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        access = partner_access(request.user)
        if access is None:
            raise PermissionDenied
        self.partner, self.role, self.partner_side = access.partner, access.role, access
        changing = request.method not in SAFE_METHODS or self.change_page
        if changing and not self.can_change():
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

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
    access: ControlHubAccess
    org: Organization
    role: str

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        access = controlhub_access(request.user, kwargs["org_pk"])
        if access is None:
            raise Http404
        self.access, self.org, self.role = access, access.org, access.role
        self.check_access(request)
        return super().dispatch(request, *args, **kwargs)

    def check_access(self, request: HttpRequest) -> None:
        needed = self.action if request.method in SAFE_METHODS else self.post_action
        if not self.access.may(needed):
            raise PermissionDenied

    def may(self, action: ControlHubAction) -> bool:
        return self.access.may(action)

    @property
    def is_full_admin(self) -> bool:
        return self.may(ControlHubAction.DELETE_ORG)
