from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Who is who: organizations (partners and customers), people, their roles, the audit log."""

    name = "partnerhub.accounts"
    label = "accounts"
    verbose_name = _("Organizations and people")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from partnerhub.core.outbox import recipient_locales_register

        from .language import person_locale_on_sign_in, recipient_locales
        from .middleware import session_started

        user_logged_in.connect(session_started, dispatch_uid="session_lifetime_start")
        user_logged_in.connect(person_locale_on_sign_in, dispatch_uid="person_locale_sign_in")
        # Issue 14: every email is rendered in its recipient's language and time zone.
        recipient_locales_register(recipient_locales)
