"""Sign-in throttling: per account from any address, per address against any account."""

import pytest
from django.test import Client
from django.urls import reverse

LIMIT = 10
THROTTLED = "Too many failed sign-ins"


def _sign_in(client, username, password, *, address="198.51.100.7", url="login"):
    return client.post(
        reverse(url), {"username": username, "password": password}, REMOTE_ADDR=address
    )


@pytest.fixture
def settings_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    return LIMIT


def test_an_account_is_locked_after_failures_from_many_addresses(client, agent, settings_limit):
    for attempt in range(LIMIT):
        _sign_in(Client(), "agent", "wrong", address=f"203.0.113.{attempt + 1}")
    response = _sign_in(client, "agent", "secret-pass-123", address="192.0.2.200")
    assert response.status_code == 429
    assert THROTTLED in response.text
    assert "_auth_user_id" not in client.session


def test_an_address_is_locked_after_failures_against_many_accounts(
    client, agent, other_agent, settings_limit
):
    for attempt in range(LIMIT):
        _sign_in(client, f"someone{attempt}", "wrong", address="198.51.100.7")
    response = _sign_in(client, "agent", "secret-pass-123", address="198.51.100.7")
    assert response.status_code == 429
    assert THROTTLED in response.text
    # Another address still signs in other accounts.
    other = Client()
    assert _sign_in(other, "otheragent", "secret-pass-123", address="192.0.2.9").status_code == 302


def test_a_few_failures_do_not_lock_anyone_out(client, agent, settings_limit):
    for _attempt in range(LIMIT - 1):
        _sign_in(client, "agent", "wrong")
    assert _sign_in(client, "agent", "secret-pass-123").status_code == 302


def test_an_unknown_account_is_answered_like_a_known_one(client, agent, settings_limit):
    answers = {}
    for username in ("agent", "nobody-here"):
        for attempt in range(LIMIT):
            _sign_in(Client(), username, "wrong", address=f"203.0.113.{attempt + 1}")
        response = _sign_in(Client(), username, "wrong", address="192.0.2.50")
        answers[username] = (response.status_code, THROTTLED in response.text)
    assert answers["agent"] == answers["nobody-here"] == (429, True)


def test_user_names_are_counted_whatever_their_case(client, agent, settings_limit):
    for attempt in range(LIMIT):
        name = "Agent" if attempt % 2 else " AGENT "
        _sign_in(Client(), name, "wrong", address=f"203.0.113.{attempt + 1}")
    assert _sign_in(client, "agent", "secret-pass-123", address="192.0.2.7").status_code == 429


def test_the_portal_sign_in_is_throttled_too(client, customer_user, settings_limit):
    for attempt in range(LIMIT):
        _sign_in(Client(), "carla", "wrong", address=f"203.0.113.{attempt + 1}", url="portal:login")
    response = _sign_in(client, "carla", "secret-pass-123", address="192.0.2.8", url="portal:login")
    assert response.status_code == 429
    assert THROTTLED in response.text
    assert "_auth_user_id" not in client.session


def test_failures_on_the_portal_count_against_the_agent_sign_in(client, agent, settings_limit):
    for attempt in range(LIMIT):
        _sign_in(Client(), "agent", "wrong", address=f"203.0.113.{attempt + 1}", url="portal:login")
    assert _sign_in(client, "agent", "secret-pass-123", address="192.0.2.9").status_code == 429


def test_a_lock_out_ends_on_time_even_while_someone_keeps_guessing(client, agent, settings_limit):
    import time_machine
    from django.utils import timezone

    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _attempt in range(LIMIT):
            _sign_in(Client(), "agent", "wrong", address="203.0.113.5")
        clock.shift(10 * 60)
        _sign_in(Client(), "agent", "wrong", address="203.0.113.5")  # still guessing
        assert (
            _sign_in(Client(), "agent", "secret-pass-123", address="192.0.2.1").status_code == 429
        )
        clock.shift(6 * 60)  # 16 minutes after the lock-out began
        assert _sign_in(client, "agent", "secret-pass-123", address="192.0.2.1").status_code == 302
