from typing import cast

from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from knowledge.models import Article, Category
from tickets.models import Pool


class SettingsForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = ["category", "pool", "default_language", "visibility"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        category = cast(forms.ModelChoiceField, self.fields["category"])
        pool = cast(forms.ModelChoiceField, self.fields["pool"])
        category.queryset = Category.objects.all()
        pool.queryset = Pool.objects.filter(active=True)


def _body_widget() -> forms.Textarea:
    return forms.Textarea(
        attrs={
            "rows": 16,
            "class": "font-monospace",
            "hx-post": reverse("kb:preview"),
            "hx-trigger": "input changed delay:600ms, load",
            "hx-target": "#article-preview",
            "hx-swap": "innerHTML",
        }
    )


class VersionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text"),
        help_text=_("Markdown: **bold**, *italic*, # headings, - lists, [links](https://…)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].widget = _body_widget()


class CreateForm(VersionForm):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    publish = forms.BooleanField(label=_("Publish now"), required=False)
    field_order = ["language", "title", "body", "publish"]


class ImageForm(forms.Form):
    image = forms.ImageField(label=_("Image"))
