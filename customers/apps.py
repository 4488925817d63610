from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    """The customer side, top of the domain: activity, the deletion lifecycle (D), the partner's
    customer list, the people of a customer org (add, invite, role, deactivate), and the
    lifecycle tick that runs every app's sweeps. Control Hub's pages are the `controlhub` app."""

    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .signals import record_sign_in

        # D5: signing in to our site restarts the org's deletion countdown.
        user_logged_in.connect(record_sign_in, dispatch_uid="customers.record_sign_in")
        # Issue 16: the read model's deletion forecast columns follow org_forecast's rules.
        from licensing.readmodel import forecaster_register

        from .forecast_rows import forecast_columns

        forecaster_register(forecast_columns)
        # Issue 16: the rows' latest admin sign-in comes from this layer's activity evidence.
        from licensing.readmodel import admin_signins_register

        from .signin_rows import admin_signins

        admin_signins_register(admin_signins)
        # Held deletion batches in the support console (release action).
        from . import admin_holds  # noqa: F401
