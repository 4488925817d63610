from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import (
    ContentKind,
    Country,
    DataRegion,
    NotificationKind,
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
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
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
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)

    class Meta:
        verbose_name = _("notification email opt-out")
        verbose_name_plural = _("notification email opt-outs")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_opt_out_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_kind_display()}"
