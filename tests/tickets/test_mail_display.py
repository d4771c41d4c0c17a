"""How mail bodies are shown: quoted history folded, inline images ours, remote ones on request."""

from django.core.files.base import ContentFile
from django.urls import reverse

from tickets import services
from tickets.models import Attachment

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def _mail(pool, customer, **kwargs):
    ticket = services.create_ticket(subject="Mail", pool=pool, requester=customer)
    message = services.add_customer_message(ticket, contact=customer, **kwargs)
    return ticket, message


def test_quoted_history_is_folded_but_kept(agent_client, pool, customer):
    text = "Still broken.\n\nEm 1 de mar. de 2026, Suporte escreveu:\n> Please restart it."
    ticket, message = _mail(pool, customer, body_text=text)
    page = agent_client.get(reverse("tickets:detail", args=[ticket.number])).text
    assert '<details class="quoted-history' in page
    assert page.index("Still broken.") < page.index("Show quoted text") < page.index("restart")
    message.refresh_from_db()
    assert message.body_text == text


def test_inline_cid_image_is_served_from_our_url_as_an_image(agent_client, pool, customer):
    image = ContentFile(PNG, name="logo.png")
    image.content_type, image.content_id, image.is_inline = "image/png", "<logo@mail>", True
    html = '<p>Hi <img src="cid:logo@mail"> <img src="https://tracker.test/p.gif"></p>'
    ticket, _message = _mail(pool, customer, body_text="Hi", body_html=html, files=[image])
    item = Attachment.objects.get(ticket=ticket)
    inline_url = reverse("tickets:attachment_inline", args=[ticket.number, item.pk])
    page = agent_client.get(reverse("tickets:detail", args=[ticket.number])).text
    assert f'src="{inline_url}"' in page
    assert "tracker.test" not in page
    response = agent_client.get(inline_url)
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_svg_or_html_is_never_served_inline(agent_client, pool, customer):
    svg = ContentFile(b"<svg onload='alert(1)'/>", name="x.svg")
    svg.content_type, svg.content_id = "image/svg+xml", "<x@mail>"
    ticket, _message = _mail(pool, customer, body_text="x", files=[svg])
    item = Attachment.objects.get(ticket=ticket)
    url = reverse("tickets:attachment_inline", args=[ticket.number, item.pk])
    assert agent_client.get(url).status_code == 404


def test_remote_images_load_only_when_the_agent_asks(agent_client, pool, customer):
    html = '<p>Look <img src="https://images.example/chart.png"></p>'
    ticket, message = _mail(pool, customer, body_text="Look", body_html=html)
    url = reverse("tickets:detail", args=[ticket.number])
    first = agent_client.get(url)
    assert "images.example" not in first.text
    assert f"?images={message.pk}" in first.text
    assert "https:" not in first["Content-Security-Policy"]
    asked = agent_client.get(url, {"images": message.pk})
    assert 'src="https://images.example/chart.png"' in asked.text
    assert "img-src 'self' data: https:" in asked["Content-Security-Policy"]
    assert (
        "unsafe-inline" not in asked["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )
