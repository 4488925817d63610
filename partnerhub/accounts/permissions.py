"""Who may see and do what, checked on the server for every request (T1, tenant isolation).

Views mix these in; each resolves the signed-in person's org and role once and stores them on
the view. An object outside the person's tenant must be looked up through ``self.partner`` or
``self.org`` so that it is a 404, never a 403 that confirms it exists.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404

from .choices import CUSTOMER_ADMIN_ROLES, TRIAL_MANAGER_ROLES, OrgKind, PartnerAccess, Role
from .models import CustomerRelationship, Membership, Organization

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class PartnerMemberMixin(LoginRequiredMixin):
    """The person works for a certified partner; sets ``self.partner`` and ``self.role``.

    Read-only admins may look at everything of their partner; any change they send by hand is a
    403 (T1). Views that change things set ``change_roles``.
    """

    change_roles: frozenset[str] = TRIAL_MANAGER_ROLES | {Role.PARTNER_FULL_ADMIN}
    # Pages that exist only to change something (a form) refuse read-only people on GET too.
    change_page = False
    partner: Organization
    role: str

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        # The person's membership of their own org, with the org: one query for both.
        membership = (
            Membership.objects.select_related("org")
            .filter(user=request.user, org_id=request.user.org_id)  # type: ignore[union-attr]
            .first()
        )
        if membership is None:
            raise PermissionDenied
        org = membership.org
        request.user.org = org  # type: ignore[union-attr]  # later reads use it, no query
        if org.kind != OrgKind.PARTNER or not org.partner_certified:
            raise PermissionDenied
        self.partner, self.role = org, membership.role
        changing = request.method not in SAFE_METHODS or self.change_page
        if changing and not self.can_change():
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def can_change(self) -> bool:
        return self.role in self.change_roles

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

    change_roles = TRIAL_MANAGER_ROLES
    change_page = True


class ControlHubMixin(LoginRequiredMixin):
    """A customer admin of the org in the URL (``org_pk``), or a partner with access to it.

    Sets ``self.org``, ``self.role`` (a customer role, or ``PartnerAccess``) and
    ``self.can_change``. Anyone else gets a 404 for that org.
    """

    org: Organization
    role: str
    read_only_roles = frozenset({Role.CUSTOMER_READ_ONLY})

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.org, self.role = self.resolve_access(request, kwargs["org_pk"])
        if request.method not in SAFE_METHODS and not self.allows_change():
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def resolve_access(request: HttpRequest, org_pk: Any) -> tuple[Organization, str]:
        user = request.user
        membership = (
            Membership.objects.select_related("org")
            .filter(
                user=user,
                org_id=org_pk,
                org__kind=OrgKind.CUSTOMER,
                role__in=CUSTOMER_ADMIN_ROLES,
            )
            .first()
        )
        if membership is not None:
            return membership.org, membership.role
        partner = getattr(user, "org", None)
        if partner is not None and partner.kind == OrgKind.PARTNER:
            rel = (
                CustomerRelationship.objects.select_related("customer")
                .filter(partner=partner, customer_id=org_pk)
                .first()
            )
            if rel is not None:
                return rel.customer, rel.access
        raise Http404

    def allows_change(self) -> bool:
        return self.role in {Role.CUSTOMER_FULL_ADMIN, PartnerAccess.FULL_ADMIN}

    @property
    def is_full_admin(self) -> bool:
        return self.role == Role.CUSTOMER_FULL_ADMIN
