"""The SMTP account a mailbox's mail leaves through: its own, else the site's.

A mailbox with an SMTP host sends through that account (its password, or XOAUTH2 with its
OAuth grant when it has no password); everything else goes through MAILERS["default"].
``mailer_key`` groups outbox rows so that one batch opens one connection per account.
"""

import smtplib

from django.core.mail import mailers
from django.core.mail.backends.smtp import EmailBackend

from mailboxes.models import Mailbox
from mailboxes.oauth import access_token, xoauth2_string

# Used when the mailer sets none: a hung server must not outlive the outbox's reclaim.
SMTP_TIMEOUT = 60
DEFAULT = "default"


def mailer_key(mailbox: Mailbox | None) -> str:
    """Rows with the same key share a connection: the mailbox's own account, or the site's."""
    if mailbox is not None and mailbox.has_own_smtp:
        return f"mailbox-{mailbox.pk}"
    return DEFAULT


class MailboxSmtpBackend(EmailBackend):
    """Django's SMTP backend for one mailbox's account; XOAUTH2 when it is OAuth-connected."""

    def __init__(self, mailbox: Mailbox, **options):
        super().__init__(alias=mailer_key(mailbox), **options)
        self.mailbox = mailbox
        self.xoauth2 = mailbox.oauth_connection is not None and not mailbox.smtp_password

    def open(self):
        opened = super().open()  # signs in with the password, when there is one
        if opened and self.xoauth2 and self.connection is not None:
            try:
                self.connection.ehlo_or_helo_if_needed()
                account, token = access_token(self.mailbox)
                try:
                    self._xoauth2(account, token)
                except smtplib.SMTPAuthenticationError:  # refused before its expiry: once more
                    self._xoauth2(*access_token(self.mailbox, rejected=token))
            except BaseException:
                self.close()
                raise
        return opened

    def _xoauth2(self, account: str, token: str) -> None:
        initial = xoauth2_string(self.mailbox.smtp_username or account, token)
        if self.connection is None:
            raise smtplib.SMTPServerDisconnected("not connected")
        # On a refusal the server sends a JSON challenge; the empty answer ends the exchange
        # and smtplib raises SMTPAuthenticationError with the 535.
        self.connection.auth(
            "XOAUTH2",
            lambda challenge=None: initial if challenge is None else "",
            initial_response_ok=True,
        )


def mailer_for(mailbox: Mailbox | None):
    """A mailer (not yet open) for the account ``mailer_key`` names."""
    if mailbox is None or not mailbox.has_own_smtp:
        mailer = mailers[DEFAULT]
        if getattr(mailer, "timeout", 0) is None:
            setattr(mailer, "timeout", SMTP_TIMEOUT)  # noqa: B010 (SMTP backends only)
        return mailer
    security = mailbox.smtp_security
    oauth = mailbox.oauth_connection is not None and not mailbox.smtp_password
    return MailboxSmtpBackend(
        mailbox,
        host=mailbox.smtp_host,
        port=mailbox.smtp_port,
        username=None if oauth else mailbox.smtp_username or None,
        password=None if oauth else mailbox.smtp_password or None,
        use_tls=security == Mailbox.Security.STARTTLS,
        use_ssl=security == Mailbox.Security.SSL,
        timeout=SMTP_TIMEOUT,
    )
