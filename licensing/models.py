from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerhub.accounts.choices import DataRegion
from partnerhub.accounts.models import Organization

from .choices import (
    MeetingsEdition,
    OrderPurpose,
    OrderStatus,
    ProvisioningStatus,
    ServiceType,
    SubscriptionKind,
    SubscriptionState,
)

# T11 (trials.sweeps): a trial's notices are owed once per end date. The end date each notice
# was owed for is kept on the trial, so an extended trial (T6) is due again, and an idle tick
# reads only the trials still to notify, through the partial indexes below.
# The states are spelled as equalities, not IN: PostgreSQL prints an IN list of a partial
# index back (pg_get_indexdef) in a form that does not read in as the same predicate, and the
# bulk loader rebuilds its indexes from that print.


def trial_notice_open(field: str) -> Q:
    """T11: the notice whose end date ``field`` records was not owed for the current end date."""
    return Q(**{f"{field}__isnull": True}) | ~Q(**{field: F("end_date")})


def trial_ending_soon_open() -> Q:
    """T11, 7 days before: active trials not noticed for their end date."""
    return Q(kind=SubscriptionKind.TRIAL, state=SubscriptionState.ACTIVE) & trial_notice_open(
        "ending_soon_noticed_for"
    )


def trial_end_notice_open() -> Q:
    """T11, on the end day and in the grace period: active or suspended trials not noticed for
    their end date."""
    states = Q(state=SubscriptionState.ACTIVE) | Q(state=SubscriptionState.SUSPENDED)
    return Q(kind=SubscriptionKind.TRIAL) & states & trial_notice_open("end_noticed_for")


def welcome_undecided() -> Q:
    """T2: subscriptions whose welcome email is not decided yet (``welcome_decided``): new ones
    until the next sweep, and trials waiting for their services. No literal in it, so SQLite
    uses its partial index too (it cannot match a bound parameter against a literal)."""
    return Q(welcome_decided=False)


class Subscription(models.Model):
    """A paid subscription or a trial of one customer org, managed by one partner (or bought
    directly when ``partner`` is empty). Carries one or more services."""

    customer = models.ForeignKey(
        Organization, related_name="subscriptions", on_delete=models.CASCADE
    )
    partner = models.ForeignKey(
        Organization,
        related_name="managed_subscriptions",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("managing partner"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=SubscriptionKind.choices)
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=SubscriptionState.choices,
        default=SubscriptionState.ACTIVE,
    )
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    # S1: set when the subscription is suspended; the day the renewal/grace period ends.
    period_end_date = models.DateField(_("renewal/grace period ends"), null=True, blank=True)
    # S2 / T12: when licenses were removed and Meetings data deleted.
    ended_at = models.DateTimeField(_("licenses removed at"), null=True, blank=True)
    # T13: calling stopped at the end of grace; numbers released 15 days later.
    calling_stopped_at = models.DateTimeField(_("calling stopped at"), null=True, blank=True)
    numbers_released_at = models.DateTimeField(_("numbers released at"), null=True, blank=True)
    # T9: the trial this paid subscription was converted from (usage data kept).
    converted_from = models.OneToOneField(
        "self",
        related_name="converted_to",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    # S3: the new paid subscription that took over this suspended one's licenses.
    replaced_by = models.ForeignKey(
        "self",
        related_name="replaced",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("replaced by"),
    )
    created = models.DateTimeField(_("created"), default=timezone.now)
    # T11: the end dates the 7-day and the end-day notices were owed for (trial_notice_open).
    ending_soon_noticed_for = models.DateField(
        _("7-day notice sent for end date"), null=True, blank=True, editable=False
    )
    end_noticed_for = models.DateField(
        _("end-day notice sent for end date"), null=True, blank=True, editable=False
    )
    # T2: the welcome was owed, or never will be (not a trial, not a new customer's first
    # trial, a consent request's, or 30 days old): the sweep reads only the undecided.
    welcome_decided = models.BooleanField(
        _("welcome email decided"), default=False, db_default=False, editable=False
    )

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["customer_id", "start_date"]
        constraints = [
            models.CheckConstraint(
                name="subscription_end_after_start", condition=Q(end_date__gte=F("start_date"))
            ),
            models.CheckConstraint(
                name="subscription_period_after_end",
                condition=Q(period_end_date__isnull=True) | Q(period_end_date__gte=F("end_date")),
            ),
        ]
        indexes = [
            # Due-sweeps: "state X and date <= cutoff".
            models.Index(fields=["state", "end_date"], name="sub_state_end_idx"),
            models.Index(fields=["state", "period_end_date"], name="sub_state_period_idx"),
            models.Index(fields=["customer", "state"], name="sub_customer_state_idx"),
            models.Index(fields=["partner", "customer"], name="sub_partner_customer_idx"),
            # T13: Calling trials whose calling stopped and whose numbers are still held, by end
            # date (an idle tick reads none of the other subscriptions).
            models.Index(
                fields=["end_date"],
                name="sub_numbers_held_idx",
                condition=Q(calling_stopped_at__isnull=False, numbers_released_at__isnull=True),
            ),
            # T11: trials still to notify, by end date (the sweeps read a window of it).
            models.Index(
                fields=["end_date", "id"],
                name="sub_ending_soon_open_idx",
                condition=trial_ending_soon_open(),
            ),
            models.Index(
                fields=["end_date", "id"],
                name="sub_end_notice_open_idx",
                condition=trial_end_notice_open(),
            ),
            # T2: subscriptions whose welcome is undecided, by when they were made.
            models.Index(
                fields=["created"], name="sub_welcome_open_idx", condition=welcome_undecided()
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference or self.pk} · {self.customer}"

    @property
    def is_trial(self) -> bool:
        return self.kind == SubscriptionKind.TRIAL


class Service(models.Model):
    """One service of a subscription, with its licenses and provisioning status (P1)."""

    subscription = models.ForeignKey(
        Subscription, related_name="services", on_delete=models.CASCADE
    )
    type = models.CharField(_("service"), max_length=16, choices=ServiceType.choices)
    quantity = models.PositiveIntegerField(_("licenses"), default=0)
    provisioning_status = models.CharField(
        _("provisioning status"),
        max_length=24,
        choices=ProvisioningStatus.choices,
        default=ProvisioningStatus.PROVISIONING,
    )
    provisioned_at = models.DateTimeField(_("provisioned at"), null=True, blank=True)
    # P1, the provisioning engine (licensing/provisioning.py). Why the service is failed, what
    # details it waits for, or which step it reached; shown with the status.
    provisioning_reason = models.CharField(_("provisioning note"), max_length=500, blank=True)
    # What a customer admin entered in Control Hub (Calling: location and emergency address).
    provisioning_details = models.JSONField(_("provisioning details"), default=dict, blank=True)
    provisioning_attempts = models.PositiveSmallIntegerField(_("provisioning attempts"), default=0)
    # A worker's claim (conditional UPDATE): two workers never provision one service twice.
    provisioning_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the service is next due at the vendor (now, or after a retry's backoff); the relay
    # picks up services left waiting past it (a lost task is not a stuck service).
    provisioning_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Meetings only (T2).
    edition = models.CharField(
        _("edition"), max_length=16, choices=MeetingsEdition.choices, blank=True
    )
    site_url = models.CharField(_("Meetings site URL"), max_length=200, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [
            models.UniqueConstraint(fields=["subscription", "type"], name="service_once_per_sub"),
            # T2: a Meetings site URL belongs to one site only.
            models.UniqueConstraint(
                fields=["site_url"], condition=~Q(site_url=""), name="service_site_url_unique"
            ),
            models.CheckConstraint(
                name="service_enterprise_needs_site",
                condition=~Q(edition=MeetingsEdition.ENTERPRISE)
                | (~Q(site_url="") & ~Q(time_zone="")),
            ),
        ]
        indexes = [
            models.Index(fields=["provisioning_status"], name="service_prov_status_idx"),
            models.Index(
                fields=["provisioning_due_at"],
                condition=Q(provisioning_status="provisioning"),
                name="service_prov_queue_idx",
            ),
            models.Index(fields=["type", "subscription"], name="service_type_sub_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} · {self.subscription}"


class License(models.Model):
    """A user holds a license of one service of one subscription.

    A Calling license does not hold the calling data (CallingProfile does, C1), so moving it to
    another subscription is one UPDATE of ``service``: no moment without Calling (C6).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="licenses", on_delete=models.CASCADE
    )
    service = models.ForeignKey(Service, related_name="licenses", on_delete=models.CASCADE)
    # Copied from the service so the database can enforce one Calling license per user.
    service_type = models.CharField(_("service"), max_length=16, choices=ServiceType.choices)
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)

    class Meta:
        verbose_name = _("license")
        verbose_name_plural = _("licenses")
        constraints = [
            models.UniqueConstraint(fields=["user", "service"], name="license_once_per_service"),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(service_type=ServiceType.CALLING),
                name="license_one_calling_per_user",
            ),
        ]
        indexes = [models.Index(fields=["service", "user"], name="license_service_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.service}"


class CallingProfile(models.Model):
    """A user's calling data (C1): it belongs to the user, not to a subscription, and survives a
    move of the Calling license. Deleted only when Calling is removed for good (C2)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, related_name="calling_profile", on_delete=models.CASCADE
    )
    extension = models.CharField(_("extension"), max_length=16, blank=True)
    voicemail_enabled = models.BooleanField(_("voicemail"), default=True)
    voicemail_pin = models.CharField(_("voicemail PIN"), max_length=12, blank=True)
    call_settings = models.JSONField(_("call settings"), default=dict, blank=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("calling profile")
        verbose_name_plural = _("calling profiles")

    def __str__(self) -> str:
        return f"{self.user} · {self.extension}"


class PhoneNumber(models.Model):
    """A phone number of an org, assigned to a user or not. A number provided by a Calling trial
    is released 15 days after the trial's grace ends (T13)."""

    org = models.ForeignKey(Organization, related_name="phone_numbers", on_delete=models.CASCADE)
    number = models.CharField(_("number"), max_length=20, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        related_name="phone_numbers",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    subscription = models.ForeignKey(
        Subscription,
        related_name="phone_numbers",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )

    class Meta:
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number


class AutoLicenseTemplate(models.Model):
    """The org's template of licenses for new users; applied to existing users it can move them
    between subscriptions (C5)."""

    org = models.OneToOneField(
        Organization, related_name="auto_license_template", on_delete=models.CASCADE
    )
    services = models.ManyToManyField(Service, related_name="+", blank=True)
    keep_existing_licenses = models.BooleanField(_("keep existing users' licenses"), default=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("auto-license template")
        verbose_name_plural = _("auto-license templates")

    def __str__(self) -> str:
        return f"{self.org}"


class Order(models.Model):
    """An order for services; placing it sends the provisioning contact a single-use setup link
    (W1). The wizard maps it to an org (W2–W5); a conversion order names its trial (T9)."""

    number = models.CharField(_("order number"), max_length=32, unique=True)
    purpose = models.CharField(
        _("provisioned by"),
        max_length=32,
        choices=OrderPurpose.choices,
        default=OrderPurpose.PARTNER_FOR_CUSTOMER,
    )
    status = models.CharField(
        _("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.PLACED
    )
    partner = models.ForeignKey(
        Organization,
        related_name="orders_placed",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("partner"),
    )
    trial = models.ForeignKey(
        Subscription,
        related_name="conversion_orders",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("trial to convert"),
    )
    # S3: a renewal order names the paid subscription it renews (in place, no setup wizard).
    renews = models.ForeignKey(
        Subscription,
        related_name="renewal_orders",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("subscription to renew"),
    )
    # T9: services of the trial the partner confirmed leaving out (their licenses are removed).
    dropped_services = models.JSONField(
        _("trial services left out on purpose"), default=list, blank=True
    )
    provisioning_contact_email = models.EmailField(_("provisioning contact email"))
    term_months = models.PositiveSmallIntegerField(_("term (months)"), default=12)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now)
    link_expires_at = models.DateTimeField(_("setup link expires at"), null=True, blank=True)
    link_used_at = models.DateTimeField(_("setup link used at"), null=True, blank=True)
    # What the wizard decided.
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    admin_email = models.EmailField(_("admin email"), blank=True)
    customer = models.ForeignKey(
        Organization,
        related_name="orders",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("mapped to org"),
    )
    subscription = models.OneToOneField(
        Subscription,
        related_name="order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    completed_at = models.DateTimeField(_("set up at"), null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at"]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE)
    service_type = models.CharField(_("service"), max_length=16, choices=ServiceType.choices)
    quantity = models.PositiveIntegerField(_("licenses"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.UniqueConstraint(fields=["order", "service_type"], name="orderline_unique"),
            models.CheckConstraint(name="orderline_quantity_positive", condition=Q(quantity__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_type_display()} × {self.quantity}"


class BuyRequest(models.Model):
    """A customer admin asked the managing partner to convert a trial or renew a subscription
    (the Buy page in Control Hub, linked from the T11 emails). Open until the partner converts
    or renews it (``handled_at``)."""

    subscription = models.ForeignKey(
        Subscription, related_name="buy_requests", on_delete=models.CASCADE
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="+", on_delete=models.SET_NULL, null=True
    )
    message = models.TextField(_("message"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("buy request")
        verbose_name_plural = _("buy requests")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription"],
                condition=Q(handled_at__isnull=True),
                name="buy_request_one_open_per_subscription",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription} · {self.created_at:%Y-%m-%d}"


# ---- the customer list's read model --------------------------------------------------------
# Empty sort keys sort last in both directions: each computed key is stored twice, once with
# "empty" above every value (ascending sorts) and once below (descending sorts), so one plain
# index (partner, key, customer) serves each direction with no NULLS LAST and no sort step.
EMPTY_RANK_HIGH = 99
EMPTY_RANK_LOW = -1
EMPTY_TEXT_HIGH = "\U0010ffff"


# Every filter column rides at the end of every sort index, so a filtered page — a deep one
# too — and a filtered count walk one index and never read a table row.
FILTER_COLUMNS = (
    "provisioning_bits",
    "subscription_bits",
    "services_bits",
    "data_region",
    "deletion_marked_at",
)


def _row_index(key: str, short: str) -> models.Index:
    covered = [c for c in FILTER_COLUMNS if c != key]
    return models.Index(fields=["partner", key, "customer", *covered], name=f"crow_{short}_idx")


def customer_row_search_indexes() -> list[models.Index]:
    """PostgreSQL only (migration ``licensing.0007``): trigram GIN indexes that serve the list's
    search — ``name_key LIKE '%text%'`` and the admin-email patterns on ``admin_emails_key`` —
    without reading every row of the partner. SQLite has no such index; there the search reads
    the partner's rows (at 100k, as fast as the admin's own search)."""
    from django.contrib.postgres.indexes import GinIndex

    return [
        GinIndex(fields=["name_key"], opclasses=["gin_trgm_ops"], name="crow_name_trgm"),
        GinIndex(fields=["admin_emails_key"], opclasses=["gin_trgm_ops"], name="crow_admins_trgm"),
    ]


class CustomerRow(models.Model):
    """One narrow row per (partner, customer) on a partner's customer list (P2–P4, D2, T11):
    what the list filters, sorts and counts by, and nothing it only displays.

    Kept exact by the services that change those facts, in their own transaction
    (``licensing.readmodel.customer_rows_refresh``); moved across the 30/60-day boundaries by
    the daily tick (``customer_rows_advance``), the only part that depends on the date. Rebuilt
    from scratch by ``manage.py customer_rows_rebuild``; ``manage.py customer_rows_check``
    lists any difference from the source tables.
    """

    partner = models.ForeignKey(
        Organization, related_name="+", on_delete=models.CASCADE, db_index=False
    )
    customer = models.ForeignKey(Organization, related_name="+", on_delete=models.CASCADE)
    name_key = models.CharField(max_length=200)  # lower-cased name
    data_region = models.CharField(max_length=8, choices=DataRegion.choices)
    created = models.DateTimeField()
    deletion_marked_at = models.DateTimeField(null=True, blank=True)  # D2
    # P2: the urgency rank of the row's status (0 = failed); P4: a bit per status shown by at
    # least one of the partner's subscriptions of the customer.
    provisioning_rank_up = models.SmallIntegerField(default=EMPTY_RANK_HIGH)
    provisioning_rank_down = models.SmallIntegerField(default=EMPTY_RANK_LOW)
    provisioning_bits = models.IntegerField(default=0)
    # P3: the rank of the status needing most attention, and a bit per status present.
    subscription_rank_up = models.SmallIntegerField(default=EMPTY_RANK_HIGH)
    subscription_rank_down = models.SmallIntegerField(default=EMPTY_RANK_LOW)
    subscription_bits = models.IntegerField(default=0)
    # The services held (a bit each, Meetings most significant); 0 = none.
    services_bits = models.IntegerField(default=0)
    services_up = models.IntegerField(default=EMPTY_RANK_HIGH)
    # The first customer admin's email (sort key of the admins column).
    admins_up = models.CharField(max_length=254, default=EMPTY_TEXT_HIGH)
    admins_down = models.CharField(max_length=254, default="")
    # What the search matches admins by: every customer admin's email (stored lower-cased),
    # each between spaces (" a@x.example b@y.example "), so "starts with" is the pattern
    # " text" and "domain is" the pattern "@text " — both on this row, never a join to users.
    admin_emails_key = models.TextField(default="", blank=True)
    # T11: the end of the partner's nearest live trial (days left = this − today).
    trial_end_date = models.DateField(null=True, blank=True)
    # D3/D4 (issue 16): the days the customer org would be warned and deleted if nothing
    # happens (the same for every partner's row of the customer), what leads there, and
    # whether the dates count from today (an overdue step), so the daily advance moves them.
    # Computed by the forecaster the customers layer registers (``readmodel.forecaster``).
    warning_on = models.DateField(null=True, blank=True)
    deletion_on = models.DateField(null=True, blank=True)
    forecast_why = models.PositiveSmallIntegerField(default=0)
    forecast_floats = models.BooleanField(default=False)
    # Issue 16, the dashboard's license use: over the partner's *active* subscriptions of the
    # customer (a pending one takes no licenses yet, a suspended one's are suspended, S1), the
    # licenses bought (the services' quantities) and assigned (License rows on those services);
    # the used share in whole percent, floor(100 × assigned / bought), NULL when none are
    # bought (so "under N percent" is one index range); and a bit per service type (as
    # ``services_bits``) of which some service has more licenses assigned than bought.
    licenses_bought = models.PositiveIntegerField(default=0)
    licenses_assigned = models.PositiveIntegerField(default=0)
    licenses_used_percent = models.PositiveIntegerField(null=True, blank=True)
    licenses_over_bits = models.IntegerField(default=0)
    # The latest Control Hub sign-in of a current, active customer admin of the org (the same
    # for every partner's row of the customer); computed by the reader the customers layer
    # registers (``readmodel.admin_signins_register``), not the org's any-user activity (D5).
    admin_signin_at = models.DateTimeField(null=True, blank=True)
    as_of = models.DateField()  # the day the statuses were computed for

    class Meta:
        verbose_name = _("customer list row")
        verbose_name_plural = _("customer list rows")
        constraints = [
            models.UniqueConstraint(fields=["partner", "customer"], name="crow_partner_customer"),
        ]
        indexes = [
            _row_index(key, short)
            for key, short in (
                ("name_key", "name"),
                ("created", "created"),
                ("data_region", "region"),
                ("provisioning_rank_up", "prov_up"),
                ("provisioning_rank_down", "prov_down"),
                ("subscription_rank_up", "sub_up"),
                ("subscription_rank_down", "sub_down"),
                ("services_up", "svc_up"),
                ("services_bits", "svc_down"),
                ("admins_up", "admins_up"),
                ("admins_down", "admins_down"),
            )
        ] + [
            # The deletion forecast and the dashboard read a partner's rows by date.
            models.Index(fields=["partner", "deletion_on"], name="crow_deletion_on_idx"),
            models.Index(fields=["partner", "warning_on"], name="crow_warning_on_idx"),
            # Support's forecast reads every partner's rows by date (issue 16): the counts and
            # the deletions per day from the index alone, the soonest rows in its order. The
            # partner last: a partner's soonest rows may be read through it too, in order, so
            # the partner is checked in the index, not in the table.
            models.Index(
                fields=["deletion_on", "name_key", "customer", "partner"],
                name="crow_deletion_day_idx",
            ),
            models.Index(
                fields=["warning_on", "name_key", "customer", "partner"],
                name="crow_warning_day_idx",
            ),
            models.Index(
                fields=["customer"],
                condition=models.Q(forecast_floats=True),
                name="crow_forecast_floats_idx",
            ),
            # The dashboard counts each number in one index range (``customers.dashboard``):
            # statuses grouped by their bits, trial ends by day, license use, admin sign-ins,
            # and the few marked or over-the-limit rows.
            models.Index(fields=["partner", "subscription_bits"], name="crow_sub_bits_idx"),
            models.Index(fields=["partner", "trial_end_date"], name="crow_trial_end_idx"),
            models.Index(fields=["partner", "licenses_used_percent"], name="crow_used_idx"),
            models.Index(fields=["partner", "admin_signin_at"], name="crow_admin_signin_idx"),
            models.Index(
                fields=["partner", "deletion_marked_at"],
                condition=models.Q(deletion_marked_at__isnull=False),
                name="crow_marked_idx",
            ),
            models.Index(
                fields=["partner", "licenses_over_bits"],
                condition=models.Q(licenses_over_bits__gt=0),
                name="crow_over_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner_id} → {self.customer_id}"


class ReadModelFill(models.Model):
    """How far a date-dependent read model has been moved (Zulip's FillState): the daily tick
    moves the customer rows from ``done_through`` to today and records it here."""

    name = models.CharField(max_length=40, unique=True)
    done_through = models.DateField()

    def __str__(self) -> str:
        return f"{self.name}: {self.done_through}"
