"""D5: signing in to our own site is user activity. Connected in ``CustomersConfig.ready``."""

from __future__ import annotations

import logging
from typing import Any

from partnerhub.accounts.choices import CUSTOMER_ADMIN_ROLES
from partnerhub.accounts.models import Membership

from .choices import ActivityKind
from .services import activity_record

logger = logging.getLogger(__name__)


def record_sign_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """A customer admin signing in is a Control Hub sign-in; anyone else in an org signs in to
    the app. Support staff have no org and no countdown (activity_record does nothing). A
    failure here must never block the sign-in itself."""
    if getattr(user, "org_id", None) is None:
        return
    try:
        is_admin = Membership.objects.filter(
            user=user, org_id=user.org_id, role__in=CUSTOMER_ADMIN_ROLES
        ).exists()
        kind = ActivityKind.CONTROL_HUB_SIGN_IN if is_admin else ActivityKind.APP_SIGN_IN
        activity_record(user=user, kind=kind, source="sign-in")
    except Exception:
        logger.exception("Could not record the sign-in of user %s as activity.", user.pk)
