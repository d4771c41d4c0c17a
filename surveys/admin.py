from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from surveys.models import (
    Answer,
    Dictionary,
    DictionaryItem,
    MailboxSurveySettings,
    PoolSurveySettings,
    Question,
    Questionnaire,
    Response,
    SurveyInvitation,
)


def _key(field: str, language: str) -> str:
    return f"{field}_{language.replace('-', '_')}"


def _languages() -> list[tuple[str, Any]]:
    """The languages a text is translated into: all but the site's (the default text's)."""
    return [(code, name) for code, name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


class TranslationsForm(forms.ModelForm):
    """Stores the per-language fields ``translations_form`` adds in ``translations``.

    A blank translation is left out, so the customer sees the default text instead.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.translations
        stored = stored if isinstance(stored, dict) else {}
        for field_name in self._meta.model.TRANSLATED:
            for code, _name in _languages():
                texts = stored.get(code)
                text = texts.get(field_name, "") if isinstance(texts, dict) else ""
                self.initial.setdefault(_key(field_name, code), text)

    def save(self, commit=True):
        translations = {}
        for code, _name in _languages():
            texts = {
                field_name: self.cleaned_data.get(_key(field_name, code), "").strip()
                for field_name in self._meta.model.TRANSLATED
            }
            texts = {name: text for name, text in texts.items() if text}
            if texts:
                translations[code] = texts
        self.instance.translations = translations
        return super().save(commit=commit)


def translations_form(model) -> type[forms.ModelForm]:
    """A ModelForm with one field per translated text (``TRANSLATED``) and language."""
    extra: dict[str, forms.Field] = {}
    for field_name in model.TRANSLATED:
        field = model._meta.get_field(field_name)
        for code, name in _languages():
            extra[_key(field_name, code)] = forms.CharField(
                label=_("%(field)s (%(language)s)")
                % {"field": capfirst(field.verbose_name), "language": name},
                required=False,
                max_length=field.max_length,
                widget=forms.Textarea(attrs={"rows": 2})
                if isinstance(field, models.TextField)
                else forms.TextInput(attrs={"size": 40}),
            )
    meta = type("Meta", (), {"model": model, "exclude": ["translations"]})
    return type(f"{model.__name__}Form", (TranslationsForm,), {"Meta": meta, **extra})


class DictionaryItemInline(admin.TabularInline):
    model = DictionaryItem
    form = translations_form(DictionaryItem)
    extra = 2


@admin.register(Dictionary)
class DictionaryAdmin(admin.ModelAdmin):
    search_fields = ["name"]
    inlines = [DictionaryItemInline]


class QuestionInline(admin.StackedInline):
    model = Question
    form = translations_form(Question)
    extra = 1
    autocomplete_fields = ["dictionary"]


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    form = translations_form(Questionnaire)
    list_display = ["name", "kind", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name"]
    inlines = [QuestionInline]


@admin.register(PoolSurveySettings)
class PoolSurveySettingsAdmin(admin.ModelAdmin):
    list_display = [
        "pool",
        "satisfaction_enabled",
        "satisfaction_questionnaire",
        "satisfaction_sent_on",
        "disposition_questionnaire",
        "disposition_required",
        "operator_rating_questionnaire",
    ]
    list_select_related = [
        "pool",
        "satisfaction_questionnaire",
        "disposition_questionnaire",
        "operator_rating_questionnaire",
    ]


@admin.register(MailboxSurveySettings)
class MailboxSurveySettingsAdmin(admin.ModelAdmin):
    list_display = ["mailbox", "disposition_questionnaire"]
    list_select_related = ["mailbox", "disposition_questionnaire"]


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(admin.ModelAdmin):
    """Read-only: the link itself is never shown (it is a bearer credential)."""

    list_display = ["ticket", "questionnaire", "address", "created_at", "expires_at", "answered_at"]
    list_filter = ["questionnaire"]
    search_fields = ["ticket__number", "address"]
    list_select_related = ["ticket", "questionnaire"]
    exclude = ["nonce"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    fields = ["question", "number", "text", "choices"]
    readonly_fields = ["question", "number", "text", "choices"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind", "questionnaire", "agent", "pool", "department", "created_at"]
    list_filter = ["kind", "questionnaire", "pool", "department", "sector"]
    search_fields = ["ticket__number"]
    list_select_related = ["ticket", "questionnaire", "agent", "pool", "department"]
    readonly_fields = [
        "questionnaire",
        "kind",
        "ticket",
        "agent",
        "pool",
        "department",
        "sector",
        "contact",
        "invitation",
        "created_at",
    ]
    inlines = [AnswerInline]

    def has_add_permission(self, request):
        return False
