from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The REST API (issue 15): views over the same services and selectors as the pages."""

    name = "api"
    verbose_name = _("API")
