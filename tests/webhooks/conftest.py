import pytest

from tests.sla.conftest import policy, sao_paulo  # noqa: F401 (fixtures for the SLA events)
from tests.webhooks.receiver import Receiver, running_receiver
from webhooks import services


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    # The receivers of these tests listen on loopback, which production refuses (SSRF).
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.WEBHOOK_FIRST_RETRY_SECONDS = 10
    settings.WEBHOOK_TIMEOUT_SECONDS = 2


@pytest.fixture
def receiver():
    with running_receiver(Receiver()) as running:
        yield running


@pytest.fixture
def make_endpoint(admin_user):
    def make(receiver, *, pools, events=("ticket.created",), name="CRM", active=True):
        endpoint, secret = services.create_endpoint(
            name=name, url=receiver.url, events=list(events), pools=pools, active=active,
            actor=admin_user,
        )  # fmt: skip
        receiver.secret = secret
        return endpoint

    return make
