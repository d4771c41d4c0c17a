from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    """Help articles customers search before opening a ticket (the full knowledge base grows
    here). Sits just below tickets: an article may belong to a pool; tickets never imports it."""

    name = "knowledge"
    verbose_name = _("Knowledge")
