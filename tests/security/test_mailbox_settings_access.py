"""Mailbox settings and OAuth connect: admins only, state bound to the admin's session,
tokens and passwords never shown back."""

import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mailboxes import oauth
from mailboxes.models import Mailbox, OAuthConnection
from people.models import Role
from people.services import create_agent
from tests.mailboxes.smtp_sink import free_port

ACCESS = "access-token-that-must-never-show"
REFRESH = "refresh-token-that-must-never-show"
SMTP_SECRET = "smtp-secret-that-must-never-show"
IMAP_SECRET = "imap-secret-that-must-never-show"


@pytest.fixture
def provider_settings(settings):
    settings.SITE_URL = "http://testserver"
    settings.OAUTH_PROVIDERS = {
        "generic": {
            "client_id": "client",
            "client_secret": "client-secret-never-shown",
            "authorize_url": "https://id.example.test/authorize",
            "token_url": "https://id.example.test/token",
        }
    }


@pytest.fixture
def mailbox(pool):
    mailbox = Mailbox.objects.create(
        name="Support",
        pool=pool,
        from_address="support@acme.test",
        kind=Mailbox.Kind.IMAP,
        host="imap.acme.test",
        username="support@acme.test",
        password=IMAP_SECRET,
        smtp_host="smtp.acme.test",
        smtp_password=SMTP_SECRET,
    )
    OAuthConnection.objects.create(
        mailbox=mailbox,
        provider="generic",
        account="support@acme.test",
        access_token=ACCESS,
        refresh_token=REFRESH,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    return mailbox


def _routes(mailbox):
    return [
        ("get", reverse("mailbox_settings:list")),
        ("get", reverse("mailbox_settings:detail", args=[mailbox.pk])),
        ("post", reverse("mailbox_settings:connect", args=[mailbox.pk, "generic"])),
        ("post", reverse("mailbox_settings:disconnect", args=[mailbox.pk])),
        ("post", reverse("mailbox_settings:clear_attention", args=[mailbox.pk])),
        ("get", reverse("mailbox_settings:oauth_callback") + "?state=x&code=y"),
    ]


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_only_admins_reach_the_mailbox_settings(client, mailbox, provider_settings, role):
    user = create_agent(username="someone", password="pw-123456789", email="s@x.test", role=role)
    client.force_login(user)
    for method, url in _routes(mailbox):
        assert getattr(client, method)(url).status_code == 404, url
    assert OAuthConnection.objects.filter(mailbox=mailbox).exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, mailbox, provider_settings):
    for method, url in _routes(mailbox):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))


def test_connect_is_a_post(client, admin_user, mailbox, provider_settings):
    client.force_login(admin_user)
    url = reverse("mailbox_settings:connect", args=[mailbox.pk, "generic"])
    assert client.get(url).status_code == 405


def _start(client, mailbox) -> str:
    response = client.post(reverse("mailbox_settings:connect", args=[mailbox.pk, "generic"]))
    assert response["Location"].startswith("https://id.example.test/authorize?")
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


def test_a_callback_whose_state_does_not_match_is_refused(
    client, admin_user, mailbox, provider_settings
):
    OAuthConnection.objects.all().delete()
    client.force_login(admin_user)
    state = _start(client, mailbox)

    response = client.get(
        reverse("mailbox_settings:oauth_callback"), {"state": state + "x", "code": "c"}
    )

    assert response["Location"] == reverse("mailbox_settings:list")
    # The pending connect is spent: the right state afterwards finds nothing either.
    response = client.get(reverse("mailbox_settings:oauth_callback"), {"state": state, "code": "c"})
    assert response["Location"] == reverse("mailbox_settings:list")
    assert not OAuthConnection.objects.exists()


def test_a_state_from_another_admins_session_is_refused(
    client, admin_user, mailbox, provider_settings
):
    OAuthConnection.objects.all().delete()
    client.force_login(admin_user)
    state = _start(client, mailbox)
    other = create_agent(
        username="admin2", password="pw-123456789", email="a2@x.test", role=Role.ADMIN
    )
    intruder = Client()
    intruder.force_login(other)

    response = intruder.get(
        reverse("mailbox_settings:oauth_callback"), {"state": state, "code": "c"}
    )

    assert response["Location"] == reverse("mailbox_settings:list")
    assert not OAuthConnection.objects.exists()


def test_an_unknown_provider_is_not_found(client, admin_user, mailbox, provider_settings):
    client.force_login(admin_user)
    url = reverse("mailbox_settings:connect", args=[mailbox.pk, "google"])  # no client id
    assert client.post(url).status_code == 404


def test_tokens_and_passwords_are_never_shown(client, admin_user, mailbox, provider_settings):
    client.force_login(admin_user)
    pages = [
        reverse("mailbox_settings:list"),
        reverse("mailbox_settings:detail", args=[mailbox.pk]),
        reverse("admin:mailboxes_mailbox_change", args=[mailbox.pk]),
        reverse("admin:mailboxes_mailbox_changelist"),
    ]
    for url in pages:
        body = client.get(url).content.decode()
        for secret in (ACCESS, REFRESH, SMTP_SECRET, IMAP_SECRET, "client-secret-never-shown"):
            assert secret not in body, url


def test_a_failed_refresh_logs_no_token(mailbox, provider_settings, settings, caplog):
    """The refresh goes to a port nobody answers; whatever is logged carries no token."""
    settings.OAUTH_PROVIDERS["generic"]["token_url"] = f"http://127.0.0.1:{free_port()}/token"
    OAuthConnection.objects.filter(mailbox=mailbox).update(expires_at=timezone.now())
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Exception):  # noqa: B017 (unreachable provider: any transport error)
        oauth.access_token(mailbox)
    for secret in (ACCESS, REFRESH, "client-secret-never-shown"):
        assert secret not in caplog.text
