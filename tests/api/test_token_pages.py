"""The tokens page: agents make and revoke their own, admins everyone's; secret shown once."""

from django.urls import reverse

from api.models import ApiToken, ServiceAccount
from helpdesk.tokens import token_digest


def _create(client, **data):
    return client.post(reverse("api_tokens:list"), {"scope": "read", **data})


def test_an_agent_makes_a_token_and_sees_the_secret_once(client, agent, pool):
    client.force_login(agent)
    response = _create(client, name="My script", owner=agent.pk, pools=[pool.pk])
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get()
    secret = response.context["secret"]
    assert token.digest == token_digest(secret) and token.owner == agent
    assert list(token.pools.all()) == [pool]
    assert secret in response.text
    again = client.get(reverse("api_tokens:list"))
    assert secret not in again.text and "My script" in again.text


def test_an_agent_cannot_choose_another_owner_or_a_foreign_pool(
    client, agent, other_agent, other_pool
):
    client.force_login(agent)
    assert _create(client, name="x", owner=other_agent.pk).status_code == 400
    assert _create(client, name="x", owner=agent.pk, pools=[other_pool.pk]).status_code == 400
    assert not ApiToken.objects.exists()


def test_an_agent_revokes_their_token(client, agent):
    client.force_login(agent)
    _create(client, name="old", owner=agent.pk)
    token = ApiToken.objects.get()
    response = client.post(reverse("api_tokens:revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_an_admin_makes_a_service_account_and_a_token_for_it(client, admin_user, pool):
    client.force_login(admin_user)
    response = client.post(
        reverse("api_tokens:service_account"), {"account_name": "Chatbot", "description": "web"}
    )
    assert response.status_code == 302
    bot = ServiceAccount.objects.get().user
    assert bot.get_full_name() == "Chatbot" and not bot.has_usable_password()
    response = _create(client, name="chat widget", owner=bot.pk, scope="write", pools=[pool.pk])
    assert response.status_code == 201
    assert ApiToken.objects.get().owner == bot


def test_agents_cannot_make_service_accounts(client, agent):
    client.force_login(agent)
    response = client.post(reverse("api_tokens:service_account"), {"account_name": "Evil"})
    assert response.status_code == 404
    assert not ServiceAccount.objects.exists()


def test_the_profile_links_to_the_tokens_page(client, agent):
    client.force_login(agent)
    page = client.get(reverse("people:profile"))
    assert reverse("api_tokens:list") in page.text


def test_customers_do_not_reach_the_tokens_page(customer_client):
    assert customer_client.get(reverse("api_tokens:list")).status_code == 404
