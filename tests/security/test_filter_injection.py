"""Client-chosen filters and sort keys come from an allowlist (GHSA-mxcg-7m22-x9pj)."""

import contextlib
import importlib
from pathlib import Path

from django.urls import reverse

from tests.factories import TicketFactory

ROOT = Path(__file__).resolve().parents[2]


def test_unknown_filter_keys_are_ignored(client, supervisor, pool):
    TicketFactory(pool=pool, subject="Visible")
    client.force_login(supervisor)
    response = client.get(
        reverse("tickets:queue"),
        {"tab": "all", "assignee__password__startswith": "pbkdf2", "pool__name__startswith": "Z"},
    )
    assert response.status_code == 200
    assert "Visible" in response.text


def test_sorting_by_a_field_outside_the_allowlist_is_rejected(client, supervisor, pool):
    TicketFactory(pool=pool, subject="Visible")
    client.force_login(supervisor)
    response = client.get(
        reverse("tickets:queue"), {"tab": "all", "ordering": "assignee__password"}
    )
    assert response.status_code == 200
    assert "ordering" in response.context["filter"].errors
    assert "Select a valid choice" in response.text


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_no_list_filter_or_sort_key_reaches_a_secret():
    """Every FilterSet of every list view: its filters and sort keys stay off secret fields."""
    import django_filters
    from django.apps import apps

    from helpdesk.admin import reaches_secret

    for config in apps.get_app_configs():
        if config.path.startswith(str(ROOT)):
            with contextlib.suppress(ModuleNotFoundError):
                importlib.import_module(f"{config.name}.filters")
    filtersets = [f for f in _subclasses(django_filters.FilterSet) if f._meta.model]
    assert {f.__module__ for f in filtersets} >= {"tickets.filters", "sla.filters"}
    for filterset in filtersets:
        model = filterset._meta.model
        for name, declared in filterset.base_filters.items():
            paths = [declared.field_name]
            if isinstance(declared, django_filters.OrderingFilter):
                paths = list(declared.param_map.values())
            for path in paths:
                assert not reaches_secret(model, path), (filterset, name, path)
