"""App sessions (contact tokens) are revoked only by whom they concern: a contact reaches
only their own sessions; agents see and sign out only the sessions on channels of their
pools (supervisors every pool's); another pool's agent learns nothing, and a refusal looks
like "not found". A revoked token is refused at its next request: no cache serves it."""

import pytest
from django.core import signing
from django.urls import reverse
from rest_framework.test import APIClient

from api.contact_access import SALT, issue_app_session
from api.models import ContactToken
from chat.models import ChatChannel
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def maria_session(widget_channel):
    contact = ContactFactory(name="Maria Silva")
    return issue_app_session(contact, widget_channel, device="Pixel 8")


def _app(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Contact {token}")
    return client


def test_a_contact_cannot_sign_out_another_contacts_session(maria_session, widget_channel):
    maria, maria_token = maria_session
    _olaf, olaf_token = issue_app_session(ContactFactory(name="Olaf"), widget_channel)

    answer = _app(olaf_token).post(
        "/api/v1/contact-tokens/sign-out/", {"session": str(maria.key)}, format="json"
    )

    assert answer.status_code == 404
    maria.refresh_from_db()
    assert maria.revoked_at is None
    assert _app(maria_token).get("/api/v1/conversations/").status_code == 200


def test_a_contact_never_lists_another_contacts_sessions(maria_session, widget_channel):
    _olaf, olaf_token = issue_app_session(ContactFactory(name="Olaf"), widget_channel)

    listed = _app(olaf_token).get("/api/v1/contact-tokens/sessions/").json()

    assert [s["device"] for s in listed] == [""]


def test_a_token_signed_for_another_session_of_another_contact_is_refused(
    maria_session, widget_channel
):
    maria, _token = maria_session
    olaf = ContactFactory(name="Olaf")
    # A token naming Olaf with Maria's session key (only SECRET_KEY could sign it; belt and
    # braces all the same): the row must belong to the contact the token names.
    mixed = signing.dumps(
        {"contact": olaf.pk, "channel": str(widget_channel.public_key), "session": str(maria.key)},
        salt=SALT,
    )

    assert _app(mixed).get("/api/v1/conversations/").status_code == 401


def test_a_token_from_before_sessions_is_refused(maria_session, widget_channel):
    maria, _token = maria_session
    old = signing.dumps(
        {"contact": maria.contact_id, "channel": str(widget_channel.public_key)}, salt=SALT
    )

    assert _app(old).get("/api/v1/conversations/").status_code == 401


def test_a_revoked_token_is_refused_by_every_later_request(client, agent, maria_session):
    session, token = maria_session
    app = _app(token)
    assert app.get("/api/v1/conversations/").status_code == 200  # warm whatever could cache
    client.force_login(agent)

    client.post(reverse("app_sessions:revoke", args=[session.contact_id, session.key]))

    for _ in range(3):
        assert app.get("/api/v1/conversations/").status_code == 401


def test_an_agent_of_another_pool_cannot_see_or_revoke(client, other_agent, maria_session):
    session, token = maria_session
    client.force_login(other_agent)
    contact_id = session.contact_id

    page = client.get(reverse("tickets:contact", args=[contact_id]))
    listed = client.get(reverse("app_sessions:list", args=[contact_id]))
    one = client.post(reverse("app_sessions:revoke", args=[contact_id, session.key]))
    every = client.post(reverse("app_sessions:revoke_all", args=[contact_id]))

    assert "Pixel 8" not in page.content.decode()
    assert "app-sessions" not in page.content.decode()
    assert (listed.status_code, one.status_code, every.status_code) == (404, 404, 404)
    session.refresh_from_db()
    assert session.revoked_at is None
    assert _app(token).get("/api/v1/conversations/").status_code == 200


def test_revoke_all_leaves_the_sessions_of_pools_the_agent_does_not_work_in(
    client, agent, other_pool, maria_session
):
    session, _token = maria_session
    elsewhere_channel = ChatChannel.objects.create(
        name="Hardware site", kind=ChatChannel.Kind.WIDGET, pool=other_pool
    )
    elsewhere, _ = issue_app_session(session.contact, elsewhere_channel)
    client.force_login(agent)

    client.post(reverse("app_sessions:revoke_all", args=[session.contact_id]))

    session.refresh_from_db()
    elsewhere.refresh_from_db()
    assert session.revoked_at is not None and elsewhere.revoked_at is None


def test_a_session_of_another_contact_cannot_be_revoked_through_this_contacts_page(
    client, agent, widget_channel, maria_session
):
    session, _token = maria_session
    olaf_session, _ = issue_app_session(ContactFactory(name="Olaf"), widget_channel)
    client.force_login(agent)

    answer = client.post(
        reverse("app_sessions:revoke", args=[session.contact_id, olaf_session.key])
    )

    assert answer.status_code == 404
    olaf_session.refresh_from_db()
    assert olaf_session.revoked_at is None


@pytest.mark.parametrize("name", ["revoke", "revoke_all"])
def test_revoking_is_a_post(client, agent, maria_session, name):
    session, _token = maria_session
    client.force_login(agent)
    args = [session.contact_id, session.key] if name == "revoke" else [session.contact_id]

    assert client.get(reverse(f"app_sessions:{name}", args=args)).status_code == 405
    assert ContactToken.objects.filter(revoked_at__isnull=False).count() == 0


def test_customers_and_strangers_reach_no_session_page(client, customer_user, maria_session):
    session, _token = maria_session
    url = reverse("app_sessions:list", args=[session.contact_id])

    assert client.get(url).status_code == 302  # to sign in
    client.force_login(customer_user)
    assert client.get(url).status_code == 404
