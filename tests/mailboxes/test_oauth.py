"""OAuth2 mailboxes against real servers: connect through the pages, fetch with XOAUTH2 from
Dovecot (tokens checked at the local provider), refresh, revoke."""

import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.db import connection as db_connection
from django.urls import reverse
from django.utils import timezone

from mailboxes import ingest, oauth
from mailboxes.models import Mailbox, OAuthConnection, OutgoingEmail
from tests.mailboxes.conftest import make_mail
from tests.mailboxes.oauth_provider import CLIENT_ID, CLIENT_SECRET


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def account(oauth_dovecot):
    return oauth_dovecot.add_user()


@pytest.fixture
def oauth_mailbox(pool, oauth_dovecot, account):
    """An IMAP mailbox with no password: it can only sign in with a token."""
    return Mailbox.objects.create(
        name="Gmail-like",
        kind=Mailbox.Kind.IMAP,
        pool=pool,
        from_address=account,
        host=oauth_dovecot.host,
        port=oauth_dovecot.imap_port,
        security=Mailbox.Security.NONE,
        username=account,
    )


def connect(client, mailbox, provider, account) -> OAuthConnection:
    """Connect through the pages: Connect, the provider's page (approves at once), back."""
    provider.next_account = account
    response = client.post(reverse("mailbox_settings:connect", args=[mailbox.pk, "generic"]))
    assert response.status_code == 302
    authorize = response["Location"]
    assert authorize.startswith(f"{provider.url}/authorize?")
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"]
    assert "code_verifier" not in query  # the verifier never leaves the server
    back = requests.get(authorize, allow_redirects=False, timeout=5)
    assert back.status_code == 302, back.text
    callback = urlsplit(back.headers["Location"])
    assert callback.path == reverse("mailbox_settings:oauth_callback")
    response = client.get(f"{callback.path}?{callback.query}")
    assert response["Location"] == reverse("mailbox_settings:detail", args=[mailbox.pk])
    return OAuthConnection.objects.get(mailbox=mailbox)


def test_an_admin_connects_a_mailbox_and_its_mail_is_fetched_with_xoauth2(
    admin_client, oauth_provider, oauth_dovecot, oauth_mailbox, account, caplog
):
    refreshes = oauth_provider.refreshes()
    connection = connect(admin_client, oauth_mailbox, oauth_provider, account)

    assert connection.account == account
    assert connection.refresh_token and connection.access_token
    page = admin_client.get(reverse("mailbox_settings:detail", args=[oauth_mailbox.pk]))
    assert account in page.content.decode()
    assert connection.access_token not in page.content.decode()
    assert connection.refresh_token not in page.content.decode()
    with db_connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, refresh_token FROM mailboxes_oauthconnection WHERE id = %s",
            [connection.pk],
        )
        stored = cursor.fetchone()
    assert connection.access_token not in stored[0]
    assert connection.refresh_token not in stored[1]

    oauth_dovecot.append(account, make_mail(1), make_mail(2))
    caplog.set_level(logging.DEBUG)  # imapclient logs the whole conversation at DEBUG
    result = ingest.fetch_mailbox(oauth_mailbox.pk)
    assert result is not None and len(result.stored) == 2
    assert oauth_provider.refreshes() == refreshes
    assert "AUTHENTICATE" in caplog.text
    assert connection.access_token not in caplog.text


def test_a_token_near_its_expiry_is_refreshed_before_the_fetch(
    admin_client, oauth_provider, oauth_dovecot, oauth_mailbox, account
):
    connection = connect(admin_client, oauth_mailbox, oauth_provider, account)
    oauth_dovecot.append(account, make_mail(1))
    assert len(ingest.fetch_mailbox(oauth_mailbox.pk).stored) == 1
    refreshes = oauth_provider.refreshes()

    # Time passes: the provider no longer takes the token, and by our clock it expires soon.
    oauth_provider.expire_access_tokens()
    OAuthConnection.objects.filter(pk=connection.pk).update(
        expires_at=timezone.now() + timedelta(seconds=30)
    )
    oauth_dovecot.append(account, make_mail(2))
    assert len(ingest.fetch_mailbox(oauth_mailbox.pk).stored) == 1

    assert oauth_provider.refreshes() == refreshes + 1
    renewed = OAuthConnection.objects.get(pk=connection.pk)
    assert renewed.access_token != connection.access_token
    assert renewed.expires_at > timezone.now() + timedelta(minutes=30)
    assert renewed.refreshed_at is not None


def test_a_token_the_server_refuses_before_its_expiry_is_refreshed_and_tried_again(
    admin_client, oauth_provider, oauth_dovecot, oauth_mailbox, account
):
    connection = connect(admin_client, oauth_mailbox, oauth_provider, account)
    oauth_provider.expire_access_tokens()  # our clock still says an hour to go
    oauth_dovecot.append(account, make_mail(1))

    assert len(ingest.fetch_mailbox(oauth_mailbox.pk).stored) == 1
    assert OAuthConnection.objects.get(pk=connection.pk).access_token != connection.access_token


def test_a_revoked_grant_needs_attention_mails_the_admins_once_and_stops_the_fetch(
    admin_client, admin_user, oauth_provider, oauth_dovecot, oauth_mailbox, account
):
    connection = connect(admin_client, oauth_mailbox, oauth_provider, account)
    # The account's owner withdraws consent (RFC 7009 revocation of the grant).
    revoked = requests.post(
        f"{oauth_provider.url}/revoke",
        data={"token": connection.refresh_token, "client_id": CLIENT_ID},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=5,
    )
    assert revoked.status_code == 200
    oauth_dovecot.append(account, make_mail(1))

    assert ingest.fetch_mailbox(oauth_mailbox.pk) is None
    assert ingest.fetch_mailbox(oauth_mailbox.pk) is None  # tried again: no second mail

    oauth_mailbox.refresh_from_db()
    assert "refused to renew" in oauth_mailbox.attention
    assert oauth_mailbox.attention_at is not None
    assert "ReconnectNeeded" in oauth_mailbox.last_error
    assert OAuthConnection.objects.get(pk=connection.pk).failed_at is not None
    to_admins = OutgoingEmail.objects.filter(to=[admin_user.email])
    assert to_admins.count() == 1
    assert oauth_mailbox.name in to_admins.get().subject
    assert connection.refresh_token not in to_admins.get().body_text
    # Not dispatched again, however due it is: fetching has stopped until reconnected.
    Mailbox.objects.filter(pk=oauth_mailbox.pk).update(next_fetch_at=timezone.now())
    assert oauth_mailbox.pk not in ingest.claim_due_mailboxes()
    page = admin_client.get(reverse("mailbox_settings:list")).content.decode()
    assert "Needs attention" in page

    # Reconnecting clears the note and the mailbox is fetched again at once.
    connect(admin_client, oauth_mailbox, oauth_provider, account)
    oauth_mailbox.refresh_from_db()
    assert oauth_mailbox.attention == ""
    assert oauth_mailbox.pk in ingest.claim_due_mailboxes()
    assert len(ingest.fetch_mailbox(oauth_mailbox.pk).stored) == 1


def test_pop3_signs_in_with_xoauth2(
    admin_client, oauth_provider, oauth_dovecot, oauth_mailbox, account
):
    Mailbox.objects.filter(pk=oauth_mailbox.pk).update(
        kind=Mailbox.Kind.POP3, port=oauth_dovecot.pop3_port
    )
    connect(admin_client, oauth_mailbox, oauth_provider, account)
    oauth_dovecot.append(account, make_mail(1))

    assert len(ingest.fetch_mailbox(oauth_mailbox.pk).stored) == 1


def test_disconnect_revokes_the_grant_and_forgets_the_tokens(
    admin_client, oauth_provider, oauth_mailbox, account, oauth_dovecot
):
    connection = connect(admin_client, oauth_mailbox, oauth_provider, account)
    response = admin_client.post(reverse("mailbox_settings:disconnect", args=[oauth_mailbox.pk]))

    assert response.status_code == 302
    assert not OAuthConnection.objects.filter(mailbox=oauth_mailbox).exists()
    assert oauth_provider.active_grant(connection.access_token) is None


def test_a_refused_code_changes_nothing(admin_client, oauth_provider, oauth_mailbox):
    oauth_provider.next_account = "someone@mail.test"
    response = admin_client.post(
        reverse("mailbox_settings:connect", args=[oauth_mailbox.pk, "generic"])
    )
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]

    response = admin_client.get(
        reverse("mailbox_settings:oauth_callback"), {"state": state, "code": "made-up"}
    )

    assert response.status_code == 302
    assert not OAuthConnection.objects.exists()


def test_providers_without_a_client_id_offer_no_button(settings):
    settings.OAUTH_PROVIDERS = {"google": {"client_id": ""}, "microsoft": {"client_id": "abc"}}
    providers = oauth.configured_providers()
    assert [found.key for found in providers] == ["microsoft"]
    assert providers[0].token_url == ("https://login.microsoftonline.com/common/oauth2/v2.0/token")
