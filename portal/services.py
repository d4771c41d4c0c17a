"""What the portal does beside the customers' tickets (those are tickets.services.portal)."""

from django.db import transaction

from mailboxes.notifications import queue_sign_in_email
from people.services import create_sign_in_link


@transaction.atomic
def request_sign_in_link(address: str, *, url_for) -> None:
    """Mail a one-time sign-in link if ``address`` belongs to a customer; silent otherwise.

    ``url_for(token)`` builds the absolute link. The link and its outbox row are written
    together; the mail leaves after commit.
    """
    created = create_sign_in_link(address)
    if created is None:
        return
    link, token = created
    queue_sign_in_email(
        contact=link.contact,
        address=link.address,
        url=url_for(token),
        expires_at=link.expires_at,
    )
