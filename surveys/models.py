"""Questionnaires (customer satisfaction, agent disposition, operator rating) and answers."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from mailboxes.models import Mailbox
from people.models import Contact, Department, Sector
from tickets.models import Pool, Ticket


class Translatable(models.Model):
    """Texts shown to customers, with a translation per language and the default as fallback.

    ``translations``: ``{"pl": {"text": "..."}, "pt-br": {...}}`` for the fields named in
    ``TRANSLATED``; edited in admin as one field per language (``surveys.admin``). A text
    missing in a language falls back to the field itself (written in the site's language).
    """

    TRANSLATED: tuple[str, ...] = ()

    translations = models.JSONField(_("translations"), default=dict, blank=True)

    class Meta:
        abstract = True

    def translated(self, field: str, language: str | None = None) -> str:
        """``field`` in ``language`` (default: the active language), else the default text."""
        language = language or translation.get_language() or settings.LANGUAGE_CODE
        texts = self.translations.get(language) if isinstance(self.translations, dict) else None
        value = texts.get(field) if isinstance(texts, dict) else None
        return value if isinstance(value, str) and value.strip() else getattr(self, field)


class Dictionary(models.Model):
    """A list of answers to choose from: "Which partner?", "Which product?"..."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("dictionary")
        verbose_name_plural = _("dictionaries")

    def __str__(self):
        return self.name


class DictionaryItem(Translatable):
    TRANSLATED = ("label",)

    dictionary = models.ForeignKey(
        Dictionary, on_delete=models.CASCADE, related_name="items", verbose_name=_("dictionary")
    )
    label = models.CharField(_("label"), max_length=200)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "label"]
        verbose_name = _("dictionary entry")
        verbose_name_plural = _("dictionary entries")
        constraints = [
            models.UniqueConstraint(fields=["dictionary", "label"], name="dictionary_item_unique")
        ]

    def __str__(self):
        return self.label

    @property
    def local_label(self) -> str:
        return self.translated("label")


class Questionnaire(Translatable):
    TRANSLATED = ("name", "description")

    class Kind(models.TextChoices):
        SATISFACTION = "satisfaction", _("Customer satisfaction")
        DISPOSITION = "disposition", _("Agent disposition")
        OPERATOR_RATING = "operator_rating", _("Operator rating")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    description = models.TextField(_("introduction"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def local_name(self) -> str:
        return self.translated("name")

    @property
    def local_description(self) -> str:
        return self.translated("description")


class Question(Translatable):
    TRANSLATED = ("text", "help_text")

    class Kind(models.TextChoices):
        RATING = "rating", _("Rating 1 to 5")
        SCORE = "score", _("Score 0 to 10")
        SINGLE_CHOICE = "single_choice", _("One choice from a dictionary")
        MULTIPLE_CHOICE = "multiple_choice", _("Several choices from a dictionary")
        YES_NO = "yes_no", _("Yes or no")
        TEXT = "text", _("Text")

    CHOICE_KINDS = (Kind.SINGLE_CHOICE, Kind.MULTIPLE_CHOICE)

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="questions"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    text = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    required = models.BooleanField(_("required"), default=True)
    dictionary = models.ForeignKey(
        Dictionary,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="questions",
        verbose_name=_("dictionary"),
        help_text=_("For choice questions: the answers to choose from."),
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self):
        return self.text

    def clean(self):
        if self.kind in self.CHOICE_KINDS and self.dictionary_id is None:
            raise ValidationError({"dictionary": _("A choice question needs a dictionary.")})
        if self.kind not in self.CHOICE_KINDS and self.dictionary_id is not None:
            raise ValidationError({"dictionary": _("Only choice questions use a dictionary.")})


def _limit(kind):
    return {"kind": kind, "active": True}


class PoolSurveySettings(models.Model):
    """Which questionnaires a pool uses, and whether closing needs the disposition form."""

    pool = models.OneToOneField(
        Pool, on_delete=models.CASCADE, related_name="survey_settings", verbose_name=_("pool")
    )
    satisfaction_enabled = models.BooleanField(_("send the satisfaction survey"), default=False)
    satisfaction_questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to=_limit(Questionnaire.Kind.SATISFACTION),
        verbose_name=_("satisfaction questionnaire"),
    )
    satisfaction_sent_on = models.CharField(
        _("send the survey when the ticket is"),
        max_length=10,
        choices=[("closed", _("closed")), ("resolved", _("resolved or closed"))],
        default="closed",
        help_text=_("Resolved tickets close by themselves after the pool's working days."),
    )
    satisfaction_link_days = models.PositiveSmallIntegerField(
        _("survey link valid for (days)"), default=14
    )
    disposition_questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to=_limit(Questionnaire.Kind.DISPOSITION),
        verbose_name=_("disposition questionnaire"),
    )
    disposition_required = models.BooleanField(
        _("agents must fill the disposition form to resolve or close"), default=False
    )
    operator_rating_questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to=_limit(Questionnaire.Kind.OPERATOR_RATING),
        verbose_name=_("operator rating questionnaire"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("department for reports"),
    )

    class Meta:
        verbose_name = _("pool survey settings")
        verbose_name_plural = _("pool survey settings")

    def __str__(self):
        return str(self.pool)

    def clean(self):
        if self.satisfaction_enabled and self.satisfaction_questionnaire_id is None:
            raise ValidationError(
                {"satisfaction_questionnaire": _("Choose the questionnaire to send.")}
            )
        if self.disposition_required and self.disposition_questionnaire_id is None:
            raise ValidationError(
                {"disposition_questionnaire": _("Choose the form agents must fill.")}
            )


class MailboxSurveySettings(models.Model):
    """A mailbox's own disposition form, in place of its pool's, for tickets mailed to it."""

    mailbox = models.OneToOneField(
        Mailbox, on_delete=models.CASCADE, related_name="survey_settings", verbose_name=_("mailbox")
    )
    disposition_questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to=_limit(Questionnaire.Kind.DISPOSITION),
        verbose_name=_("disposition questionnaire"),
    )

    class Meta:
        verbose_name = _("mailbox survey settings")
        verbose_name_plural = _("mailbox survey settings")

    def __str__(self):
        return str(self.mailbox)


class SurveyInvitation(models.Model):
    """A satisfaction survey sent for a closed ticket: answered once, through a signed link."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="survey_invitations")
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, related_name="+")
    address = models.EmailField(_("sent to"), blank=True)
    # Part of the signed token: a new invitation never accepts an old link.
    nonce = models.CharField(max_length=32, editable=False)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "questionnaire"], name="one_survey_per_ticket"
            )
        ]

    def __str__(self):
        return f"{self.ticket_id} {self.questionnaire_id}"

    @property
    def is_open(self) -> bool:
        return self.answered_at is None and self.expires_at > timezone.now()

    @staticmethod
    def lifetime(days: int) -> timedelta:
        return timedelta(days=max(days, 1))


class Response(models.Model):
    """One filled questionnaire, stored with everything reports group by."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="responses"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Questionnaire.Kind)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="survey_responses")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
        help_text=_("The agent who handled the ticket (satisfaction) or filled the form."),
    )
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sector = models.ForeignKey(
        Sector, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    invitation = models.OneToOneField(
        SurveyInvitation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="response",
    )
    created_at = models.DateTimeField(_("answered"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        indexes = [
            models.Index(fields=["kind", "created_at"], name="response_kind_created_idx"),
            models.Index(fields=["ticket", "kind"], name="response_ticket_kind_idx"),
            models.Index(fields=["agent", "created_at"], name="response_agent_created_idx"),
            models.Index(fields=["pool", "created_at"], name="response_pool_created_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.ticket_id}"


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    # Rating 1-5, score 0-10, yes (1) / no (0): a number reports can average.
    number = models.SmallIntegerField(_("number"), null=True, blank=True)
    text = models.TextField(_("text"), blank=True)
    choices = models.ManyToManyField(DictionaryItem, blank=True, related_name="answers")

    class Meta:
        ordering = ["question__position", "question_id"]
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question"], name="one_answer_per_question"
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=True) | Q(number__gte=0, number__lte=10),
                name="answer_number_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.question}: {self.number if self.number is not None else self.text}"
