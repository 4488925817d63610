"""The read model's full check, from the top layer (issue 11): the row-by-row comparison of
``licensing.readmodel.customer_rows_check``, plus who is on each partner's list compared with
the definition the trials layer owns (``trials.selectors.partner_customers``: a relationship,
or a pending consent request), which licensing expresses as "a pending trial"."""

from __future__ import annotations

from licensing.models import CustomerRow
from licensing.readmodel import RowDifference, customer_rows_check
from partnerhub.accounts.choices import OrgKind
from partnerhub.accounts.models import Organization
from trials.selectors import partner_customers


def customer_rows_differences(*, limit: int = 1000) -> list[RowDifference]:
    found = customer_rows_check(limit=limit)
    partner_ids = set(CustomerRow.objects.values_list("partner_id", flat=True).distinct())
    partner_ids |= set(
        Organization.objects.filter(kind=OrgKind.PARTNER).values_list("pk", flat=True)
    )
    for partner_id in sorted(partner_ids):
        if len(found) >= limit:
            break
        partner = Organization(pk=partner_id)
        listed = set(partner_customers(partner=partner).values_list("pk", flat=True))
        rows = set(
            CustomerRow.objects.filter(partner_id=partner_id).values_list("customer_id", flat=True)
        )
        known = {(d.partner_id, d.customer_id) for d in found}
        for customer_id in sorted(listed - rows):
            if (partner_id, customer_id) not in known:
                found.append(RowDifference(partner_id, customer_id, "missing (on the list)"))
        for customer_id in sorted(rows - listed):
            if (partner_id, customer_id) not in known:
                found.append(RowDifference(partner_id, customer_id, "extra (not on the list)"))
    return found[:limit]
