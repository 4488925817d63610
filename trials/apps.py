from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrialsConfig(AppConfig):
    """Trials: starting, consent, extension, devices, conversion, expiry notices (T)."""

    name = "trials"
    verbose_name = _("Trials")

    def ready(self) -> None:
        from licensing.provisioning import provisioning_hook_register

        from .sweeps import trial_welcome_hook

        # T2: the welcome goes when the last service of a new trial is provisioned.
        provisioning_hook_register(trial_welcome_hook)
