"""Writes about the people of a customer org, for Control Hub's user management: add, invite
(and accept the invitation), change role, deactivate and reactivate.

Each is keyword-only, typed, atomic and audited (one row per change); the invitation email is
owed through the outbox in the same transaction. The org always keeps one active full admin of
its own: the last one can be neither demoted nor deactivated (a managing partner with full
access does not count — it can lose that access, the customer must not lose its org).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from licensing.calling import (
    LicenseError,
    license_plan,
    license_plan_apply,
    org_licenses_lock,
    template_service_ids,
)
from licensing.readmodel import customer_rows_refresh
from partnerhub.accounts.access import ControlHubAction, controlhub_require
from partnerhub.accounts.choices import CUSTOMER_ADMIN_ROLES, CUSTOMER_ROLES, OrgKind, Role
from partnerhub.accounts.models import AuditEntry, Membership, Organization, User
from partnerhub.accounts.services import audit_record
from partnerhub.core.outbox import email_owe, outbox_key
from partnerhub.core.sweeps import OwedEmail, emails_owe_bulk

from .lifecycle import INVITATION_VALID_DAYS
from .models import UserInvitation

INVITATION_SALT = "customers.controlhub.invitation"  # a signature made for nothing else
# The roles an admin gives in Control Hub, in the order the pages list them.
ASSIGNABLE_ROLES = (Role.USER, Role.CUSTOMER_READ_ONLY, Role.CUSTOMER_FULL_ADMIN)


class UserChangeRefused(Exception):
    """The change breaks a rule; nothing was written. ``message`` is for the admin."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvitationInvalid(Exception):
    """The invitation link cannot be used; ``message`` says why and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def org_role_of(*, user: User, org: Organization) -> str:
    """The person's role in the org; a person without an admin role is a plain user."""
    role = Membership.objects.filter(user=user, org=org).values_list("role", flat=True).first()
    return role or Role.USER


def _check_member(user: User, org: Organization) -> None:
    if org.kind != OrgKind.CUSTOMER or user.org_id != org.pk:
        raise ValueError("The person is not a user of this customer organization.")


def _other_active_full_admins(*, org: Organization, user: User) -> int:
    """Active full admins of the org other than ``user``, their rows locked (FOR UPDATE on
    PostgreSQL) so two admins demoting each other at once cannot leave the org with none."""
    locked = list(
        Membership.objects.select_for_update()
        .filter(org=org, role=Role.CUSTOMER_FULL_ADMIN)
        .values_list("user_id", flat=True)
    )
    return User.objects.filter(pk__in=locked, is_active=True, org=org).exclude(pk=user.pk).count()


def _last_full_admin_message() -> str:
    return _(
        "This is the organization's last full admin. Make someone else a full admin first: "
        "an organization always keeps one."
    )


@transaction.atomic
def org_user_role_set(*, org: Organization, user: User, role: str, actor: User | None) -> bool:
    """Give the person one of the customer roles (full admin, read-only admin, user). The last
    active full admin cannot be demoted. Returns whether anything changed."""
    controlhub_require(actor, org, ControlHubAction.CHANGE)  # one decision, asked again
    _check_member(user, org)
    if role not in ASSIGNABLE_ROLES:
        raise ValueError(f"Not a customer role: {role}")
    others = _other_active_full_admins(org=org, user=user)
    current = org_role_of(user=user, org=org)
    if current == role:
        return False
    if current == Role.CUSTOMER_FULL_ADMIN and user.is_active and others == 0:
        raise UserChangeRefused(_last_full_admin_message())
    Membership.objects.update_or_create(user=user, org=org, defaults={"role": role})
    audit_record(
        action="user.role_change",
        actor=actor,
        org=org,
        target=user.email,
        details={"from": current, "to": role},
    )
    customer_rows_refresh(customer_ids=[org.pk])  # the list's admins column
    return True


@transaction.atomic
def org_user_deactivate(*, org: Organization, user: User, actor: User | None) -> bool:
    """Deactivate the person: they can no longer sign in (their sessions stop working); their
    licenses and calling data stay, for a reactivation. The last active full admin cannot be
    deactivated. Returns whether anything changed."""
    controlhub_require(actor, org, ControlHubAction.CHANGE)  # one decision, asked again
    _check_member(user, org)
    others = _other_active_full_admins(org=org, user=user)
    if not User.objects.filter(pk=user.pk, is_active=True).exists():
        return False
    role = org_role_of(user=user, org=org)
    if role == Role.CUSTOMER_FULL_ADMIN and others == 0:
        raise UserChangeRefused(_last_full_admin_message())
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    audit_record(action="user.deactivate", actor=actor, org=org, target=user.email)
    if role in CUSTOMER_ADMIN_ROLES:
        customer_rows_refresh(customer_ids=[org.pk])  # their sign-ins no longer count (issue 16)
    return True


@transaction.atomic
def org_user_reactivate(*, org: Organization, user: User, actor: User | None) -> bool:
    """Let a deactivated person sign in again. Returns whether anything changed."""
    controlhub_require(actor, org, ControlHubAction.CHANGE)  # one decision, asked again
    _check_member(user, org)
    changed = User.objects.filter(pk=user.pk, is_active=False).update(is_active=True)
    if not changed:
        return False
    user.is_active = True
    audit_record(action="user.reactivate", actor=actor, org=org, target=user.email)
    if org_role_of(user=user, org=org) in CUSTOMER_ADMIN_ROLES:
        customer_rows_refresh(customer_ids=[org.pk])  # their sign-ins count again (issue 16)
    return True


def email_taken_message(*, email: str, org: Organization) -> str | None:
    """Why ``email`` cannot be added to ``org``, or None. An address belongs to one account;
    whose account it is is not said (tenants do not leak)."""
    other = User.objects.filter(email=email.strip().lower()).values_list("org_id", flat=True)
    found = list(other[:1])
    if not found:
        return None
    if found[0] == org.pk:
        return _("%(email)s is already a user of this organization.") % {"email": email}
    return _(
        "%(email)s already has an account, so it cannot be added here. The person can ask "
        "their current organization's admin to remove it first."
    ) % {"email": email}


@transaction.atomic
def org_user_add(
    *,
    org: Organization,
    email: str,
    first_name: str = "",
    last_name: str = "",
    role: str = Role.USER,
    invite: bool = False,
    template_licenses: bool = True,
    actor: User | None,
    now: datetime | None = None,
) -> User:
    """Add a person to the org with a role. They have no password until they accept an
    invitation (``invite`` owes it now). With ``template_licenses`` they get the licenses of
    the org's auto-license template (C5: "new users get these licenses"); when a template
    service has no free license the add is refused (``LicenseError``) and nothing is written.
    """
    controlhub_require(actor, org, ControlHubAction.CHANGE)  # one decision, asked again
    if org.kind != OrgKind.CUSTOMER:
        raise ValueError("Users are added to customer organizations.")
    if role not in ASSIGNABLE_ROLES:
        raise ValueError(f"Not a customer role: {role}")
    taken = email_taken_message(email=email, org=org)
    if taken:
        raise UserChangeRefused(taken)
    now = now or timezone.now()
    user = User.objects.create_user(
        email=email,
        password=None,
        org=org,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
    )
    if role != Role.USER:
        Membership.objects.create(user=user, org=org, role=role)
    given: list[str] = []
    if template_licenses:
        given = _template_licenses_give(org=org, users={user.pk: user.email}, actor=actor, now=now)
    audit_record(
        action="user.add",
        actor=actor,
        org=org,
        target=user.email,
        details={"role": role, "licenses": given, "invited": invite},
        at=now,
    )
    if invite:
        invitation_send(org=org, user=user, actor=actor, now=now)
    if role != Role.USER or given:
        customer_rows_refresh(customer_ids=[org.pk])  # the admins and licenses columns
    return user


def _template_licenses_give(
    *, org: Organization, users: dict[int, str], actor: User | None, now: datetime
) -> list[str]:
    """C5: give new users the template's licenses, all or none (``LicenseError``)."""
    org_licenses_lock(org=org)
    ids, services = template_service_ids(org=org)
    if not ids:
        return []
    plan = license_plan(org=org, wanted=dict.fromkeys(users, ids), users=users, services=services)
    if plan.errors:
        raise LicenseError(plan.errors)
    # The caller refreshes the customer's rows once, after the person and their licenses.
    license_plan_apply(plan=plan, actor=actor, source="template", now=now, refresh=False)
    return sorted(plan.service_label(s) for s in ids)


# --- invitations ------------------------------------------------------------------------------


def _invitation_value(invitation: UserInvitation) -> str:
    # The expiry is part of the signed value: a resend moves it, so older links stop working.
    return f"{invitation.pk}:{int(invitation.expires_at.timestamp())}"


def invitation_token(*, invitation: UserInvitation) -> str:
    return signing.TimestampSigner(salt=INVITATION_SALT).sign(_invitation_value(invitation))


def invitation_url(*, invitation: UserInvitation) -> str:
    path = reverse(
        "controlhub:invitation_accept",
        kwargs={"org_pk": invitation.org_id, "token": invitation_token(invitation=invitation)},
    )
    return f"{settings.SITE_URL}{path}"


@transaction.atomic
def invitation_send(
    *, org: Organization, user: User, actor: User | None, now: datetime | None = None
) -> UserInvitation:
    """Invite the person by email to set a password (a signed link, valid for
    ``INVITATION_VALID_DAYS``, usable once). A resend makes the earlier link stop working."""
    controlhub_require(actor, org, ControlHubAction.CHANGE)  # one decision, asked again
    _check_member(user, org)
    if not User.objects.filter(pk=user.pk, is_active=True).exists():
        raise UserChangeRefused(_("Reactivate the user before inviting them."))
    now = now or timezone.now()
    expires = (now + timedelta(days=INVITATION_VALID_DAYS)).replace(microsecond=0)
    invitation, _created = UserInvitation.objects.update_or_create(
        user=user,
        defaults={
            "org": org,
            "invited_by": actor,
            "sent_at": now,
            "expires_at": expires,
            "accepted_at": None,
        },
    )
    email_owe(
        key=outbox_key("user_invitation", user.email, invitation.pk, int(expires.timestamp())),
        kind="user_invitation",
        to=user.email,
        template="user_invitation",
        context={
            "org_name": org.name,
            "inviter": actor.display_name if actor else "",
            "accept_url": invitation_url(invitation=invitation),
            "expires_at": expires,
            "valid_days": INVITATION_VALID_DAYS,
        },
        org_id=org.pk,
        language=user.language or None,
    )
    audit_record(
        action="user.invite",
        actor=actor,
        org=org,
        target=user.email,
        details={"expires_at": expires.isoformat()},
        at=now,
    )
    return invitation


def invitations_send_new(
    *, org: Organization, users: list[User], actor: User | None, now: datetime
) -> int:
    """Invite many just-added people at once (the CSV bulk add): one INSERT of invitations,
    owed emails through ``emails_owe_bulk``, one INSERT of audit rows. Inside the caller's
    transaction; the people must have no invitation yet."""
    expires = (now + timedelta(days=INVITATION_VALID_DAYS)).replace(microsecond=0)
    invitations = UserInvitation.objects.bulk_create(
        [
            UserInvitation(user=u, org=org, invited_by=actor, sent_at=now, expires_at=expires)
            for u in users
        ],
        batch_size=2000,
    )
    if any(i.pk is None for i in invitations):  # a database that does not return ids
        invitations = list(UserInvitation.objects.filter(user__in=users).select_related("user"))
    by_user = {i.user_id: i for i in invitations}
    inviter = actor.display_name if actor else ""
    emails_owe_bulk(
        OwedEmail(
            key=outbox_key("user_invitation", u.email, by_user[u.pk].pk, int(expires.timestamp())),
            kind="user_invitation",
            to=u.email,
            template="user_invitation",
            context={
                "org_name": org.name,
                "inviter": inviter,
                "accept_url": invitation_url(invitation=by_user[u.pk]),
                "expires_at": expires,
                "valid_days": INVITATION_VALID_DAYS,
            },
            org_id=org.pk,
            language=u.language or None,
        )
        for u in users
    )
    audit_bulk_people(
        org=org,
        actor=actor,
        action="user.invite",
        targets=[u.email for u in users],
        at=now,
        details={"expires_at": expires.isoformat()},
    )
    return len(invitations)


def audit_bulk_people(
    *,
    org: Organization,
    actor: User | None,
    action: str,
    targets: list[str],
    at: datetime,
    details: dict[str, object] | None = None,
) -> None:
    """One audit row per person (STYLE rule 2), written in one INSERT."""
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                at=at,
                actor=actor,
                actor_label=str(actor) if actor else "system",
                action=action,
                org_id_value=org.pk,
                org_name=org.name,
                target=target,
                details=details or {},
            )
            for target in targets
        ],
        batch_size=2000,
    )


class _Refusals:
    """What the invitation page says when the link cannot be used."""

    @staticmethod
    def broken() -> str:
        return _("This invitation link is not valid. Ask your admin to send a new invitation.")

    @staticmethod
    def expired() -> str:
        return _("This invitation link has expired. Ask your admin to send a new invitation.")

    @staticmethod
    def used() -> str:
        return _("This invitation was already used. Sign in with the password you chose.")


def invitation_from_token(
    *, org_pk: int, token: str, now: datetime | None = None
) -> UserInvitation:
    """The invitation behind a link, or :class:`InvitationInvalid` saying why not (bad
    signature, another org, replaced by a resend, expired, used, user deactivated)."""
    now = now or timezone.now()
    try:
        value = signing.TimestampSigner(salt=INVITATION_SALT).unsign(token)
        pk_text, _sep, expires_text = value.partition(":")
        pk, expires_ts = int(pk_text), int(expires_text)
    except (signing.BadSignature, ValueError) as exc:
        raise InvitationInvalid(_Refusals.broken()) from exc
    invitation = (
        UserInvitation.objects.select_related("user", "org").filter(pk=pk, org_id=org_pk).first()
    )
    if invitation is None or not invitation.user.is_active:
        raise InvitationInvalid(_Refusals.broken())
    if invitation.accepted_at is not None:
        raise InvitationInvalid(_Refusals.used())
    if expires_ts != int(invitation.expires_at.timestamp()):
        raise InvitationInvalid(_Refusals.broken())  # a newer invitation replaced it
    if now >= invitation.expires_at:
        raise InvitationInvalid(_Refusals.expired())
    return invitation


@transaction.atomic
def invitation_accept(
    *, invitation: UserInvitation, password: str, now: datetime | None = None
) -> User:
    """Set the invited person's password and use the invitation up (a conditional UPDATE: two
    submissions of one link set it once). The password is validated by the form before."""
    now = now or timezone.now()
    used = UserInvitation.objects.filter(
        pk=invitation.pk,
        accepted_at__isnull=True,
        expires_at=invitation.expires_at,
        expires_at__gt=now,
    ).update(accepted_at=now)
    if not used:
        raise InvitationInvalid(_Refusals.used())
    user = invitation.user
    user.set_password(password)
    user.save(update_fields=["password"])
    invitation.accepted_at = now
    audit_record(
        action="user.invitation_accept", actor=user, org=invitation.org, target=user.email, at=now
    )
    return user


__all__ = [
    "ASSIGNABLE_ROLES",
    "CUSTOMER_ROLES",
    "InvitationInvalid",
    "UserChangeRefused",
    "email_taken_message",
    "invitation_accept",
    "invitation_from_token",
    "invitation_send",
    "invitation_token",
    "invitation_url",
    "org_role_of",
    "org_user_add",
    "org_user_deactivate",
    "org_user_reactivate",
    "org_user_role_set",
]
