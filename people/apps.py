from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _create_role_groups(sender, **kwargs):
    from people.services import ensure_role_groups

    ensure_role_groups()


class PeopleConfig(AppConfig):
    name = "people"
    verbose_name = _("People")

    def ready(self):
        # After our own permissions exist (auth's handler runs first for this sender).
        post_migrate.connect(_create_role_groups, sender=self, dispatch_uid="people-role-groups")
