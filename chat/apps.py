from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = _("Chat and messaging")

    def ready(self):
        from django.apps import apps

        from chat import receivers

        receivers.connect()
        if apps.is_installed("live"):
            from chat.visitor import register_live_rule

            register_live_rule()
