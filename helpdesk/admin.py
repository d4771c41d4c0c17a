"""The admin site: no URL, search or sort of any admin may reach a secret field.

(And its autocompletes name people as people: "Ana Souza (ana)", not a bare username.)

Django's admin lets `?field__lookup=value` through for local fields, so a staff user who
may only view a list could test `password__startswith=` one character at a time. Every
ModelAdmin registered here (ours and third parties') gets `SecretLookupGuard`, which
refuses such lookups (HTTP 400) and fails the system checks for a configured search,
filter, ordering or column that reaches a secret.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP

from helpdesk.crypto import is_secret_field


def reaches_secret(model, path: str) -> bool:
    """Whether a lookup or ordering path (`owner__password__startswith`) touches a secret."""
    for part in path.lstrip("-^=@").split(LOOKUP_SEP):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False  # a lookup or transform name: the field path ended
        if is_secret_field(field):
            return True
        if not field.is_relation or field.related_model is None:
            return False
        model = field.related_model
    return False


class SecretLookupGuard(admin.ModelAdmin):
    def lookup_allowed(self, lookup, value, request=None):
        if reaches_secret(self.model, lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def check(self, **kwargs):
        return [*super().check(**kwargs), *self._check_secrets_unreachable()]

    def _check_secrets_unreachable(self):
        configured = [
            *self.search_fields,
            *(self.ordering or ()),
            *(item for item in self.list_display if isinstance(item, str)),
            *(
                item if isinstance(item, str) else item[0]
                for item in self.list_filter
                if isinstance(item, (str, tuple, list))
            ),
        ]
        return [
            checks.Error(
                f"{type(self).__name__} searches, filters, sorts or lists {path!r}, a secret.",
                obj=type(self),
                id="helpdesk.E001",
            )
            for path in configured
            if reaches_secret(self.model, path)
        ]


class PeopleByNameAutocomplete(AutocompleteJsonView):
    """Users are shown by full name with the username beside it (two Anas are told apart)."""

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        full_name = obj.get_full_name() if hasattr(obj, "get_full_name") else ""
        if full_name:
            result["text"] = f"{full_name} ({obj.get_username()})"
        return result


class HelpdeskAdminSite(admin.AdminSite):
    def autocomplete_view(self, request):
        return PeopleByNameAutocomplete.as_view(admin_site=self)(request)

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, SecretLookupGuard):
            admin_class = type(
                admin_class.__name__,
                (SecretLookupGuard, admin_class),
                {"__module__": admin_class.__module__},
            )
        super().register(model_or_iterable, admin_class, **options)


class HelpdeskAdminConfig(AdminConfig):
    default_site = "helpdesk.admin.HelpdeskAdminSite"
