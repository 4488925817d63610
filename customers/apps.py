from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    """The customer side, top of the domain: activity, the deletion lifecycle (D), the partner's
    customer list, Control Hub, and the lifecycle tick that runs every app's sweeps."""

    name = "customers"
    verbose_name = _("Customers")
