"""One form class for every questionnaire: a field per question, by its kind."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from surveys.models import DictionaryItem, Question, Questionnaire

YES_NO = [(1, _("Yes")), (0, _("No"))]


class _TranslatedChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.translated("label")


class _TranslatedMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.translated("label")


def _field(question: Question) -> forms.Field:
    options: dict[str, Any] = {
        "label": question.translated("text"),
        "help_text": question.translated("help_text"),
        "required": question.required,
    }
    kind = question.kind
    if kind == Question.Kind.RATING:
        return forms.TypedChoiceField(
            choices=[(n, str(n)) for n in range(1, 6)],
            coerce=int,
            widget=forms.RadioSelect(attrs={"class": "form-check-inline"}),
            **options,
        )
    if kind == Question.Kind.SCORE:
        return forms.TypedChoiceField(
            choices=[(n, str(n)) for n in range(11)],
            coerce=int,
            widget=forms.RadioSelect(attrs={"class": "form-check-inline"}),
            **options,
        )
    if kind == Question.Kind.YES_NO:
        return forms.TypedChoiceField(
            choices=YES_NO, coerce=int, widget=forms.RadioSelect, **options
        )
    if kind in Question.CHOICE_KINDS:
        items = DictionaryItem.objects.filter(dictionary=question.dictionary, active=True)
        if kind == Question.Kind.SINGLE_CHOICE:
            return _TranslatedChoiceField(
                queryset=items, widget=forms.RadioSelect, empty_label=None, **options
            )
        return _TranslatedMultipleChoiceField(
            queryset=items, widget=forms.CheckboxSelectMultiple, **options
        )
    return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, **options)


class QuestionnaireForm(forms.Form):
    """Fields named ``q<question id>``; ``answers()`` pairs each question with its value."""

    def __init__(self, questionnaire: Questionnaire, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.questionnaire = questionnaire
        self.questions = list(questionnaire.questions.select_related("dictionary"))
        for question in self.questions:
            self.fields[f"q{question.pk}"] = _field(question)

    def answers(self) -> list[tuple[Question, Any]]:
        return [(q, self.cleaned_data.get(f"q{q.pk}")) for q in self.questions]
