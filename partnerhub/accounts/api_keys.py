"""API keys (issue 15): created and revoked by people in their settings, stored hashed.

A token reads ``ph_<prefix>_<secret>``: the prefix finds the row, the SHA-256 of the whole token
is compared in constant time. The secret has 256 bits of entropy, so a plain hash (no slow KDF)
is enough; the token itself is shown once and never stored.

A key acts as its creator: their current role in their current org decides (a creator who
lost the role loses the key's rights with it). Scopes narrow it further; T1: a read-only
person can only make read keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .access import (
    ControlHubAccess,
    ControlHubAction,
    PartnerAction,
    PartnerSideAccess,
    controlhub_access,
    partner_access,
    role_may,
)
from .choices import OrgKind
from .models import ApiKey, Organization, User
from .services import audit_record

SCOPES: dict[str, object] = {
    "read": _("Read everything your role may see"),
    "trials": _("Start and change trials"),
    "orders": _("Place orders"),
    "users": _("Change users' licenses in Control Hub"),
}
TOKEN_PREFIX = "ph_"
LAST_USED_EVERY = timedelta(minutes=1)  # last-used time/IP are written at most this often


def scopes_allowed(*, role: str) -> list[str]:
    """The scopes a person with ``role`` may give a key, from the one access decision (T1:
    read-only people only read; trials and orders are the sales roles'; users is for who may
    change licenses in a Control Hub)."""
    allowed = ["read"]
    if role_may(role, PartnerAction.RUN_TRIALS):
        allowed += ["trials", "orders"]
    if role_may(role, ControlHubAction.CHANGE):
        allowed.append("users")
    return allowed


def manages_every_key(access: PartnerSideAccess | ControlHubAccess) -> bool:
    """Who sees and revokes every key of their org (others manage only their own): the
    partner's or the customer's full admins, as ``access`` decides (INTEGRATIONS)."""
    if isinstance(access, PartnerSideAccess):
        return access.may(PartnerAction.INTEGRATIONS)
    return access.may(ControlHubAction.INTEGRATIONS)


def person_access(*, user: User) -> PartnerSideAccess | ControlHubAccess | None:
    """The standing a person's keys act with, decided by ``access``: a partner role of a
    certified partner (``partner_access``), or a customer admin role in their own org
    (``controlhub_access``). Anyone else has no keys. One query."""
    org = user.org
    if org is None or not user.is_active:
        return None
    if org.kind == OrgKind.PARTNER:
        return partner_access(user)
    hub = controlhub_access(user, org.pk)
    return None if hub is None or hub.via_partner else hub


def person_role(*, user: User) -> tuple[Organization, str] | None:
    """The org and role the person acts with (``person_access``)."""
    access = person_access(user=user)
    if isinstance(access, PartnerSideAccess):
        return access.partner, access.role
    return (access.org, access.role) if access is not None else None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_key_create(
    *, actor: User, name: str, scopes: list[str], expires_in_days: int | None
) -> tuple[ApiKey, str]:
    """Create a key for ``actor``; returns it and the token (to show once)."""
    resolved = person_role(user=actor)
    if resolved is None:
        raise PermissionDenied
    org, role = resolved
    allowed = scopes_allowed(role=role)
    if not scopes or set(scopes) - set(allowed):
        raise ValidationError({"scopes": _("Pick scopes your role allows.")})
    if not name.strip():
        raise ValidationError({"name": _("Give the key a name.")})
    prefix = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        org=org,
        created_by=actor,
        name=name.strip(),
        prefix=prefix,
        secret_hash=_hash(token),
        scopes=[s for s in SCOPES if s in scopes],
        expires_at=(timezone.now() + timedelta(days=expires_in_days)) if expires_in_days else None,
    )
    audit_record(
        action="api_key.create",
        actor=actor,
        org=org,
        target=key.prefix,
        details={"name": key.name, "scopes": key.scopes},
    )
    return key, token


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor: User) -> None:
    if key.revoked_at is None:
        ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
        audit_record(action="api_key.revoke", actor=actor, org=key.org, target=key.prefix)


@dataclass(frozen=True)
class ApiPrincipal:
    """Who a request acts as: the key, its creator, their org and role, the key's scopes, and
    the creator's standing as ``access`` decided it (partner side or their own Control Hub)."""

    key: ApiKey
    user: User
    org: Organization
    role: str
    scopes: frozenset[str]
    access: PartnerSideAccess | ControlHubAccess


def api_key_authenticate(*, token: str, ip: str | None, now: datetime) -> ApiPrincipal | None:
    """The principal of a valid, unexpired, unrevoked token, or None. One query for the key
    with its creator and org, one for the role; the last use is written at most once a minute."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    prefix = token[len(TOKEN_PREFIX) :].split("_", 1)[0]
    key = (
        ApiKey.objects.select_related("created_by", "created_by__org")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(token)):
        return None
    if key.expires_at is not None and key.expires_at <= now:
        return None
    access = person_access(user=key.created_by)
    if access is None:
        return None
    org = access.partner if isinstance(access, PartnerSideAccess) else access.org
    role = access.role
    if org.pk != key.org_id:  # the creator moved to another org: the key is dead
        return None
    if (
        key.last_used_at is None
        or key.last_used_at < now - LAST_USED_EVERY
        or (ip and key.last_used_ip != ip)
    ):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_ip=ip)
    scopes = frozenset(key.scopes) & frozenset(scopes_allowed(role=role))
    return ApiPrincipal(
        key=key, user=key.created_by, org=org, role=role, scopes=scopes, access=access
    )
