"""Implicit TLS and STARTTLS, for IMAP and POP3, with the certificate verified."""

import pytest

from mailboxes import ingest
from mailboxes.models import Mailbox, RawMessage
from tests.conftest import require
from tests.mailboxes.conftest import make_mail


@pytest.fixture
def tls_dovecot(dovecot):
    require(dovecot.certificate is not None, "needs openssl for the test certificate")
    return dovecot


def _port(dovecot, kind, security):
    ports = {
        (Mailbox.Kind.IMAP, Mailbox.Security.SSL): dovecot.imaps_port,
        (Mailbox.Kind.IMAP, Mailbox.Security.STARTTLS): dovecot.imap_port,
        (Mailbox.Kind.POP3, Mailbox.Security.SSL): dovecot.pop3s_port,
        (Mailbox.Kind.POP3, Mailbox.Security.STARTTLS): dovecot.pop3_port,
    }
    return ports[kind, security]


@pytest.mark.parametrize("kind", [Mailbox.Kind.IMAP, Mailbox.Kind.POP3])
@pytest.mark.parametrize("security", [Mailbox.Security.SSL, Mailbox.Security.STARTTLS])
def test_mail_is_fetched_over_tls(
    tls_dovecot, mail_user, make_mailbox, monkeypatch, kind, security
):
    # Trust the test server's self-signed certificate the way an admin would add a CA.
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_dovecot.certificate))
    tls_dovecot.append(mail_user, make_mail(1))
    mailbox = make_mailbox(kind=kind, security=security, port=_port(tls_dovecot, kind, security))

    result = ingest.fetch_mailbox(mailbox.pk)

    mailbox.refresh_from_db()
    assert mailbox.last_error == ""
    assert len(result.stored) == 1
    assert RawMessage.objects.filter(mailbox=mailbox).count() == 1


def test_an_untrusted_certificate_is_refused_and_recorded(
    tls_dovecot, mail_user, make_mailbox, monkeypatch
):
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
    tls_dovecot.append(mail_user, make_mail(1))
    mailbox = make_mailbox(security=Mailbox.Security.SSL, port=tls_dovecot.imaps_port)

    assert ingest.fetch_mailbox(mailbox.pk) is None

    mailbox.refresh_from_db()
    assert "CERTIFICATE_VERIFY_FAILED" in mailbox.last_error
    assert not RawMessage.objects.exists()
