"""Demo questionnaires, dictionaries, pool survey settings and notification rules (once)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from mailboxes.models import NotificationRule
from surveys.models import (
    Dictionary,
    DictionaryItem,
    PoolSurveySettings,
    Question,
    Questionnaire,
)
from tickets.models import Pool

Kind = Question.Kind
SATISFACTION = [
    ("How satisfied are you with the answer?", Kind.RATING, True),
    ("How likely are you to recommend us to a friend?", Kind.SCORE, True),
    ("Was your problem solved?", Kind.YES_NO, True),
    ("Anything we could do better?", Kind.TEXT, False),
]
DICTIONARIES = {
    "Partners": ["Loja Azul", "Sklep Zielony", "No partner"],
    "Resolution": ["Explained", "Configuration changed", "Sent a technician", "Refund"],
}
# Notification rules turned on in the demo: (event, recipients).
RULES = {
    "ticket_opened": {"to_requester": True, "to_pool_members": True},
    "ticket_resolved": {"to_requester": True},
    "customer_message": {"to_assignee": True},
    "resolution_rejected": {"to_assignee": True, "to_supervisors": True},
    "survey_answered": {"to_assignee": True},
}


class Command(BaseCommand):
    help = "Load demo questionnaires and switch on demo notification rules (once)."

    def handle(self, *args, **options):
        if Questionnaire.objects.exists():
            self.stdout.write("Demo questionnaires already present.")
            return
        self._load()
        self.stdout.write(self.style.SUCCESS("Demo questionnaires loaded."))

    @transaction.atomic
    def _load(self):
        dictionaries = {}
        for name, labels in DICTIONARIES.items():
            dictionaries[name] = Dictionary.objects.create(name=name)
            for position, label in enumerate(labels):
                DictionaryItem.objects.create(
                    dictionary=dictionaries[name], label=label, position=position
                )
        satisfaction = Questionnaire.objects.create(
            name="Customer satisfaction", kind=Questionnaire.Kind.SATISFACTION
        )
        for position, (text, kind, required) in enumerate(SATISFACTION):
            Question.objects.create(
                questionnaire=satisfaction,
                position=position,
                text=text,
                kind=kind,
                required=required,
            )
        disposition = Questionnaire.objects.create(
            name="Closing the ticket", kind=Questionnaire.Kind.DISPOSITION
        )
        Question.objects.create(
            questionnaire=disposition,
            position=0,
            text="Which partner?",
            kind=Kind.SINGLE_CHOICE,
            dictionary=dictionaries["Partners"],
        )
        Question.objects.create(
            questionnaire=disposition,
            position=1,
            text="What did we do?",
            kind=Kind.MULTIPLE_CHOICE,
            dictionary=dictionaries["Resolution"],
        )
        Question.objects.create(
            questionnaire=disposition,
            position=2,
            text="Solved on first contact?",
            kind=Kind.YES_NO,
        )
        rating = Questionnaire.objects.create(
            name="Rate the interaction", kind=Questionnaire.Kind.OPERATOR_RATING
        )
        Question.objects.create(
            questionnaire=rating,
            position=0,
            text="How did the conversation go?",
            kind=Kind.RATING,
        )
        Question.objects.create(
            questionnaire=rating, position=1, text="Notes", kind=Kind.TEXT, required=False
        )
        for pool in Pool.objects.all():
            PoolSurveySettings.objects.update_or_create(
                pool=pool,
                defaults={
                    "satisfaction_enabled": True,
                    "satisfaction_questionnaire": satisfaction,
                    "disposition_questionnaire": disposition,
                    "disposition_required": pool.name == "Billing",
                    "operator_rating_questionnaire": rating,
                },
            )
        for event, recipients in RULES.items():
            NotificationRule.objects.update_or_create(
                event=event, pool=None, defaults={"enabled": True, **recipients}
            )
