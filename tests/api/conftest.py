"""Tokens and clients for the API tests: real HTTP requests through Django's test client."""

import pytest
from rest_framework.test import APIClient

from api.services import create_token
from tickets import services


@pytest.fixture
def make_token():
    """``make_token(owner, scope="write", pools=(), actor=owner)`` -> the secret."""

    def make(owner, *, scope="write", pools=(), actor=None, expires_at=None, name="test"):
        _token, secret = create_token(
            owner=owner, name=name, scope=scope, pools=pools, actor=actor or owner,
            expires_at=expires_at,
        )  # fmt: skip
        return secret

    return make


@pytest.fixture
def api_client():
    """``api_client(secret)`` -> an APIClient sending ``Authorization: Bearer <secret>``."""

    def make(secret=None):
        client = APIClient()
        if secret:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return make


@pytest.fixture
def agent_api(agent, make_token, api_client):
    return api_client(make_token(agent))


@pytest.fixture
def ticket(pool, customer):
    return services.create_ticket(subject="Printer on fire", pool=pool, requester=customer)


@pytest.fixture
def foreign_ticket(other_pool, other_customer):
    return services.create_ticket(
        subject="Secret hardware order", pool=other_pool, requester=other_customer
    )
