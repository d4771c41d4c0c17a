"""Files are never served inline, never under the sender's name or path (SECURITY.md)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tickets import services
from tickets.models import Attachment


@pytest.fixture
def html_attachment(pool, customer):
    ticket = services.create_ticket(subject="Look", pool=pool, requester=customer)
    evil = SimpleUploadedFile(
        "../../etc/evil.html", b"<script>alert(document.cookie)</script>", "text/html"
    )
    services.add_customer_message(ticket, contact=customer, body_text="x", files=[evil])
    return Attachment.objects.get(ticket=ticket)


def test_stored_name_is_generated_and_display_name_has_no_path(html_attachment):
    assert html_attachment.filename == "evil.html"
    assert "evil" not in html_attachment.file.name
    assert ".." not in html_attachment.file.name


def test_download_is_an_attachment_with_nosniff(agent_client, html_attachment):
    url = reverse("tickets:attachment", args=[html_attachment.ticket.number, html_attachment.pk])
    response = agent_client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"<script>")


def test_oversized_upload_is_refused_with_a_clear_error(agent_client, pool, customer, settings):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 10
    ticket = services.create_ticket(subject="Big", pool=pool, requester=customer)
    response = agent_client.post(
        reverse("tickets:reply", args=[ticket.number]),
        {"body": "here", "attachments": [SimpleUploadedFile("big.bin", b"x" * 11)]},
    )
    assert response.status_code == 400
    assert "big.bin is larger than" in response.text
    assert ticket.messages.count() == 0
