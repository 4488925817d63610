from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from licensing.models import Subscription
from partnerhub.accounts.models import Organization

from .choices import ConsentStatus, DeviceType, ExtensionStatus


class ConsentRequest(models.Model):
    """T3: a partner asks an existing org (no sales relationship) for consent to a trial.

    One full admin must answer within 10 days (``expires_at``); unanswered, the trial is
    cancelled and the customer leaves the partner's list.
    """

    trial = models.OneToOneField(
        Subscription, related_name="consent_request", on_delete=models.CASCADE
    )
    partner = models.ForeignKey(Organization, related_name="+", on_delete=models.CASCADE)
    customer = models.ForeignKey(
        Organization, related_name="consent_requests", on_delete=models.CASCADE
    )
    admin_email = models.EmailField(_("admin email given by the partner"))
    status = models.CharField(
        _("status"), max_length=16, choices=ConsentStatus.choices, default=ConsentStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="+", on_delete=models.SET_NULL, null=True
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    last_sent_at = models.DateTimeField(_("consent email last sent at"), default=timezone.now)
    send_count = models.PositiveSmallIntegerField(_("times sent"), default=1)
    expires_at = models.DateTimeField(_("expires at"))
    decided_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    # T3: ticked, the partner becomes a full admin of the org; unticked, a provisioning admin.
    grant_full_admin = models.BooleanField(_("allow the partner full admin access"), default=False)

    class Meta:
        verbose_name = _("trial consent request")
        verbose_name_plural = _("trial consent requests")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "customer"],
                condition=Q(status=ConsentStatus.PENDING),
                name="consent_one_pending_per_pair",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="consent_due_idx")]

    def __str__(self) -> str:
        return f"{self.partner} → {self.customer} ({self.get_status_display()})"


class DeviceShipment(models.Model):
    """T2/T14: one shipment per device type per trial, never a second; phones ship without power
    supplies. Devices must be back two weeks before the device agreement ends."""

    trial = models.ForeignKey(
        Subscription, related_name="device_shipments", on_delete=models.CASCADE
    )
    device_type = models.CharField(_("device type"), max_length=24, choices=DeviceType.choices)
    quantity = models.PositiveSmallIntegerField(_("quantity"))
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    agreement_end_date = models.DateField(_("device agreement ends"))
    return_due_date = models.DateField(_("return due"), db_index=True)

    class Meta:
        verbose_name = _("device shipment")
        verbose_name_plural = _("device shipments")
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "device_type"], name="shipment_one_per_device_type"
            ),
            models.CheckConstraint(name="shipment_quantity_positive", condition=Q(quantity__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.get_device_type_display()} × {self.quantity}"


class Device(models.Model):
    """One shipped device, tracked by serial number until it is returned (T14)."""

    shipment = models.ForeignKey(DeviceShipment, related_name="devices", on_delete=models.CASCADE)
    serial_number = models.CharField(_("serial number"), max_length=64, unique=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["serial_number"]

    def __str__(self) -> str:
        return self.serial_number


class ExtensionRequest(models.Model):
    """T7: extending a device trial past its cap is a request support staff approve or refuse."""

    trial = models.ForeignKey(
        Subscription, related_name="extension_requests", on_delete=models.CASCADE
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="+", on_delete=models.SET_NULL, null=True
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    requested_end_date = models.DateField(_("requested end date"))
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ExtensionStatus.choices,
        default=ExtensionStatus.PENDING,
        db_index=True,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("device-trial extension request")
        verbose_name_plural = _("device-trial extension requests")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial"],
                condition=Q(status=ExtensionStatus.PENDING),
                name="extension_one_pending_per_trial",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trial} → {self.requested_end_date}"
