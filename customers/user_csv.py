"""Bulk-add users to a customer org from a CSV file, all rows or none (like the C4 import of
``licensing/csv_io.py``).

Columns: ``Email`` (required), ``First name``, ``Last name``, ``Role`` (*User*, *Read-only
admin*, *Full admin*; empty means *User*). Every row is checked before anything is written and
every bad row is reported with its line number and reason; a clean file is previewed, then
applied in one transaction with bulk statements. New users get the auto-license template's
licenses when asked (C5), and an invitation email each when asked.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from licensing.calling import (
    LicenseError,
    is_assignable,
    license_plan,
    license_plan_apply,
    org_licenses_lock,
    service_label,
    shortage_message,
    template_service_ids,
)
from licensing.models import License
from licensing.readmodel import customer_rows_refresh
from partnerhub.accounts.access import ControlHubAction, controlhub_require
from partnerhub.accounts.choices import Role
from partnerhub.accounts.lifecycle import email_domain
from partnerhub.accounts.models import AuditEntry, Membership, Organization, User
from partnerhub.core.csvcells import csv_cell_read, csv_forms

from .user_services import ASSIGNABLE_ROLES, invitations_send_new

EMAIL, FIRST, LAST, ROLE = "Email", "First name", "Last name", "Role"
HEADERS = (EMAIL, FIRST, LAST, ROLE)
# What each column is called in the person's language (the sample file); an import accepts the
# English name and the person's own (issue 14).
HEADER_LABELS = {
    EMAIL: pgettext_lazy("CSV column", "Email"),
    FIRST: pgettext_lazy("CSV column", "First name"),
    LAST: pgettext_lazy("CSV column", "Last name"),
    ROLE: pgettext_lazy("CSV column", "Role"),
}
MAX_NAME = 150
CHUNK = 2000


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass(frozen=True)
class NewUser:
    line: int
    email: str
    first_name: str
    last_name: str
    role: str


@dataclass
class UsersAddParse:
    errors: list[RowError] = field(default_factory=list)
    users: list[NewUser] = field(default_factory=list)
    licenses: list[str] = field(default_factory=list)  # what each new user gets (template)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.users)


class UsersAddInvalid(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} bad rows")
        self.errors = errors


def _role_forms() -> dict[str, str]:
    """Every way a file may name an assignable role: its value, its English label and its label
    in the active language (case-folded), looked up once per file."""
    labels = dict(Role.choices)
    forms: dict[str, str] = {}
    for role in ASSIGNABLE_ROLES:
        for form in {role.casefold(), *csv_forms(labels[role])}:
            forms[form] = role
    return forms


def _role_of(text: str, forms: dict[str, str]) -> str | None:
    value = text.strip().casefold()
    if not value:
        return Role.USER
    return forms.get(value)


def users_add_csv_sample() -> str:
    """A file to start from: the header and one example row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([str(HEADER_LABELS[h]) for h in HEADERS])
    writer.writerow(["ada@example.com", "Ada", "Lovelace", str(dict(Role.choices)[Role.USER])])
    return out.getvalue()


def users_add_csv_parse(
    *, org: Organization, content: str, template_licenses: bool = True
) -> UsersAddParse:
    """Check every row; nothing is written. A fixed number of queries whatever the size."""
    result = UsersAddParse()
    errors = result.errors
    reader = csv.reader(io.StringIO(content))
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        errors.append(RowError(1, _("The file is empty.")))
        return result
    except csv.Error as exc:
        errors.append(RowError(1, _("Not a CSV file: %(error)s") % {"error": exc}))
        return result
    index: dict[str, int] = {}
    forms = {h: csv_forms(HEADER_LABELS[h]) for h in HEADERS}
    for i, cell in enumerate(header):
        known = next((h for h in HEADERS if csv_cell_read(cell).casefold() in forms[h]), None)
        if known is None:
            errors.append(RowError(1, _("Unknown column “%(column)s”.") % {"column": cell}))
        elif known in index:
            errors.append(RowError(1, _("Column “%(column)s” appears twice.") % {"column": cell}))
        else:
            index[known] = i
    if EMAIL not in index:
        errors.append(
            RowError(
                1, _("The header has no “%(column)s” column.") % {"column": HEADER_LABELS[EMAIL]}
            )
        )
    if errors:
        return result
    seen: dict[str, int] = {}
    rows: list[NewUser] = []
    role_forms = _role_forms()
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                errors.append(
                    RowError(
                        line,
                        _("The row has %(n)d cells; the header has %(m)d.")
                        % {"n": len(row), "m": len(header)},
                    )
                )
                continue

            def value_of(name: str, row: list[str] = row) -> str:
                return csv_cell_read(row[index[name]].strip()) if name in index else ""

            email = value_of(EMAIL).lower()
            bad = False
            try:
                validate_email(email)
            except ValidationError:
                bad = True
                errors.append(
                    RowError(
                        line, _("“%(email)s” is not an email address.") % {"email": value_of(EMAIL)}
                    )
                )
            if not bad and email in seen:
                bad = True
                errors.append(
                    RowError(
                        line,
                        _("%(email)s appears twice (first on line %(line)d).")
                        % {"email": email, "line": seen[email]},
                    )
                )
            role = _role_of(value_of(ROLE), role_forms)
            if role is None:
                bad = True
                errors.append(
                    RowError(
                        line,
                        _("Unknown role “%(role)s”: use User, Read-only admin or Full admin.")
                        % {"role": value_of(ROLE)},
                    )
                )
            for name in (FIRST, LAST):
                if len(value_of(name)) > MAX_NAME:
                    bad = True
                    errors.append(
                        RowError(
                            line,
                            _("“%(column)s” is longer than %(n)d characters.")
                            % {"column": name, "n": MAX_NAME},
                        )
                    )
            if not bad:
                seen[email] = line
                first, last = value_of(FIRST), value_of(LAST)
                rows.append(NewUser(line, email, first, last, role or Role.USER))
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, _("Not a CSV file: %(error)s") % {"error": exc}))
        return result
    emails = [r.email for r in rows]
    taken: dict[str, int | None] = {}
    for start in range(0, len(emails), CHUNK):
        taken.update(
            User.objects.filter(email__in=emails[start : start + CHUNK]).values_list(
                "email", "org_id"
            )
        )
    for r in rows:
        if r.email in taken:
            # Whose account it is is not said: tenants do not leak.
            reason = (
                _("%(email)s is already a user of this organization.")
                if taken[r.email] == org.pk
                else _("%(email)s already has an account, so it cannot be added here.")
            )
            errors.append(RowError(r.line, reason % {"email": r.email}))
    if not rows and not errors:
        errors.append(RowError(1, _("The file has no users to add.")))
    if template_licenses and rows:
        ids, services = template_service_ids(org=org)
        held: dict[int, int] = {}
        for sid in License.objects.filter(service__in=list(ids)).values_list(
            "service_id", flat=True
        ):
            held[sid] = held.get(sid, 0) + 1
        for sid in sorted(ids):
            room = services[sid].quantity - held.get(sid, 0)
            if len(rows) > room:
                first_over = rows[max(room, 0)].line
                errors.append(
                    RowError(
                        first_over,
                        shortage_message(
                            service=services[sid], needed=held.get(sid, 0) + len(rows)
                        ),
                    )
                )
        for sid in sorted(ids):
            if not is_assignable(services[sid]):
                errors.append(
                    RowError(
                        1,
                        _("%(service)s cannot take new users: it is not active and provisioned.")
                        % {"service": service_label(services[sid])},
                    )
                )
        result.licenses = sorted(service_label(services[s]) for s in ids)
    errors.sort(key=lambda e: e.line)
    result.users = rows
    return result


@transaction.atomic
def users_add_csv_import(
    *,
    org: Organization,
    content: str,
    actor: User | None,
    invite: bool = False,
    template_licenses: bool = True,
    now: datetime | None = None,
) -> int:
    """Add every user of the file, or none. The file is checked again (the org may have changed
    since the preview). Returns the number of users added."""
    controlhub_require(actor, org, ControlHubAction.CHANGE)  # one decision, asked again
    now = now or timezone.now()
    if template_licenses:
        org_licenses_lock(org=org)
    parsed = users_add_csv_parse(org=org, content=content, template_licenses=template_licenses)
    if not parsed.ok:
        raise UsersAddInvalid(parsed.errors)
    unusable = make_password(None)
    created = User.objects.bulk_create(
        [
            User(
                email=r.email,
                email_domain=email_domain(r.email),
                first_name=r.first_name,
                last_name=r.last_name,
                org=org,
                password=unusable,
                date_joined=now,
            )
            for r in parsed.users
        ],
        batch_size=CHUNK,
    )
    by_email = {u.email: u for u in created}
    if any(u.pk is None for u in created):  # a database that does not return ids
        by_email = {u.email: u for u in User.objects.filter(org=org, email__in=list(by_email))}
    Membership.objects.bulk_create(
        [
            Membership(user=by_email[r.email], org=org, role=r.role, created=now)
            for r in parsed.users
            if r.role != Role.USER
        ],
        batch_size=CHUNK,
    )
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                at=now,
                actor=actor,
                actor_label=str(actor) if actor else "system",
                action="user.add",
                org_id_value=org.pk,
                org_name=org.name,
                target=r.email,
                details={"role": r.role, "source": "csv", "line": r.line, "invited": invite},
            )
            for r in parsed.users
        ],
        batch_size=CHUNK,
    )
    if template_licenses:
        ids, services = template_service_ids(org=org)
        if ids:
            users = {by_email[r.email].pk: r.email for r in parsed.users}
            plan = license_plan(
                org=org, wanted=dict.fromkeys(users, ids), users=users, services=services
            )
            if plan.errors:
                raise LicenseError(plan.errors)
            license_plan_apply(plan=plan, actor=actor, source="template", now=now, refresh=False)
    if invite:
        invitations_send_new(
            org=org, users=[by_email[r.email] for r in parsed.users], actor=actor, now=now
        )
    customer_rows_refresh(customer_ids=[org.pk])  # the list's admins and licenses columns
    return len(parsed.users)
