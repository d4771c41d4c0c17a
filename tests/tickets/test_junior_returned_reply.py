from django.urls import reverse

from tickets import services
from tickets.models import Approval, Message


def test_junior_rewrites_a_returned_reply_and_it_waits_again(
    client, junior, supervisor, pool, customer
):
    ticket = services.create_ticket(subject="Help", pool=pool, requester=customer)
    client.force_login(junior)
    client.post(reverse("tickets:reply", args=[ticket.number]), {"body": "draft"})
    message = ticket.messages.get(kind=Message.Kind.OUTBOUND)
    assert message.approval == Approval.PENDING
    services.return_reply(message, actor=supervisor, comment="Be more polite")
    page = client.get(reverse("tickets:detail", args=[ticket.number]))
    assert "Be more polite" in page.text
    response = client.post(
        reverse("tickets:resubmit", args=[ticket.number, message.pk]), {"body": "Dear customer"}
    )
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.approval, message.body_text) == (Approval.PENDING, "Dear customer")


def test_only_the_author_can_rewrite_a_returned_reply(
    client, junior, supervisor, agent, pool, customer
):
    ticket = services.create_ticket(subject="Help", pool=pool, requester=customer)
    message = services.add_reply(ticket, author=junior, body="draft")
    services.return_reply(message, actor=supervisor, comment="No")
    client.force_login(agent)
    url = reverse("tickets:resubmit", args=[ticket.number, message.pk])
    assert client.post(url, {"body": "hijacked"}).status_code == 404
    message.refresh_from_db()
    assert message.body_text == "draft"
