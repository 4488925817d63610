"""What the top bar shows a signed-in person.

- The bell: a partner person's unread count — read with the membership by
  ``access.partner_access`` on partner pages (no query of its own), else one COUNT query, only
  when a page actually shows the bell (it is lazy).
- The links (dashboard, customers, orders, forecast, webhooks, API keys): shown by the same
  decision the pages make (``access.partner_access``, ``api_keys.person_access``), so a person
  never sees a link the page behind it refuses. Partner and Control Hub pages hand their
  decision over on the request (``PartnerMemberMixin``, ``ControlHubMixin``), so drawing the
  bar costs them no query; elsewhere it is made lazily, when the bar is drawn.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject, cached_property

from .access import ControlHubAccess, PartnerAction, PartnerSideAccess, partner_access
from .api_keys import person_access
from .notifications import unread_count

PARTNER_ATTR = "partner_side"  # where a partner page leaves its access decision
HUB_ATTR = "hub_side"  # where a Control Hub page leaves its access decision


class TopBar:
    """The links of the top bar, decided where the pages decide."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    @cached_property
    def _access(self) -> PartnerSideAccess | None:
        known = getattr(self._request, PARTNER_ATTR, None)
        if known is not None:
            return known
        if self._own_hub is not None:  # a customer admin in their own org is no partner person
            return None
        return partner_access(self._request.user)

    @property
    def _own_hub(self) -> ControlHubAccess | None:
        hub = getattr(self._request, HUB_ATTR, None)
        user_org = getattr(self._request.user, "org_id", None)
        own = hub is not None and hub.partner is None and hub.org.pk == user_org
        return hub if own else None

    @property
    def console(self) -> bool:
        """The partner console: dashboard, customers, orders, forecast, the bell."""
        return self._access is not None

    @property
    def integrations(self) -> bool:
        """Webhooks (partner full admins only)."""
        return self._access is not None and self._access.may(PartnerAction.INTEGRATIONS)

    @cached_property
    def _key_access(self) -> PartnerSideAccess | ControlHubAccess | None:
        if self._access is not None:  # a partner person: their keys act with this standing
            return self._access
        if self._own_hub is not None:
            return self._own_hub
        return person_access(user=self._request.user)  # type: ignore[arg-type]

    @property
    def api_keys(self) -> bool:
        """The person's API keys: partner people of a certified partner, customer admins."""
        return self._key_access is not None


def notifications(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": SimpleLazyObject(lambda: unread_count(user=user)),
        "topbar": TopBar(request),
    }
