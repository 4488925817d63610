from django.db import models
from django.utils.translation import gettext_lazy as _


class TrialLength(models.IntegerChoices):
    """T6: a trial is started or extended by one of these periods."""

    DAYS_30 = 30, _("30 days")
    DAYS_60 = 60, _("60 days")
    DAYS_90 = 90, _("90 days")


class ConsentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the customer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired (no answer in 10 days)")
    CANCELLED = "cancelled", _("Cancelled by the partner")


class DeviceType(models.TextChoices):
    DESK_PHONE = "desk_phone", _("Desk phone")
    CONFERENCE_PHONE = "conference_phone", _("Conference phone")
    VIDEO_DESK = "video_desk", _("Desk video device")
    VIDEO_ROOM = "video_room", _("Room video device")
    BOARD = "board", _("Board")
    HEADSET = "headset", _("Headset")


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for support")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
