"""C4: the users' licenses as CSV — export, then import the edited file.

The export has one TRUE/FALSE column per service of each subscription, headed like
``Calling [SUB-123]`` (service, then the subscription's reference). The import reads and checks
*every* row before anything is written and reports every bad row with its line number and
reason; a clean file becomes a :class:`~licensing.calling.LicensePlan` that the admin previews
and then applies in one transaction (all rows or none). Calling moves keep calling data (C1, C6).
A column the file leaves out leaves those licenses as they are.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from partnerhub.accounts.models import Organization, User
from partnerhub.core.csvcells import (
    CSV_FALSE,
    CSV_TRUE,
    csv_bool,
    csv_bool_reader,
    csv_cell_read,
    csv_forms,
    csv_row,
)

from .calling import (
    LicensePlan,
    license_plan,
    license_plan_apply,
    org_licenses_lock,
    org_services,
    service_label,
)
from .choices import ServiceType
from .models import License, Service

# Headers and TRUE/FALSE words follow the person's language on export; an import accepts the
# English words and the person's own (``csvcells.csv_forms``, issue 14).
EMAIL_HEADER = pgettext_lazy("CSV column", "Email")
NAME_HEADER = pgettext_lazy("CSV column", "Name")
_COLUMN = re.compile(r"^(?P<service>.+?)\s*\[(?P<ref>[^\]]+)\]$")


@dataclass(frozen=True)
class CsvError:
    line: int
    reason: str


@dataclass
class CsvImport:
    """A parsed file: its errors, or the plan it would apply."""

    errors: list[CsvError] = field(default_factory=list)
    plan: LicensePlan | None = None
    rows: int = 0
    line_of: dict[int, int] = field(default_factory=dict)  # user id → line

    @property
    def ok(self) -> bool:
        return not self.errors and self.plan is not None


class CsvInvalid(Exception):
    def __init__(self, errors: list[CsvError]):
        super().__init__(f"{len(errors)} bad rows")
        self.errors = errors


def users_csv_export(*, org: Organization) -> str:
    """C4: every user of the org, one TRUE/FALSE column per subscription's service (3 queries)."""
    services = list(org_services(org=org).values())
    held: dict[int, set[int]] = defaultdict(set)
    for user_id, service_id in License.objects.filter(user__org=org).values_list(
        "user_id", "service_id"
    ):
        held[user_id].add(service_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    # Names, emails and references are typed by people: every cell through the shared escape.
    writer.writerow(csv_row([EMAIL_HEADER, NAME_HEADER, *(service_label(s) for s in services)]))
    users = User.objects.filter(org=org).order_by("email")
    for pk, email, first, last in users.values_list("pk", "email", "first_name", "last_name"):
        mine = held.get(pk, set())
        writer.writerow(
            csv_row(
                [
                    email,
                    f"{first} {last}".strip(),
                    *(csv_bool(s.pk in mine) for s in services),
                ]
            )
        )
    return out.getvalue()


def _columns(
    header: list[str], services: dict[int, Service], errors: list[CsvError]
) -> tuple[int | None, dict[int, Service]]:
    """Map the header's cells to the email column and to services (column index → service)."""
    # A service column is named in English or the person's language ("Samtal [SUB-1]").
    names: dict[str, set[str]] = {}
    for value, label in ServiceType.choices:
        names[value] = csv_forms(label) | {value.casefold()}
    by_label: dict[tuple[str, str], Service] = {}
    for known in services.values():
        sub = known.subscription
        for ref in {str(sub.reference or sub.pk), str(sub.pk)}:
            for name in names.get(known.type, {known.type.casefold()}):
                by_label[(name, ref.casefold())] = known
    known_types = set().union(*names.values())
    email_forms, name_forms = csv_forms(EMAIL_HEADER), csv_forms(NAME_HEADER)
    email_col: int | None = None
    columns: dict[int, Service] = {}
    seen: set[int] = set()
    for index, raw in enumerate(header):
        cell = csv_cell_read(raw.strip())
        if cell.casefold() in email_forms:
            email_col = index
            continue
        if cell.casefold() in name_forms:
            continue
        match = _COLUMN.match(cell)
        if match is None or match["service"].strip().casefold() not in known_types:
            errors.append(CsvError(1, _("Unknown column “%(column)s”.") % {"column": cell}))
            continue
        key = (match["service"].strip().casefold(), match["ref"].strip().casefold())
        service = by_label.get(key)
        if service is None:
            # Never say whether it belongs to somebody else: tenants do not leak.
            errors.append(
                CsvError(
                    1,
                    _(
                        "Column “%(column)s”: subscription %(ref)s is not one of this "
                        "organization's subscriptions, or has no such service."
                    )
                    % {"column": cell, "ref": match["ref"].strip()},
                )
            )
            continue
        if service.pk in seen:
            errors.append(CsvError(1, _("Column “%(column)s” appears twice.") % {"column": cell}))
            continue
        seen.add(service.pk)
        columns[index] = service
    if email_col is None:
        errors.append(
            CsvError(
                1,
                _("The header has no “%(column)s” column.") % {"column": EMAIL_HEADER},
            )
        )
    return email_col, columns


def users_csv_parse(*, org: Organization, content: str) -> CsvImport:
    """C4: check every row of the file and, if all are good, plan the changes (nothing is
    written). A fixed number of queries whatever the file's size."""
    result = CsvImport()
    errors = result.errors
    services = org_services(org=org)
    reader = csv.reader(io.StringIO(content))
    try:
        header = next(reader)
    except StopIteration:
        errors.append(CsvError(1, _("The file is empty.")))
        return result
    except csv.Error as exc:
        errors.append(CsvError(1, _("Not a CSV file: %(error)s") % {"error": exc}))
        return result
    email_col, columns = _columns(header, services, errors)
    if email_col is None:
        return result
    users = {email: pk for pk, email in User.objects.filter(org=org).values_list("pk", "email")}
    have: dict[int, set[int]] = defaultdict(set)
    for holder_id, service_id in License.objects.filter(
        user__org=org, service__in=list(services)
    ).values_list("user_id", "service_id"):
        have[holder_id].add(service_id)
    in_file = {s.pk for s in columns.values()}
    read_bool = csv_bool_reader()
    words = {"true": str(CSV_TRUE), "false": str(CSV_FALSE)}
    wanted: dict[int, set[int]] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            result.rows += 1
            if len(row) != len(header):
                errors.append(
                    CsvError(
                        line,
                        _("The row has %(n)d cells; the header has %(m)d.")
                        % {"n": len(row), "m": len(header)},
                    )
                )
                continue
            email = csv_cell_read(row[email_col].strip()).lower()
            user_id = users.get(email)
            if user_id is None:
                errors.append(
                    CsvError(
                        line,
                        _("Unknown user “%(email)s”: not a user of this organization.")
                        % {"email": row[email_col].strip()},
                    )
                )
                continue
            if user_id in wanted:
                errors.append(
                    CsvError(
                        line,
                        _("%(email)s appears twice (first on line %(line)d).")
                        % {"email": email, "line": result.line_of[user_id]},
                    )
                )
                continue
            ticked: set[int] = set()
            bad = False
            for index, service in columns.items():
                value = read_bool(row[index])
                if value is True:
                    ticked.add(service.pk)
                elif value is None:
                    bad = True
                    errors.append(
                        CsvError(
                            line,
                            _("“%(value)s” in column “%(column)s” is not %(true)s or %(false)s.")
                            % {
                                "value": row[index].strip(),
                                "column": header[index].strip(),
                                **words,
                            },
                        )
                    )
            calling = [sid for sid in ticked if services[sid].type == ServiceType.CALLING]
            if len(calling) > 1:
                bad = True
                errors.append(
                    CsvError(
                        line,
                        _(
                            "Calling is %(true)s in %(n)d columns (%(columns)s); a user has "
                            "Calling on one subscription only."
                        )
                        % {
                            "true": words["true"],
                            "n": len(calling),
                            "columns": ", ".join(service_label(services[s]) for s in calling),
                        },
                    )
                )
            result.line_of[user_id] = line
            if not bad:
                wanted[user_id] = (have.get(user_id, set()) - in_file) | ticked
    except csv.Error as exc:
        errors.append(CsvError(reader.line_num, _("Not a CSV file: %(error)s") % {"error": exc}))
        return result
    plan = license_plan(
        org=org,
        wanted=wanted,
        users={pk: email for email, pk in users.items() if pk in wanted},
        services=services,
    )
    for problem in plan.errors:
        line = result.line_of.get(problem.user_id, 1) if problem.user_id else 1
        errors.append(CsvError(line, problem.message))
    errors.sort(key=lambda e: e.line)
    result.plan = plan
    return result


@transaction.atomic
def users_csv_import(
    *, org: Organization, content: str, actor: User | None, confirm_calling_loss: bool = False
) -> int:
    """C4: apply the file: all rows or none. The file is checked again (the org may have
    changed since the preview). Returns the number of users changed."""
    org_licenses_lock(org=org)
    parsed = users_csv_parse(org=org, content=content)
    if parsed.errors or parsed.plan is None:
        raise CsvInvalid(parsed.errors)
    return license_plan_apply(
        plan=parsed.plan, actor=actor, confirm_calling_loss=confirm_calling_loss, source="csv"
    )
