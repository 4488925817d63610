"""Who may do what: one decision per side, written once (T1, T3, "read-only sees, never changes",
"only certified partners use the hub").

- Control Hub (a customer org's admin pages): :func:`controlhub_access` / :func:`controlhub_may`
  / :func:`controlhub_require` with a :class:`ControlHubAction`.
- The partner side (customer list, trials, orders): :func:`partner_access` /
  :func:`partner_may` with a :class:`PartnerAction`.
- The activity API keeps its bearer token (``customers/api.py``).

Views ask first (and answer 404 or 403); the services they call ask again through the
``*_require`` functions, so a Celery task or a shell cannot do what the page would refuse.
``actor=None`` in a service means the lifecycle (beat) acts: it is not a person and is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models.expressions import BaseExpression

from .choices import (
    CUSTOMER_ADMIN_ROLES,
    PARTNER_ROLES,
    TRIAL_MANAGER_ROLES,
    OrgKind,
    PartnerAccess,
    Role,
)
from .models import CustomerRelationship, Membership, Organization, User
from .notifications import unread_count_expression, unread_count_remember


# ---- Control Hub ---------------------------------------------------------------------------
class ControlHubAction(StrEnum):
    """What a person does in a customer org's Control Hub."""

    OVERVIEW = "overview"  # the overview page (subscriptions, partners, requests)
    READ = "read"  # users, licenses, subscriptions, the user export
    CHANGE = "change"  # licenses, CSV import, auto-license template, cancelling a subscription
    PROVISION = "provision"  # finish a trial's set-up (T3, P1)
    ANSWER_CONSENT = "answer_consent"  # accept or decline a partner's trial request (T3)
    DELETE_ORG = "delete_org"  # D9
    REQUEST_PURCHASE = "request_purchase"  # ask the managing partner to convert or renew (T11)
    INTEGRATIONS = "integrations"  # see and revoke every API key of the org (issue 15)


_A = ControlHubAction
_CUSTOMER_GRANTS: dict[str, frozenset[ControlHubAction]] = {
    Role.CUSTOMER_FULL_ADMIN: frozenset(ControlHubAction),
    Role.CUSTOMER_READ_ONLY: frozenset({_A.OVERVIEW, _A.READ}),
}
# What a partner's relationship allows inside the customer's org (T3) ...
_PARTNER_ACCESS_GRANTS: dict[str, frozenset[ControlHubAction]] = {
    PartnerAccess.FULL_ADMIN: frozenset({_A.OVERVIEW, _A.READ, _A.CHANGE, _A.PROVISION}),
    PartnerAccess.PROVISIONING_ADMIN: frozenset({_A.OVERVIEW, _A.PROVISION}),
}
# ... cut down by the person's own partner role ("read-only sees, never changes").
_PARTNER_ROLE_GRANTS: dict[str, frozenset[ControlHubAction]] = {
    Role.PARTNER_FULL_ADMIN: frozenset(ControlHubAction),
    Role.SALES_FULL_ADMIN: frozenset(ControlHubAction),
    Role.SALES_ADMIN: frozenset(ControlHubAction),
    Role.PARTNER_READ_ONLY: frozenset({_A.OVERVIEW, _A.READ}),
}


@dataclass(frozen=True)
class ControlHubAccess:
    """A person's standing in one customer org: ``role`` is their customer role, or the
    partner's :class:`PartnerAccess` when they come through a managing partner."""

    org: Organization
    role: str
    partner: Organization | None
    allowed: frozenset[ControlHubAction]

    def may(self, action: ControlHubAction) -> bool:
        return action in self.allowed

    @property
    def via_partner(self) -> bool:
        return self.partner is not None


def controlhub_access(user: Any, org_pk: Any) -> ControlHubAccess | None:
    """The person's access to the customer org ``org_pk``, or None (then the org is a 404).

    A customer admin of the org acts with their role. A partner user acts only if their partner
    is certified, manages the customer (a relationship), and then with the relationship's access
    narrowed by their own partner role. Support staff and everybody else: None.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    try:
        org_pk = int(org_pk.pk if isinstance(org_pk, Organization) else org_pk)
    except (TypeError, ValueError):
        return None
    memberships = list(
        Membership.objects.select_related("org").filter(user=user, org__in=[org_pk, user.org_id])
    )
    for membership in memberships:
        if (
            membership.org_id == org_pk
            and membership.org.kind == OrgKind.CUSTOMER
            and membership.role in CUSTOMER_ADMIN_ROLES
        ):
            return ControlHubAccess(
                org=membership.org,
                role=membership.role,
                partner=None,
                allowed=_CUSTOMER_GRANTS[membership.role],
            )
    partner_role = next(
        (
            m.role
            for m in memberships
            if m.org_id == user.org_id
            and m.org.kind == OrgKind.PARTNER
            and m.org.partner_certified
            and m.role in PARTNER_ROLES
        ),
        None,
    )
    if partner_role is None:
        return None
    rel = (
        CustomerRelationship.objects.select_related("customer", "partner")
        .filter(partner_id=user.org_id, customer_id=org_pk, customer__kind=OrgKind.CUSTOMER)
        .first()
    )
    if rel is None:
        return None
    return ControlHubAccess(
        org=rel.customer,
        role=rel.access,
        partner=rel.partner,
        allowed=_PARTNER_ACCESS_GRANTS.get(rel.access, frozenset())
        & _PARTNER_ROLE_GRANTS[partner_role],
    )


def controlhub_may(user: Any, org: Organization | int, action: ControlHubAction) -> bool:
    """Whether ``user`` may do ``action`` in the Control Hub of ``org``."""
    access = controlhub_access(user, org)
    return access is not None and access.may(action)


def controlhub_require(
    actor: User | None, org: Organization | int, action: ControlHubAction
) -> None:
    """Services call this: a person who may not do ``action`` in ``org`` gets PermissionDenied.
    ``actor=None`` is the lifecycle and may."""
    if actor is not None and not controlhub_may(actor, org, action):
        raise PermissionDenied(f"{actor} may not {action} in Control Hub of org {org}.")


# ---- the partner side ----------------------------------------------------------------------
class PartnerAction(StrEnum):
    """What a partner user does on the partner side."""

    VIEW = "view"  # the customer list, a customer, an order
    CHANGE = "change"  # changes that are not trials (e.g. resend an order's setup link)
    RUN_TRIALS = "run_trials"  # start, change, extend, delete, convert trials (T1)
    OWN_SETTINGS = "own_settings"  # the person's own notifications feed and email choices
    INTEGRATIONS = "integrations"  # webhooks, every API key of the partner (issue 15)


_PARTNER_SIDE_GRANTS: dict[str, frozenset[PartnerAction]] = {
    Role.PARTNER_FULL_ADMIN: frozenset(
        {
            PartnerAction.VIEW,
            PartnerAction.CHANGE,
            PartnerAction.OWN_SETTINGS,
            PartnerAction.INTEGRATIONS,
        }
    ),
    Role.SALES_FULL_ADMIN: frozenset(PartnerAction) - {PartnerAction.INTEGRATIONS},
    Role.SALES_ADMIN: frozenset(PartnerAction) - {PartnerAction.INTEGRATIONS},
    Role.PARTNER_READ_ONLY: frozenset({PartnerAction.VIEW, PartnerAction.OWN_SETTINGS}),
}
assert all(  # T1 is said once, in choices.TRIAL_MANAGER_ROLES; the table must agree with it
    (PartnerAction.RUN_TRIALS in grants) == (role in TRIAL_MANAGER_ROLES)
    for role, grants in _PARTNER_SIDE_GRANTS.items()
)


@dataclass(frozen=True)
class PartnerSideAccess:
    partner: Organization
    role: str
    allowed: frozenset[PartnerAction]
    # What a page asked to read along with the membership (``partner_access(riders=…)``).
    riders: Mapping[str, Any] = field(default_factory=dict)

    def may(self, action: PartnerAction) -> bool:
        return action in self.allowed


def partner_access(
    user: Any,
    partner: Organization | None = None,
    *,
    riders: Mapping[str, BaseExpression] | None = None,
) -> PartnerSideAccess | None:
    """The person's standing on the partner side: they work for a certified partner (``partner``
    when given must be that one) and hold a partner role there; otherwise None.

    ``riders`` are expressions over the membership (``OuterRef("user_id")``,
    ``OuterRef("org_id")``) that a page reads in the same query, like the bell's count: the
    customer list's saved views. Their values are on ``riders`` of the answer."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    # One query for the person's membership and its org; the org is then cached on the user
    # so later reads of ``user.org`` cost nothing (the list page's query budget).
    # The bell's unread count rides along (a COUNT on the partial index of unread rows), so
    # the page's context processor needs no query of its own (``notifications.unread_count``).
    extra = list((riders or {}).items())
    membership = (
        Membership.objects.select_related("org")
        .filter(user=user, org_id=user.org_id, role__in=PARTNER_ROLES)
        .annotate(_unread=unread_count_expression())
        .annotate(**{f"_rider_{key}": value for key, value in extra})
        .first()
    )
    if membership is None:
        return None
    org = membership.org
    user.org = org
    unread_count_remember(user, membership._unread)
    if org.kind != OrgKind.PARTNER or not org.partner_certified:
        return None
    if partner is not None and partner.pk != org.pk:
        return None
    role = membership.role
    values = {key: getattr(membership, f"_rider_{key}") for key, _ in extra}
    return PartnerSideAccess(
        partner=org, role=role, allowed=_PARTNER_SIDE_GRANTS[role], riders=values
    )


def partner_may(user: Any, action: PartnerAction, partner: Organization | None = None) -> bool:
    access = partner_access(user, partner)
    return access is not None and access.may(action)


def partner_require(actor: User, action: PartnerAction, partner: Organization) -> None:
    """Services call this (e.g. T1 for every trial service)."""
    if not partner_may(actor, action, partner):
        raise PermissionDenied(f"{actor} may not {action} for partner {partner}.")


# ---- what a role allows at most (API key scopes) ----------------------------------------
def role_may(role: str, action: PartnerAction | ControlHubAction) -> bool:
    """Whether ``role`` allows ``action`` anywhere, before an org or a relationship narrows it:
    what an API key of a person with this role may be given scopes for (issue 15). The key
    itself is then checked on every request through ``partner_access``/``controlhub_access``."""
    if isinstance(action, PartnerAction):
        return action in _PARTNER_SIDE_GRANTS.get(role, frozenset())
    grants = _CUSTOMER_GRANTS.get(role) or _PARTNER_ROLE_GRANTS.get(role, frozenset())
    if role in _PARTNER_ROLE_GRANTS:  # partner people act through a relationship's access
        grants = grants & frozenset().union(*_PARTNER_ACCESS_GRANTS.values())
    return action in grants


__all__ = [
    "ControlHubAccess",
    "ControlHubAction",
    "PartnerAction",
    "PartnerSideAccess",
    "controlhub_access",
    "controlhub_may",
    "controlhub_require",
    "partner_access",
    "partner_may",
    "partner_require",
    "role_may",
]
