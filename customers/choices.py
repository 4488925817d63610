from django.db import models
from django.utils.translation import gettext_lazy as _


class ActivityKind(models.TextChoices):
    """D5: the user activities that restart the deletion countdown."""

    APP_SIGN_IN = "app_sign_in", _("Signed in to the app")
    MESSAGE = "message", _("Sent or received a message")
    TOKEN_REFRESH = "token_refresh", _("User token refreshed")
    CONTROL_HUB_SIGN_IN = "control_hub_sign_in", _("Customer admin signed in to Control Hub")


class DeletionStage(models.TextChoices):
    """Where an org stands in the D1–D4 countdown, as of an instant."""

    NOT_MARKED = "not_marked", _("Not marked")
    MARKED = "marked", _("Marked for deletion")
    WARNING_DUE = "warning_due", _("Warning email due")
    WARNED = "warned", _("Warned")
    DELETION_DUE = "deletion_due", _("Deletion due")


class DeletionReason(models.TextChoices):
    UNUSED = "unused", _("Unused: no licenses and no activity")
    CUSTOMER_REQUEST = "customer_request", _("Deleted by its full admin")
