"""Reads of the licensing app, each shaped for one page (fixed query counts): Control Hub's
users and licenses, the setup wizard's matching and the partner's orders."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Func, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from partnerhub.accounts.choices import CUSTOMER_ADMIN_ROLES, PARTNER_ROLES
from partnerhub.accounts.lifecycle import email_domain, name_prefix
from partnerhub.accounts.models import Membership, Organization, User

from .choices import ServiceType, SubscriptionState
from .models import License, Order, PhoneNumber, Subscription


def _licenses_prefetch() -> Prefetch:
    return Prefetch(
        "licenses",
        queryset=License.objects.select_related("service__subscription").order_by(
            "service__subscription__start_date", "service__type"
        ),
    )


def org_users(
    *,
    org: Organization,
    search: str = "",
    service_type: str = "",
    subscription_id: int | None = None,
    unlicensed: bool = False,
) -> QuerySet[User]:
    """The users of an org for the user list: filtered, with their role, calling profile,
    licenses (with subscription) and numbers. A page costs the same queries whatever its size:
    one for the rows, one per prefetch."""
    role = Membership.objects.filter(user=OuterRef("pk"), org=org).values("role")[:1]
    qs = (
        User.objects.filter(org=org)
        .select_related("calling_profile")
        .annotate(org_role=Subquery(role))
        .prefetch_related(
            _licenses_prefetch(),
            Prefetch("phone_numbers", queryset=PhoneNumber.objects.order_by("number")),
        )
        .order_by("email")
    )
    if search:
        qs = qs.filter(
            Q(email__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(calling_profile__extension=search)
            | Q(phone_numbers__number__icontains=search)
        ).distinct()
    if service_type in ServiceType.values:
        qs = qs.filter(licenses__service_type=service_type)
    if subscription_id is not None:
        qs = qs.filter(licenses__service__subscription_id=subscription_id)
    if service_type or subscription_id is not None:
        qs = qs.distinct()
    if unlicensed:
        qs = qs.filter(licenses__isnull=True)
    return qs


def org_user(*, org: Organization, pk: int) -> User:
    """One user of the org with everything the user page shows; another org's user raises
    ``User.DoesNotExist`` (the view turns it into a 404)."""
    return org_users(org=org).get(pk=pk)


# --- orders and wizard (issue 6) ---
# W2(a): who counts as "an admin of an existing org": customer admins, and the admin roles of a
# partner org (a partner provisioning for its own use matches its own org).
WIZARD_ADMIN_ROLES = frozenset(CUSTOMER_ADMIN_ROLES | PARTNER_ROLES)
# W6: a page never lists more than this many orgs; the person narrows the name instead.
WIZARD_CANDIDATE_LIMIT = 25


def _subquery_count(queryset: QuerySet) -> Coalesce:
    """COUNT(*) of a correlated subquery, 0 when empty: no join fan-out, still one query."""
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def wizard_org_facts(queryset: QuerySet[Organization]) -> QuerySet[Organization]:
    """W3: each listed org with its created date, user count and active-subscription count.

    W6: only counts are annotated; no user name or address ever leaves this selector.
    """
    users = User.objects.filter(org=OuterRef("pk"))
    active = Subscription.objects.filter(customer=OuterRef("pk"), state=SubscriptionState.ACTIVE)
    return queryset.annotate(
        user_count=_subquery_count(users),
        active_subscription_count=_subquery_count(active),
    ).only("pk", "name", "kind", "created")


@dataclass(frozen=True)
class WizardMatch:
    """The answer of W2 for one company name and admin email.

    ``admin_orgs``: (a) the orgs in which the admin email is an admin — the order maps there.
    ``candidates``: (b) only when (a) found none: orgs sharing the 5-character name prefix *and*
    having users with the admin email's domain. ``more`` tells that the list was cut (W6).
    """

    company_prefix: str
    domain: str
    admin_orgs: list[Organization]
    candidates: list[Organization]
    more: bool = False

    @property
    def is_admin_match(self) -> bool:
        return bool(self.admin_orgs)

    @property
    def orgs(self) -> list[Organization]:
        return self.admin_orgs or self.candidates

    @property
    def reason(self) -> str:
        """W2 explained, issue 16: which rule matched every listed org — never a user's name
        (W6). The same for each org of one match: (a) and (b) are never mixed."""
        if self.admin_orgs:
            return str(
                _("Matched by the admin email: it belongs to an admin of this organization.")
            )
        return str(
            _(
                "Matched by the name and the domain: the same first five letters, and users "
                "with email addresses at %(domain)s."
            )
            % {"domain": self.domain}
        )

    def allows(self, org_pk: int) -> bool:
        """W6: an org may be chosen only if this match listed it."""
        return any(org.pk == org_pk for org in self.orgs)


def wizard_match(*, company_name: str, admin_email: str) -> WizardMatch:
    """W2: match an order's company name and admin email to existing orgs.

    One indexed query for (a) (``User.email`` is unique) and, when it finds nothing, one for (b)
    (``Organization.name_prefix`` and ``User.email_domain`` are indexed). Two queries at most,
    whatever the number of orgs and users.
    """
    email = admin_email.strip().lower()
    prefix = name_prefix(company_name)
    domain = email_domain(email)
    if not email:
        return WizardMatch(company_prefix=prefix, domain=domain, admin_orgs=[], candidates=[])
    admin_org_ids = Membership.objects.filter(
        user__email=email, role__in=WIZARD_ADMIN_ROLES, user__is_active=True
    ).values("org_id")
    admin_orgs = list(
        wizard_org_facts(Organization.objects.filter(pk__in=admin_org_ids)).order_by("created")
    )
    if admin_orgs:
        return WizardMatch(
            company_prefix=prefix, domain=domain, admin_orgs=admin_orgs, candidates=[]
        )
    if not prefix or not domain:
        return WizardMatch(company_prefix=prefix, domain=domain, admin_orgs=[], candidates=[])
    # Domain first: a company's domain has few users, a common prefix may have many orgs.
    domain_org_ids = User.objects.filter(email_domain=domain, org__isnull=False).values("org_id")
    rows = list(
        wizard_org_facts(
            Organization.objects.filter(name_prefix=prefix, pk__in=domain_org_ids)
        ).order_by("-created", "pk")[: WIZARD_CANDIDATE_LIMIT + 1]
    )
    return WizardMatch(
        company_prefix=prefix,
        domain=domain,
        admin_orgs=[],
        candidates=rows[:WIZARD_CANDIDATE_LIMIT],
        more=len(rows) > WIZARD_CANDIDATE_LIMIT,
    )


def orders_of_partner(*, partner: Organization) -> QuerySet[Order]:
    """Orders this partner placed, shaped for the order page (lines prefetched)."""
    return (
        Order.objects.filter(partner=partner)
        .select_related("trial__customer", "renews__customer", "customer", "subscription")
        .prefetch_related("lines")
    )


def order_list(*, partner: Organization) -> QuerySet[Order]:
    """Orders this partner placed, shaped for the order list (customer and trial joined)."""
    return Order.objects.filter(partner=partner).select_related("customer", "trial__customer")
