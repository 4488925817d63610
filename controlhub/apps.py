from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ControlHubConfig(AppConfig):
    """Control Hub, the customer admins' surface: pages, forms and the reads shaped for them. It
    holds no rules and no tables; its views call the services of the domain apps below it."""

    name = "controlhub"
    label = "controlhub"
    verbose_name = _("Control Hub")
