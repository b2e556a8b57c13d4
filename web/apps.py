from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """Every screen, grouped by audience. No models: pages call actions and services below."""

    name = "web"
    verbose_name = _("Screens")
