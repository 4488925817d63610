from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo world and the bulk builder (`manage.py seed_demo`). It sits on top of every app
    because it builds data for all of them; nothing imports it but its command and tests."""

    name = "partnerhub.demo"
    label = "demo"
    verbose_name = _("Demo data")
