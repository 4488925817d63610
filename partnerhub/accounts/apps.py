from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Who is who: organizations (partners and customers), people, their roles, the audit log."""

    name = "partnerhub.accounts"
    label = "accounts"
    verbose_name = _("Organizations and people")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .middleware import session_started

        user_logged_in.connect(session_started, dispatch_uid="session_lifetime_start")
