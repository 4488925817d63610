from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class ServiceType(models.TextChoices):
    MEETINGS = "meetings", _("Meetings")
    MESSAGING = "messaging", _("Messaging")
    CALLING = "calling", _("Calling")
    DEVICES = "devices", _("Devices")


class MeetingsEdition(models.TextChoices):
    STANDARD = "standard", _("Standard")
    ENTERPRISE = "enterprise", _("Enterprise")  # T2: needs a site URL and a time zone


class SubscriptionKind(models.TextChoices):
    PAID = "paid", _("Paid")
    TRIAL = "trial", _("Trial")


class SubscriptionState(models.TextChoices):
    """Where a subscription stands in its life (S1–S3, T3, T12).

    PENDING: a trial waiting for customer consent (T3). ACTIVE: licenses usable.
    SUSPENDED: ended, inside the renewal (paid, 60 days) or grace (trial, 30 days) period (S1).
    ENDED: the period ran out; licenses removed, Meetings data deleted (S2).
    CANCELLED: never started or stopped on purpose (consent refused or expired, trial deleted).
    CONVERTED: a trial that became paid through an order (T9).
    """

    PENDING = "pending", _("Pending")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    ENDED = "ended", _("Ended")
    CANCELLED = "cancelled", _("Cancelled")
    CONVERTED = "converted", _("Converted to paid")


# States in which a subscription still "holds licenses" for D1.
LICENSE_HOLDING_STATES = frozenset(
    {SubscriptionState.PENDING, SubscriptionState.ACTIVE, SubscriptionState.SUSPENDED}
)


class SubscriptionStatus(models.TextChoices):
    """P3: the status shown on the customer list, as of a day."""

    ACTIVE = "active", _("Active")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRING_30 = "expiring_30", _("Expiring within 30 days")
    EXPIRING_60 = "expiring_60", _("Expiring within 60 days")
    TRIAL_ACTIVE = "trial_active", _("Trial active")
    TRIAL_EXPIRING_30 = "trial_expiring_30", _("Trial expiring within 30 days")
    TRIAL_EXPIRING_60 = "trial_expiring_60", _("Trial expiring within 60 days")
    TRIAL_EXPIRED = "trial_expired", _("Trial expired")


class ProvisioningStatus(models.TextChoices):
    """P1, plus T3's pending consent. Declared most urgent first (P2 interpretation)."""

    FAILED = "failed", _("Provisioning failed")
    PENDING_CONSENT = "pending_consent", _("Trial pending customer consent")
    AWAITING_DETAILS = "awaiting_details", _("Awaiting provisioning details")
    MANUAL_PARTNER = "manual_partner", _("Manual provisioning (partner)")
    MANUAL_VENDOR = "manual_vendor", _("Manual provisioning (vendor)")
    PROVISIONING = "provisioning", _("Provisioning")
    PROVISIONED = "provisioned", _("Provisioned")


@dataclass(frozen=True)
class StatusHelp:
    """What a provisioning status means and what happens next (P1, seed 001)."""

    meaning: Promise
    next_step: Promise


# P1: the one place that says what each status means and what comes next; the customer list,
# the customer page and Control Hub show it beside the status.
PROVISIONING_STATUS_HELP: dict[str, StatusHelp] = {
    ProvisioningStatus.PROVISIONED: StatusHelp(
        _("The service is set up."),
        _("Licenses of it can be assigned to users."),
    ),
    ProvisioningStatus.PROVISIONING: StatusHelp(
        _("The service is being set up for the organization."),
        _("Nothing to do: it moves on by itself within minutes."),
    ),
    ProvisioningStatus.MANUAL_VENDOR: StatusHelp(
        _("The service waits for the vendor's staff to finish it."),
        _("Nothing to do: support finishes it and the status changes."),
    ),
    ProvisioningStatus.MANUAL_PARTNER: StatusHelp(
        _("The service waits for the partner to finish it."),
        _("The partner sets it up and marks it done on the customer's page."),
    ),
    ProvisioningStatus.AWAITING_DETAILS: StatusHelp(
        _("An admin of the organization must finish the service's set-up in Control Hub."),
        _("A customer admin enters the missing details in Control Hub; provisioning then goes on."),
    ),
    ProvisioningStatus.FAILED: StatusHelp(
        _("The service ran into an error while being set up."),
        _("The partner or support retries it; if it fails again, contact support."),
    ),
    ProvisioningStatus.PENDING_CONSENT: StatusHelp(
        _("The trial waits for the customer to accept it."),
        _("A full admin of the customer accepts the request in Control Hub."),
    ),
}


def provisioning_status_help(status: str) -> StatusHelp:
    return PROVISIONING_STATUS_HELP[ProvisioningStatus(status)]


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed; setup link sent")
    COMPLETED = "completed", _("Set up")
    CANCELLED = "cancelled", _("Cancelled")


class OrderPurpose(models.TextChoices):
    """W5: who provisions the order decides what happens when they are not an admin."""

    PARTNER_FOR_CUSTOMER = "partner_for_customer", _("A partner, for a customer")
    CUSTOMER_SELF = "customer_self", _("A customer, for itself")
    PARTNER_OWN_USE = "partner_own_use", _("A partner, for its own use")
