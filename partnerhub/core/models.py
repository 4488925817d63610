from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxEmail(models.Model):
    """One email the system owes somebody (STYLE rule 5).

    The row is written in the same transaction as the state change that owes it, under a unique
    ``key`` (recipient, kind, the object, the deadline it is about), so owing the same email twice
    is impossible. The message is rendered when it is owed, so it still reads right if the org it
    names is deleted before delivery. A worker claims the row, sends it and marks it sent.
    """

    key = models.CharField(_("key"), max_length=255, unique=True)
    kind = models.CharField(_("kind"), max_length=64, db_index=True)
    to_email = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField(_("text body"))
    body_html = models.TextField(_("HTML body"), blank=True)
    # The complete MIME message, built once when the email is owed; delivery sends these bytes.
    message = models.BinaryField(_("MIME message"), blank=True, default=b"", db_default=b"")
    # Plain ids, not foreign keys: the row must outlive a deleted org (D10) for audit.
    org_id = models.BigIntegerField(_("org id"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("owed since"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    # "<worker node>:<boot>:<batch>" of the delivery that claimed the row (issue 9, 11).
    claim_token = models.CharField(
        _("claim token"), max_length=64, blank=True, default="", db_default=""
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("owed email")
        verbose_name_plural = _("email outbox")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="outbox_unsent_idx",
                condition=models.Q(sent_at__isnull=True),
            ),
            models.Index(
                fields=["claim_token"],
                name="outbox_claim_idx",
                condition=models.Q(sent_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.to_email}"
