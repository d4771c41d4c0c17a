"""Tokens: shown once, stored hashed, scoped, revocable, expiring; last use recorded."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken
from api.services import create_service_account, create_token, revoke_token
from helpdesk.tokens import token_digest
from tickets.models import ActivityLog


def test_the_secret_is_stored_only_as_its_digest(agent):
    token, secret = create_token(owner=agent, name="bot", scope="read", actor=agent)
    assert secret.startswith("hd_")
    token.refresh_from_db()
    assert token.digest == token_digest(secret)
    stored = [str(value) for value in ApiToken.objects.values_list(flat=False).get(pk=token.pk)]
    assert secret not in stored


def test_a_request_with_a_token_records_its_last_use(agent, make_token, api_client):
    secret = make_token(agent)
    response = api_client(secret).get(reverse("api:me"), REMOTE_ADDR="127.0.0.9")
    assert response.status_code == 200
    assert response.json()["owner"]["username"] == "agent"
    token = ApiToken.objects.get()
    assert token.last_used_address == "127.0.0.9"
    assert timezone.now() - token.last_used_at < timedelta(seconds=10)


def test_no_token_or_a_wrong_one_is_401_with_a_bearer_challenge(agent, api_client, make_token):
    make_token(agent)
    for client in (api_client(), api_client("hd_not-a-real-token-at-all")):
        response = client.get(reverse("api:tickets"))
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["detail"]


def test_a_revoked_token_stops_working_at_once(agent, make_token, api_client):
    secret = make_token(agent)
    client = api_client(secret)
    assert client.get(reverse("api:me")).status_code == 200
    revoke_token(ApiToken.objects.get(), actor=agent)
    response = client.get(reverse("api:me"))
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_an_expired_token_is_refused(agent, make_token, api_client):
    secret = make_token(agent, expires_at=timezone.now() + timedelta(minutes=5))
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_client(secret).get(reverse("api:me")).status_code == 401


def test_a_disabled_owner_disables_the_token(agent, make_token, api_client):
    secret = make_token(agent)
    agent.is_active = False
    agent.save()
    assert api_client(secret).get(reverse("api:me")).status_code == 401


def test_a_read_token_cannot_write(agent, make_token, api_client, ticket):
    client = api_client(make_token(agent, scope="read"))
    assert client.get(reverse("api:ticket", args=[ticket.number])).status_code == 200
    response = client.post(reverse("api:note", args=[ticket.number]), {"body": "hi"})
    assert response.status_code == 403
    assert response.json() == {"detail": "This token may only read.", "code": "permission_denied"}
    assert not ticket.messages.exists()


def test_token_pools_are_never_wider_than_the_owners(agent, other_pool):
    with pytest.raises(ValidationError):
        create_token(owner=agent, name="x", scope="read", pools=[other_pool], actor=agent)


def test_an_agent_cannot_make_a_token_for_someone_else(agent, other_agent):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        create_token(owner=other_agent, name="x", scope="write", actor=agent)


def test_a_bot_acts_under_its_own_name_in_the_activity_log(
    admin_user, pool, ticket, make_token, api_client
):
    account = create_service_account(name="Chatbot", actor=admin_user)
    assert not account.user.has_usable_password()
    secret = make_token(account.user, pools=[pool], actor=admin_user)
    response = api_client(secret).post(
        reverse("api:note", args=[ticket.number]), {"body": "Customer asked twice."}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["author_user"]["name"] == "Chatbot"
    row = ActivityLog.objects.get(ticket=ticket, action=ActivityLog.Action.NOTE)
    assert row.actor == account.user
    assert row.actor.get_full_name() == "Chatbot"


def test_a_bot_cannot_sign_in(admin_user, client):
    account = create_service_account(name="Phone system", actor=admin_user)
    response = client.post(
        reverse("login"), {"username": account.user.username, "password": "anything-at-all"}
    )
    assert response.status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in client.session


def test_a_bot_is_never_routed_work(admin_user, pool, customer):
    account = create_service_account(name="Chatbot", actor=admin_user)
    from tests.factories import open_ticket

    ticket = open_ticket(pool, text="anything")
    ticket.refresh_from_db()
    assert ticket.assignee_id != account.user.pk


def test_the_token_brings_its_pools_and_its_owners_permissions_as_django_reads_them(
    supervisor, pool, other_pool
):
    """On PostgreSQL the token's query brings both (one round trip), elsewhere two more
    queries do: the same pools, and the permissions ModelBackend finds, own and groups'."""
    from django.contrib.auth.models import Group, Permission

    from api.services import authenticate_token, token_pool_ids

    group = Group.objects.create(name="Extra")
    group.permissions.add(Permission.objects.get(codename="delete_contact"))
    supervisor.groups.add(group)
    supervisor.user_permissions.add(Permission.objects.get(codename="view_contact"))
    token, secret = create_token(
        owner=supervisor, name="t", scope="read", pools=[pool, other_pool], actor=supervisor
    )
    found = authenticate_token(secret, address="127.0.0.1")
    assert found is not None and found.pk == token.pk
    assert sorted(token_pool_ids(found)) == sorted([pool.pk, other_pool.pk])
    fresh = type(supervisor).objects.get(pk=supervisor.pk)
    expected = fresh.get_all_permissions()  # ModelBackend, its own two queries
    assert {"people.delete_contact", "people.view_contact"} <= expected
    assert found.owner._perm_cache == expected
    # Withdrawn: the next request knows.
    supervisor.groups.remove(group)
    again = authenticate_token(secret, address="127.0.0.1")
    assert again is not None and "people.delete_contact" not in again.owner._perm_cache
    _unlimited, unlimited_secret = create_token(
        owner=supervisor, name="u", scope="read", actor=supervisor
    )
    found = authenticate_token(unlimited_secret, address="127.0.0.1")
    assert found is not None and token_pool_ids(found) == []
