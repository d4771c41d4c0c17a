"""Client-chosen filters and sort keys come from an allowlist (GHSA-mxcg-7m22-x9pj)."""

from django.urls import reverse

from tests.factories import TicketFactory


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
