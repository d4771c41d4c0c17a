"""The admin's autocompletes name people by their full name, the username beside it."""

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def test_the_absence_admin_finds_agents_by_name_and_shows_the_full_name(client, agent):
    superuser = get_user_model().objects.create_superuser("root", "root@helpdesk.test", "x")
    agent.first_name, agent.last_name = "Ana", "Souza"
    agent.save()
    get_user_model().objects.create_user("nameless", "nameless@helpdesk.test")
    client.force_login(superuser)

    def found(term):
        response = client.get(
            "/admin/autocomplete/",
            {"app_label": "people", "model_name": "absence", "field_name": "agent", "term": term},
        )
        assert response.status_code == 200
        return {row["text"] for row in response.json()["results"]}

    assert found("Souza") == {"Ana Souza (agent)"}
    # Someone without a name is still shown, by username.
    assert "nameless" in found("nameless")
