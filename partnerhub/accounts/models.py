from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import (
    NOTIFICATION_KINDS,
    ContentKind,
    Country,
    DataRegion,
    OrgKind,
    PartnerAccess,
    PartnerTier,
    Role,
    Vertical,
)
from .lifecycle import email_domain, name_prefix, validate_time_zone


class Organization(models.Model):
    """A partner (reseller) or a customer organization.

    The deletion state (D1–D5) lives here, not in the customers app, because lower layers clear
    it too: starting a trial or buying a subscription removes the mark (D6).
    """

    kind = models.CharField(_("kind"), max_length=16, choices=OrgKind.choices, db_index=True)
    name = models.CharField(_("name"), max_length=200)
    # W2 matches on the first five characters, case-folded; stored so the match is indexed.
    name_prefix = models.CharField(_("name prefix"), max_length=5, db_index=True, editable=False)
    created = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    vertical = models.CharField(_("vertical"), max_length=32, choices=Vertical.choices, blank=True)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    data_region = models.CharField(
        _("data-location region"), max_length=8, choices=DataRegion.choices, db_index=True
    )
    # Dates and times for its people who name no zone of their own; empty: the country's
    # (``partnerhub.accounts.language.org_time_zone``).
    time_zone = models.CharField(
        _("time zone"), max_length=64, blank=True, validators=[validate_time_zone]
    )
    # Partners only.
    partner_tier = models.PositiveSmallIntegerField(
        _("partner tier"), choices=PartnerTier.choices, null=True, blank=True
    )
    partner_certified = models.BooleanField(_("certified partner"), default=False)
    # D1–D5. Written only by services; support staff can read but not change them (D7).
    deletion_marked_at = models.DateTimeField(_("marked for deletion at"), null=True, blank=True)
    deletion_warned_at = models.DateTimeField(_("deletion warning sent at"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last user activity"), null=True, blank=True)
    # D1 must be decided again: the org is new, or it may have stopped holding licenses (a
    # subscription ended or was cancelled) or managing customers. Set by the services that make
    # those changes (``deletion_recheck``), cleared by the D1 sweep, so an idle tick reads only
    # the flagged orgs through a partial index instead of every org (issue 11).
    deletion_recheck = models.BooleanField(
        _("deletion check due"), default=True, db_default=True, editable=False
    )
    # The org has a row in some partner's customer list (``licensing.CustomerRow``): kept by
    # the read model in the transaction that adds or drops its rows, so the support forecast
    # finds the few orgs on no list (partners, direct customers) through a partial index
    # instead of probing the list for every org (issue 16).
    on_partner_list = models.BooleanField(
        _("on a partner's list"), default=False, db_default=False, editable=False
    )

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]
        indexes = [
            models.Index(Lower("name"), name="org_name_lower_idx"),
            models.Index(
                fields=["deletion_marked_at"],
                name="org_marked_idx",
                condition=models.Q(deletion_marked_at__isnull=False),
            ),
            # D4: warned orgs, by the warning's instant (an idle tick reads none of the others).
            models.Index(
                fields=["deletion_warned_at"],
                name="org_warned_idx",
                condition=models.Q(deletion_warned_at__isnull=False),
            ),
            models.Index(
                fields=["id"],
                name="org_deletion_recheck_idx",
                condition=models.Q(deletion_recheck=True),
            ),
            models.Index(
                fields=["id"],
                name="org_on_no_list_idx",
                condition=models.Q(on_partner_list=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="org_partner_fields_only_on_partners",
                condition=models.Q(kind=OrgKind.PARTNER)
                | models.Q(partner_tier__isnull=True, partner_certified=False),
            ),
            models.CheckConstraint(
                name="org_warning_needs_mark",
                condition=models.Q(deletion_warned_at__isnull=True)
                | models.Q(deletion_marked_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # Derived, never business logic: keeps the W2 index column in step with the name.
        self.name_prefix = name_prefix(self.name)
        super().save(*args, **kwargs)

    @property
    def is_partner(self) -> bool:
        return self.kind == OrgKind.PARTNER


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None):
        # People type their address in any case; we store it lower-cased.
        return self.get(email=(username or "").strip().lower())

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person. Signs in with their email. Belongs to one org (support staff to none)."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    email_domain = models.CharField(
        _("email domain"), max_length=255, db_index=True, editable=False
    )
    org = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        related_name="users",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
    )
    # The language the person reads pages and emails in (issue 14): set from the browser's at
    # the first sign-in, changed with the picker; empty until then (emails fall back to the
    # org's country). Wins over Accept-Language (``PersonLocaleMiddleware``).
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)
    # Empty: the org's time zone.
    time_zone = models.CharField(
        _("time zone"), max_length=64, blank=True, validators=[validate_time_zone]
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        indexes = [models.Index(fields=["org", "email"], name="user_org_email_idx")]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        self.email_domain = email_domain(self.email)
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


class Membership(models.Model):
    """The role a person holds in an organization: partner roles in a partner org (T1), admin
    roles in a customer org. One role per person per org."""

    user = models.ForeignKey(User, related_name="memberships", on_delete=models.CASCADE)
    org = models.ForeignKey(Organization, related_name="memberships", on_delete=models.CASCADE)
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, db_index=True)
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "org"], name="membership_one_role_per_org"),
        ]
        indexes = [models.Index(fields=["org", "role"], name="membership_org_role_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.org}"


class CustomerRelationship(models.Model):
    """A partner manages a customer (for the services it sold or trialled).

    ``access`` is what the partner may do inside the customer's Control Hub: full admin, or
    provisioning admin when the customer consented without full access (T3). The relationship
    puts the customer on the partner's customer list.
    """

    partner = models.ForeignKey(
        Organization, related_name="customer_relationships", on_delete=models.CASCADE
    )
    customer = models.ForeignKey(
        Organization, related_name="partner_relationships", on_delete=models.CASCADE
    )
    access = models.CharField(
        _("access"), max_length=32, choices=PartnerAccess.choices, default=PartnerAccess.FULL_ADMIN
    )
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("customer relationship")
        verbose_name_plural = _("customer relationships")
        constraints = [
            models.UniqueConstraint(fields=["partner", "customer"], name="relationship_unique"),
            models.CheckConstraint(
                name="relationship_not_self", condition=~models.Q(partner=models.F("customer"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} → {self.customer}"


class AuditEntry(models.Model):
    """One row per change made by a person or by the lifecycle (STYLE rule 2).

    Org and actor are kept as ids and labels too, so the row outlives a deleted org (D10).
    """

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=255, default="system")
    action = models.CharField(_("action"), max_length=64, db_index=True)
    org_id_value = models.BigIntegerField(_("org id"), null=True, blank=True, db_index=True)
    org_name = models.CharField(_("org name"), max_length=200, blank=True)
    target = models.CharField(_("target"), max_length=255, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class ContentItem(models.Model):
    """A message, file or recording. Stands for the user data that D4 deletes for good and that
    S1 keeps available during a renewal period."""

    org = models.ForeignKey(Organization, related_name="content", on_delete=models.CASCADE)
    author = models.ForeignKey(
        User, related_name="content", on_delete=models.CASCADE, null=True, blank=True
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ContentKind.choices)
    title = models.CharField(_("title"), max_length=255, blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("content item")
        verbose_name_plural = _("content items")
        indexes = [models.Index(fields=["org", "kind"], name="content_org_kind_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"


# ---- machine interfaces (issue 15): API keys, idempotency, webhooks -----------------------
class ApiKey(models.Model):
    """A key a person creates for a program; it acts as that person (their role and tenant).

    Only a prefix and the SHA-256 of the whole token are stored: the token is shown once.
    """

    org = models.ForeignKey(Organization, related_name="api_keys", on_delete=models.CASCADE)
    created_by = models.ForeignKey(User, related_name="api_keys", on_delete=models.CASCADE)
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    secret_hash = models.CharField(_("secret hash"), max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"


class IdempotencyRecord(models.Model):
    """The first answer to a POST sent with an ``Idempotency-Key`` (the Stripe model)."""

    api_key = models.ForeignKey(ApiKey, related_name="+", on_delete=models.CASCADE)
    key = models.CharField(_("idempotency key"), max_length=255)
    request_hash = models.CharField(_("request hash"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status"), default=0)
    response_body = models.JSONField(_("response"), null=True, blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_unique")
        ]

    def __str__(self) -> str:
        return f"{self.api_key_id}:{self.key}"


class WebhookEndpoint(models.Model):
    """A partner's HTTPS receiver and the event types it wants."""

    partner = models.ForeignKey(
        Organization, related_name="webhook_endpoints", on_delete=models.CASCADE
    )
    url = models.URLField(_("URL"), max_length=500)
    event_types = models.JSONField(_("event types"), default=list)
    created = models.DateTimeField(_("created"), default=timezone.now)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    failure_streak = models.PositiveIntegerField(_("failed attempts in a row"), default=0)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["created"]

    def __str__(self) -> str:
        return self.url


class WebhookSecret(models.Model):
    """A signing secret of an endpoint. Rotating adds a new one and lets the old one expire
    later, so deliveries are signed with both during the overlap."""

    endpoint = models.ForeignKey(WebhookEndpoint, related_name="secrets", on_delete=models.CASCADE)
    key_id = models.CharField(_("secret id"), max_length=32, unique=True)
    secret = models.CharField(_("secret"), max_length=100)
    created = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook secret")
        verbose_name_plural = _("webhook secrets")
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.key_id


class WebhookEvent(models.Model):
    """One event owed to a partner, written in the transaction of the change (the outbox)."""

    partner = models.ForeignKey(
        Organization, related_name="webhook_events", on_delete=models.CASCADE
    )
    event_id = models.CharField(_("event id"), max_length=40, unique=True)
    key = models.CharField(_("key"), max_length=255, unique=True)
    event_type = models.CharField(_("event type"), max_length=64, db_index=True)
    payload = models.JSONField(_("payload"))
    created = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class WebhookDelivery(models.Model):
    """One event for one endpoint: claimed by a worker, retried with backoff, logged per try."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    event = models.ForeignKey(WebhookEvent, related_name="deliveries", on_delete=models.CASCADE)
    endpoint = models.ForeignKey(
        WebhookEndpoint, related_name="deliveries", on_delete=models.CASCADE
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-next_attempt_at"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_unique")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_due_idx",
                condition=models.Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP try of a delivery: status, latency and the start of the answer."""

    delivery = models.ForeignKey(
        WebhookDelivery, related_name="attempt_log", on_delete=models.CASCADE
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), default=0)
    response_snippet = models.CharField(_("response"), max_length=500, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.status_code or self.error}"


NOTIFICATION_CHOICES = [(str(kind), kind.label) for kind in NOTIFICATION_KINDS]


class Notification(models.Model):
    """One item of a partner person's feed: something a customer (or support, or the lifecycle)
    did that the partner should know. Fanned out on write, one row per person, so the bell's
    unread count and the list page read one narrow indexed table.

    The customer is kept as an id and a name (no foreign key): the notice that a customer
    deleted its org must outlive the org (D10).
    """

    user = models.ForeignKey(User, related_name="notifications", on_delete=models.CASCADE)
    partner = models.ForeignKey(
        Organization, related_name="partner_notifications", on_delete=models.CASCADE
    )
    kind = models.CharField(_("kind"), max_length=32, choices=NOTIFICATION_CHOICES)
    # The event's key: one notice per event and person, however often the event is reported.
    key = models.CharField(_("key"), max_length=255)
    customer_id_value = models.BigIntegerField(_("customer id"), null=True, blank=True)
    customer_name = models.CharField(_("customer"), max_length=200, blank=True)
    context = models.JSONField(_("details"), default=dict, blank=True)
    link_path = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_user"),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_feed_idx"),
            models.Index(
                fields=["user"],
                name="notification_unread_idx",
                condition=models.Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_kind_display()} · {self.customer_name}"


class NotificationEmailOptOut(models.Model):
    """A person turned off the email for one kind of notification; the feed keeps it."""

    user = models.ForeignKey(User, related_name="notification_opt_outs", on_delete=models.CASCADE)
    kind = models.CharField(_("kind"), max_length=32, choices=NOTIFICATION_CHOICES)

    class Meta:
        verbose_name = _("notification email opt-out")
        verbose_name_plural = _("notification email opt-outs")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_opt_out_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_kind_display()}"
