from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerhub.accounts.models import Organization

from .choices import ActivityKind, DeletionReason


class ActivityEvent(models.Model):
    """One user activity (D5). The org's ``last_activity_at`` keeps the latest for the sweeps;
    these rows are the evidence."""

    org = models.ForeignKey(Organization, related_name="activity", on_delete=models.CASCADE)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        related_name="activity",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    kind = models.CharField(_("kind"), max_length=32, choices=ActivityKind.choices)
    at = models.DateTimeField(_("happened at"))
    source = models.CharField(_("reported by"), max_length=64, default="partnerhub")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("activity event")
        verbose_name_plural = _("activity events")
        ordering = ["-at"]
        indexes = [models.Index(fields=["org", "-at"], name="activity_org_at_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.at:%Y-%m-%d %H:%M}"


class DeletionTombstone(models.Model):
    """D10: all that is left of a deleted org: its id, name, when and why. No user content."""

    org_id_value = models.BigIntegerField(_("org id"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16)
    reason = models.CharField(_("reason"), max_length=32, choices=DeletionReason.choices)
    deleted_at = models.DateTimeField(_("deleted at"), db_index=True)
    marked_at = models.DateTimeField(_("marked at"), null=True, blank=True)
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    deleted_by = models.CharField(_("deleted by"), max_length=255, default="system")

    class Meta:
        verbose_name = _("deletion tombstone")
        verbose_name_plural = _("deletion tombstones")
        ordering = ["-deleted_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.org_id_value})"


class DeletionHold(models.Model):
    """Safety valve: a tick that would delete more orgs than the limit deletes none and files a
    hold. Support staff release it in the Django admin; the next tick then goes ahead."""

    created_at = models.DateTimeField(_("held at"), default=timezone.now)
    tick_at = models.DateTimeField(_("tick instant"))
    due_count = models.PositiveIntegerField(_("orgs due"))
    limit = models.PositiveIntegerField(_("limit"))
    org_ids = models.JSONField(_("org ids"), default=list)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )

    class Meta:
        verbose_name = _("held deletion batch")
        verbose_name_plural = _("held deletion batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.due_count} orgs held at {self.created_at:%Y-%m-%d %H:%M}"


class UserInvitation(models.Model):
    """A Control Hub invitation: a signed link that lets the person set a password, once, until
    ``expires_at``. One row per person; a resend moves the expiry (which is signed), so older
    links stop working. ``accepted_at`` makes it single-use."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, related_name="invitation", on_delete=models.CASCADE
    )
    org = models.ForeignKey(Organization, related_name="invitations", on_delete=models.CASCADE)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    sent_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("link expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("user invitation")
        verbose_name_plural = _("user invitations")

    def __str__(self) -> str:
        return f"{self.user} · {self.org}"


class TickRun(models.Model):
    """One fanned-out lifecycle tick (issue 11): beat's task plans each phase of due-sweeps into
    id-range chunks, workers run the chunks, and the chunk that finishes a phase plans the
    next. One row per tick instant, so a beat that fires twice starts one run."""

    now = models.DateTimeField(_("tick instant"), unique=True)
    phase = models.PositiveSmallIntegerField(_("phase"), default=0)
    pending = models.PositiveIntegerField(_("chunks still running"), default=0)
    counts = models.JSONField(_("done per sweep"), default=dict)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("lifecycle tick run")
        verbose_name_plural = _("lifecycle tick runs")

    def __str__(self) -> str:
        return f"tick {self.now.isoformat()}"


class SavedView(models.Model):
    """Issue 16: a person's saved customer-list view (filters, sort, columns, page size as the
    list's own query string), optionally shared with their partner org; one may be the
    person's default, used when they land on the list."""

    owner = models.ForeignKey("accounts.User", related_name="saved_views", on_delete=models.CASCADE)
    partner = models.ForeignKey(
        "accounts.Organization", related_name="saved_views", on_delete=models.CASCADE
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filters, sort and columns"), max_length=2000, blank=True)
    shared = models.BooleanField(_("shared with my organization"), default=False)
    is_default = models.BooleanField(_("my default"), default=False)
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_name_once"),
            models.UniqueConstraint(
                fields=["owner"],
                condition=models.Q(is_default=True),
                name="saved_view_one_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name
