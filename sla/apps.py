from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = _("Service levels")

    def ready(self):
        from sla import panels, receivers
        from tickets import signals

        receivers.connect()
        signals.ticket_panels.connect(panels.on_ticket_panels, dispatch_uid="sla-panels")
