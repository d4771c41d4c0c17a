"""Portal sign-in links: random, stored hashed, single use, expiring, no address oracle."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from mailboxes.models import OutgoingEmail
from people.models import SignInLink
from people.services import SIGN_IN_LINKS_PER_HOUR, create_sign_in_link, use_sign_in_link

# Mail queued after commit is sent in-process: anything that would leave, leaves.
pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def _request(client, address):
    return client.post(reverse("portal:request_link"), {"email": address})


def _link_in_outbox() -> str:
    body = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.NOTIFICATION).body_text
    return next(line for line in body.splitlines() if "/portal/login/link/" in line).strip()


def test_a_known_address_gets_a_link_that_signs_in_once(
    client, customer, django_capture_on_commit_callbacks
):
    address = customer.primary_email
    with django_capture_on_commit_callbacks(execute=True):
        response = _request(client, address.upper())
    assert response.status_code == 302
    url = _link_in_outbox()
    assert url.startswith(settings.SITE_URL + "/portal/login/link/")
    path = urlsplit(url).path
    outgoing = OutgoingEmail.objects.get()
    assert outgoing.to == [address]
    assert outgoing.headers["Auto-Submitted"] == "auto-generated"
    # The token is not stored: only its hash.
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert not SignInLink.objects.filter(token_hash=token).exists()
    # Opening the link (a mail scanner) uses nothing up; the POST signs in.
    assert client.get(path).status_code == 200
    assert client.post(path).url == reverse("portal:home")
    assert client.get(reverse("portal:home")).status_code == 200
    customer.refresh_from_db()
    assert customer.user is not None and not customer.user.has_usable_password()
    # Second use: refused, and a new visitor is not signed in.
    client.logout()
    assert client.post(path).url == reverse("portal:request_link")
    assert client.get(reverse("portal:home")).status_code == 302


def test_unknown_and_known_addresses_get_the_same_answer(client, customer):
    known = _request(client, customer.primary_email)
    unknown = _request(client, "stranger@nowhere.test")
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url
    assert SignInLink.objects.count() == 1


def test_an_expired_link_does_not_sign_in(client, customer):
    link, token = create_sign_in_link(customer.primary_email)
    SignInLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    path = reverse("portal:link_sign_in", args=[token])
    assert client.get(path).status_code == 302
    assert client.post(path).url == reverse("portal:request_link")
    assert "_auth_user_id" not in client.session


def test_a_forged_token_does_not_sign_in(client, customer):
    create_sign_in_link(customer.primary_email)
    path = reverse("portal:link_sign_in", args=["A" * 43])
    assert client.post(path).url == reverse("portal:request_link")
    assert "_auth_user_id" not in client.session


def test_two_racing_uses_of_one_link_sign_in_once(customer):
    _link, token = create_sign_in_link(customer.primary_email)
    assert use_sign_in_link(token) is not None
    assert use_sign_in_link(token) is None


def test_agents_get_no_sign_in_link(agent):
    from people.services import find_or_create_contacts

    contact = find_or_create_contacts({"agent@helpdesk.test": "Agent"})["agent@helpdesk.test"]
    contact.user = agent
    contact.save(update_fields=["user"])
    assert create_sign_in_link("agent@helpdesk.test") is None


def test_link_requests_are_rate_limited_per_address(customer):
    for _ in range(SIGN_IN_LINKS_PER_HOUR):
        assert create_sign_in_link(customer.primary_email) is not None
    assert create_sign_in_link(customer.primary_email) is None


@pytest.mark.parametrize("next_url", ["https://evil.test/", "//evil.test/x"])
def test_the_password_sign_in_never_redirects_off_site(client, customer_user, next_url):
    response = client.post(
        reverse("portal:login"),
        {"username": "carla", "password": "secret-pass-123", "next": next_url},
    )
    assert response.status_code == 302
    assert response.url == reverse("portal:home")


def test_the_link_is_built_from_the_configured_site_url_not_the_host_header(
    client, customer, settings, django_capture_on_commit_callbacks
):
    settings.ALLOWED_HOSTS = ["*"]
    settings.SITE_URL = "https://help.example.test"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("portal:request_link"),
            {"email": customer.primary_email},
            headers={"host": "evil.test"},
        )
    assert _link_in_outbox().startswith("https://help.example.test/portal/login/link/")


def test_one_client_cannot_request_links_for_many_addresses(client, db):
    from portal.views import LINK_REQUESTS_PER_ADDRESS

    for n in range(LINK_REQUESTS_PER_ADDRESS):
        assert _request(client, f"someone{n}@example.test").status_code == 302
    response = _request(client, "one-more@example.test")
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()


def test_old_links_are_purged_and_fresh_ones_kept(customer):
    from people.services import purge_sign_in_links

    old, _token = create_sign_in_link(customer.primary_email)
    fresh, _token = create_sign_in_link(customer.primary_email)
    SignInLink.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=2))
    assert purge_sign_in_links() == 1
    assert purge_sign_in_links() == 0
    assert list(SignInLink.objects.all()) == [fresh]


def test_a_sign_in_link_is_written_with_its_mail_or_not_at_all(client, customer, monkeypatch):
    """No event in between: a link whose mail could not be queued is not left behind."""
    import portal.services

    def outbox_down(**kwargs):
        raise RuntimeError("outbox table locked")

    monkeypatch.setattr(portal.services, "queue_sign_in_email", outbox_down)
    client.raise_request_exception = True
    with pytest.raises(RuntimeError):
        _request(client, customer.primary_email)
    assert not SignInLink.objects.exists()
    monkeypatch.undo()
    _request(client, customer.primary_email)
    assert SignInLink.objects.count() == OutgoingEmail.objects.count() == 1
