"""The features an access profile switches on or off (stored by value in the profile)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Feature(models.TextChoices):
    REPORTS = "reports", _("Reports")
    APPROVALS = "approvals", _("Approve junior replies")
    OVERDUE_DASHBOARD = "overdue_dashboard", _("Overdue dashboard")
    MERGE = "merge", _("Merge tickets")
    BULK_ACTIONS = "bulk_actions", _("Bulk actions")
    CANNED_RESPONSES = "canned_responses", _("Canned responses of the pool")
    PHONE_DESK = "phone_desk", _("Phone desk")
    KNOWLEDGE_AUTHORING = "knowledge_authoring", _("Knowledge base authoring")
    API_TOKENS = "api_tokens", _("API tokens")
    ADMIN_SECTIONS = "admin_sections", _("Settings sections")


# Shown under each checkbox on the profile form.
FEATURE_HELP = {
    Feature.REPORTS: _(
        "Indicators, breakdowns, period and custom reports, their exports and the API's "
        "report figures. Without it every reports page answers 403."
    ),
    Feature.APPROVALS: _("Review, approve or return replies written by junior agents."),
    Feature.OVERDUE_DASHBOARD: _("The board of deadlines that are late or due soon."),
    Feature.MERGE: _("Merge a ticket into another one."),
    Feature.BULK_ACTIONS: _("Change many tickets at once from the queue."),
    Feature.CANNED_RESPONSES: _(
        "Write and edit the shared canned responses of the pools the agent works in."
    ),
    Feature.PHONE_DESK: _("The calls list, logging calls and the phone intake wizard."),
    Feature.KNOWLEDGE_AUTHORING: _("Write, edit and publish knowledge base articles."),
    Feature.API_TOKENS: _("Create API tokens and use the REST API."),
    Feature.ADMIN_SECTIONS: _(
        "Settings pages: webhooks and when resolved tickets close. Access profiles "
        "themselves stay with administrators."
    ),
}
