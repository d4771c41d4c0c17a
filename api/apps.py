from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API")

    def ready(self):
        from api import receivers, schema  # noqa: F401 (schema: registers the authentication scheme)

        receivers.connect()
