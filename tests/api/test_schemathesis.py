"""Schemathesis against the served schema, on loopback: generated requests for every
operation find no server error and no response that breaks the schema.

Schemathesis' pytest plugin does not run on this pytest; its Python API does: one test per
operation (listed from the generated schema), each drawing cases from the schema the live
server serves and sending them over HTTP.
"""

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.services import create_token
from people.models import Role
from people.services import create_agent
from phone.models import Call
from tests.factories import ContactFactory, PoolFactory, TicketFactory
from tickets.models import PoolMembership

pytestmark = pytest.mark.django_db(transaction=True)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
EXAMPLES = 12


def _operations() -> list[tuple[str, str]]:
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return sorted((path, method.upper()) for path, methods in paths.items() for method in methods)


@pytest.fixture
def token_headers(settings):
    """A write token of an agent in one of two pools, with a few tickets and calls to find."""
    settings.API_RATE_LIMIT = "100000/minute"
    pool, other = PoolFactory(name="Billing"), PoolFactory(name="Hardware")
    agent = create_agent(username="fuzz", password=None, role=Role.AGENT, first_name="Fuzz")
    PoolMembership.objects.create(pool=pool, user=agent)
    contact = ContactFactory()
    for where in (pool, pool, other):
        ticket = TicketFactory(pool=where, requester=contact)
        Call.objects.create(
            pool=where, from_number="+5511987654321", customer_number="+5511987654321",
            contact=contact, ticket=ticket,
        )  # fmt: skip
    _token, secret = create_token(owner=agent, name="fuzz", scope="write", actor=agent)
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize(("path", "method"), _operations())
def test_no_server_error_and_no_response_breaks_the_schema(
    live_server, token_headers, path, method
):
    served = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/")
    operation = served[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case):
        case.call_and_validate(headers=token_headers, checks=CHECKS)

    run()
