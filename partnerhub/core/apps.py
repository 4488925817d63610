from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Platform plumbing with no domain knowledge: the email outbox and the generic list view."""

    name = "partnerhub.core"
    label = "core"
    verbose_name = _("Platform")
