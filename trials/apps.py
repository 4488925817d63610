from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrialsConfig(AppConfig):
    """Trials: starting, consent, extension, devices, conversion, expiry notices (T)."""

    name = "trials"
    verbose_name = _("Trials")
