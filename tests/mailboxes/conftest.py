"""A real Dovecot for the whole session, a fresh mail user per test, and mail to deliver."""

import os
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from mailboxes.models import Mailbox
from tests.conftest import require
from tests.mailboxes.servers import DOVECOT, PASSWORD, start_dovecot

# Messages written for this project (always there), and the shared corpus of real-world
# mail beside the checkout (../shared, or MAIL_CORPUS_DIR): only some machines have it.
OWN_MESSAGES = Path(__file__).resolve().parent / "messages"
SHARED_CORPUS = Path(
    os.environ.get("MAIL_CORPUS_DIR")
    or Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "emails"
)


def require_shared_corpus() -> None:
    """Skip without the shared corpus; in CI (CI=true) its absence is a failure."""
    require(SHARED_CORPUS.is_dir(), f"no shared mail corpus at {SHARED_CORPUS}")


@pytest.fixture(scope="session")
def _dovecot_server():
    if not DOVECOT:
        yield None
        return
    server = start_dovecot()
    yield server
    server.stop()


@pytest.fixture
def dovecot(_dovecot_server):
    require(
        _dovecot_server is not None, "needs Dovecot (apt-get install dovecot-imapd dovecot-pop3d)"
    )
    return _dovecot_server


@pytest.fixture
def mail_user(dovecot):
    return dovecot.add_user()


def make_mail(number: int = 1, *, subject: str = "", body: str = "", message_id: str = "") -> bytes:
    message = EmailMessage()
    message["From"] = f"Customer {number} <customer{number}@example.test>"
    message["To"] = "support@helpdesk.test"
    message["Subject"] = subject or f"Printer {number} is on fire"
    message["Date"] = format_datetime(datetime(2026, 11, 1, 9, number % 60, tzinfo=UTC))
    message["Message-ID"] = message_id or f"<message-{number}@example.test>"
    message.set_content(body or f"Hello, printer number {number} needs help.\n")
    return message.as_bytes()


@pytest.fixture
def make_mailbox(pool, dovecot, mail_user):
    """A mailbox on the test's own Dovecot user; pass kind, after_import, password..."""

    def make(**fields) -> Mailbox:
        kind = fields.pop("kind", Mailbox.Kind.IMAP)
        defaults = {
            "name": f"{kind} {Mailbox.objects.count() + 1}",
            "kind": kind,
            "pool": pool,
            "from_address": "support@helpdesk.test",
            "host": dovecot.host,
            "port": dovecot.imap_port if kind == Mailbox.Kind.IMAP else dovecot.pop3_port,
            "security": Mailbox.Security.NONE,
            "username": mail_user,
            "password": PASSWORD,
        }
        return Mailbox.objects.create(**{**defaults, **fields})

    return make


# --- OAuth2: a local provider, and a Dovecot that checks tokens there --------------------


@pytest.fixture(scope="session")
def _oauth_servers():
    from tests.mailboxes.oauth_provider import OAuthProvider

    provider = OAuthProvider().start()
    server = None
    if DOVECOT:
        server = start_dovecot(
            oauth2_introspection_url=f"{provider.url}/introspect", domain="mail.test"
        )
    yield provider, server
    if server is not None:
        server.stop()
    provider.stop()


@pytest.fixture
def oauth_provider(_oauth_servers, settings):
    """The local OAuth provider, set up as the product's "generic" provider."""
    provider = _oauth_servers[0]
    settings.OAUTH_PROVIDERS = {**settings.OAUTH_PROVIDERS, "generic": provider.settings()}
    settings.SITE_URL = "http://testserver"
    return provider


@pytest.fixture
def oauth_dovecot(_oauth_servers):
    """A Dovecot taking XOAUTH2 and OAUTHBEARER, tokens checked at ``oauth_provider``."""
    require(_oauth_servers[1] is not None, "needs Dovecot (apt-get install dovecot-imapd)")
    return _oauth_servers[1]
