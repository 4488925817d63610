from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Who is who: organizations (partners and customers), people, their roles, the audit log."""

    name = "partnerhub.accounts"
    label = "accounts"
    verbose_name = _("Organizations and people")
