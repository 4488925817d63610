from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicensingConfig(AppConfig):
    """Subscriptions, services, licenses, calling data, orders and the setup wizard (S, P, C, W)."""

    name = "licensing"
    verbose_name = _("Subscriptions and licenses")
