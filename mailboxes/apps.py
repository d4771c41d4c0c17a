from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailboxesConfig(AppConfig):
    name = "mailboxes"
    verbose_name = _("Mail")

    def ready(self):
        from mailboxes import receivers

        receivers.connect()
