from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    PARTNER = "partner", _("Partner")
    CUSTOMER = "customer", _("Customer")


class PartnerTier(models.IntegerChoices):
    TIER_1 = 1, _("Tier 1")
    TIER_2 = 2, _("Tier 2 (through a distributor)")


class Role(models.TextChoices):
    """Roles a person holds in one organization. Partner roles only in partner orgs (T1),
    customer roles only in customer orgs."""

    PARTNER_FULL_ADMIN = "partner_full_admin", _("Partner full admin")
    SALES_FULL_ADMIN = "sales_full_admin", _("Sales full admin")
    SALES_ADMIN = "sales_admin", _("Sales admin")
    PARTNER_READ_ONLY = "partner_read_only", _("Partner read-only admin")
    CUSTOMER_FULL_ADMIN = "customer_full_admin", _("Full admin")
    CUSTOMER_READ_ONLY = "customer_read_only", _("Read-only admin")
    USER = "user", _("User")


PARTNER_ROLES = frozenset(
    {Role.PARTNER_FULL_ADMIN, Role.SALES_FULL_ADMIN, Role.SALES_ADMIN, Role.PARTNER_READ_ONLY}
)
# T1: only these partner roles start or change trials.
TRIAL_MANAGER_ROLES = frozenset({Role.SALES_FULL_ADMIN, Role.SALES_ADMIN})
CUSTOMER_ADMIN_ROLES = frozenset({Role.CUSTOMER_FULL_ADMIN, Role.CUSTOMER_READ_ONLY})
CUSTOMER_ROLES = CUSTOMER_ADMIN_ROLES | {Role.USER}


class PartnerAccess(models.TextChoices):
    """What a managing partner may do inside a customer org (T3 consent)."""

    FULL_ADMIN = "full_admin", _("Full admin")
    PROVISIONING_ADMIN = "provisioning_admin", _("Provisioning admin")


class Vertical(models.TextChoices):
    """T2: a fixed list; the partner picks the nearest when none fits."""

    EDUCATION = "education", _("Education")
    FINANCE = "finance", _("Financial services")
    GOVERNMENT = "government", _("Government")
    HEALTHCARE = "healthcare", _("Healthcare")
    HOSPITALITY = "hospitality", _("Hospitality")
    MANUFACTURING = "manufacturing", _("Manufacturing")
    MEDIA = "media", _("Media and entertainment")
    PROFESSIONAL_SERVICES = "professional_services", _("Professional services")
    RETAIL = "retail", _("Retail")
    TECHNOLOGY = "technology", _("Technology")
    TELECOM = "telecom", _("Telecommunications")
    TRANSPORT = "transport", _("Transport and logistics")
    OTHER = "other", _("Other")


class DataRegion(models.TextChoices):
    AMERICAS = "amer", _("Americas")
    EUROPE = "emea", _("Europe")
    ASIA_PACIFIC = "apac", _("Asia Pacific")


class Country(models.TextChoices):
    """Supported countries (T2). Each maps to the data-location region in lifecycle.py."""

    AU = "AU", _("Australia")
    AT = "AT", _("Austria")
    BE = "BE", _("Belgium")
    BR = "BR", _("Brazil")
    CA = "CA", _("Canada")
    DK = "DK", _("Denmark")
    FI = "FI", _("Finland")
    FR = "FR", _("France")
    DE = "DE", _("Germany")
    HK = "HK", _("Hong Kong")
    IN = "IN", _("India")
    IE = "IE", _("Ireland")
    IT = "IT", _("Italy")
    JP = "JP", _("Japan")
    MX = "MX", _("Mexico")
    NL = "NL", _("Netherlands")
    NZ = "NZ", _("New Zealand")
    NO = "NO", _("Norway")
    SG = "SG", _("Singapore")
    ES = "ES", _("Spain")
    SE = "SE", _("Sweden")
    CH = "CH", _("Switzerland")
    TW = "TW", _("Taiwan")
    GB = "GB", _("United Kingdom")
    US = "US", _("United States")


class ContentKind(models.TextChoices):
    """User-generated content. Kept through a renewal period (S1); recordings go at its end
    (S2); everything goes when the org is deleted (D4)."""

    MESSAGE = "message", _("Message")
    FILE = "file", _("File")
    RECORDING = "recording", _("Meetings recording")


class Event(models.TextChoices):
    """Every lifecycle event a partner hears of: the one list of their names and labels.

    A partner's webhook endpoints subscribe to events (the type on the wire is
    ``webhook_type(event)``: ``consent_accepted`` → ``consent.accepted``); the events in
    ``NOTIFICATION_KINDS`` also reach the partner's people as notifications (feed and email),
    stored under the same value."""

    TRIAL_STARTED = "trial_started", _("Trial started")
    CONSENT_ACCEPTED = "consent_accepted", _("Trial request accepted")
    CONSENT_DECLINED = "consent_declined", _("Trial request declined")
    CONSENT_EXPIRED = "consent_expired", _("Trial request expired unanswered")
    EXTENSION_APPROVED = "extension_approved", _("Trial extension approved")
    EXTENSION_REFUSED = "extension_refused", _("Trial extension refused")
    TRIAL_ENDING = "trial_ending", _("Trial ending in a week")
    TRIAL_ENDED = "trial_ended", _("Trial ended")
    PROVISIONING_FAILED = "provisioning_failed", _("Provisioning failed")
    PROVISIONING_DONE = "provisioning_done", _("Provisioning done")
    ORDER_SET_UP = "order_set_up", _("Order set up")
    SUBSCRIPTION_SUSPENDED = "subscription_suspended", _("Subscription suspended")
    SUBSCRIPTION_RENEWED = "subscription_renewed", _("Subscription renewed")
    BUY_REQUESTED = "buy_requested", _("Customer wants to buy")
    ORG_DELETED = "org_deleted", _("Customer organization deleted")
    DELETION_MARKED = "deletion_marked", _("Customer marked for deletion")
    DELETION_WARNED = "deletion_warned", _("Customer warned before deletion")


def webhook_type(event: str) -> str:
    """The event's type on the wire: its name with the first ``_`` as a dot."""
    return str(event).replace("_", ".", 1)


# A notification is an event told to the partner's people; these are the ones they are told.
NotificationKind = Event
NOTIFICATION_KINDS: tuple[Event, ...] = (
    Event.CONSENT_ACCEPTED,
    Event.CONSENT_DECLINED,
    Event.CONSENT_EXPIRED,
    Event.EXTENSION_APPROVED,
    Event.EXTENSION_REFUSED,
    Event.PROVISIONING_FAILED,
    Event.BUY_REQUESTED,
    Event.ORG_DELETED,
    Event.DELETION_MARKED,
    Event.DELETION_WARNED,
)


# D8: partners see the deletion countdown of their customers in the feed; only the customer's
# full admins are emailed about it (D3). Every other kind is emailed unless the person opts out.
FEED_ONLY_NOTIFICATION_KINDS = frozenset({Event.DELETION_MARKED, Event.DELETION_WARNED})
EMAILED_NOTIFICATION_KINDS = tuple(
    k for k in NOTIFICATION_KINDS if k not in FEED_ONLY_NOTIFICATION_KINDS
)
