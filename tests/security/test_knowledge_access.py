"""Drafts and internal articles never reach readers: not the help centre, the portal, their
search, the subject suggestions, nor an image; similar tickets come only from the agent's
pools."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from knowledge import services
from knowledge.models import Visibility
from tests.factories import MessageFactory, TicketFactory
from tickets.search import index_tickets
from tickets.states import Status


@pytest.fixture
def hidden(db):
    """A draft public article and a published internal one, in three languages each."""

    def make(title, *, publish, visibility):
        article = services.create_article(
            author=None,
            language="en",
            title=f"{title} router",
            body="secret router text",
            publish=publish,
            visibility=visibility,
        )
        for language in ("pl", "pt-br"):
            services.save_version(
                article,
                language=language,
                title=f"{title} routera",
                body="tajny tekst routera",
                author=None,
                publish=publish,
            )
        return article

    return [
        make("Draftarticle", publish=False, visibility=Visibility.PUBLIC),
        make("Internalarticle", publish=True, visibility=Visibility.INTERNAL),
    ]


def _pages(client, hidden, language):
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    pages = [
        client.get(reverse("help:home"), **headers),
        client.get(reverse("help:search"), {"q": "router"}, **headers),
        client.get(reverse("help:search"), {"q": "routera"}, **headers),
    ]
    for article in hidden:
        for lang in ("", "en", "pl", "pt-br"):
            response = client.get(
                reverse("help:article", args=[article.pk]), {"lang": lang}, **headers
            )
            assert response.status_code == 404
    return pages


@pytest.mark.parametrize("language", ["en", "pl", "pt-br"])
def test_the_public_help_centre_never_shows_them(client, hidden, language):
    for page in _pages(client, hidden, language):
        text = page.content.decode()
        assert "Draftarticle" not in text and "Internalarticle" not in text
        assert "secret" not in text and "tajny" not in text


def test_the_portal_never_shows_them(customer_client, hidden):
    for url, params in [
        (reverse("knowledge:search"), {}),
        (reverse("knowledge:search"), {"q": "router"}),
        (reverse("knowledge:suggest"), {"subject": "router routera secret"}),
    ]:
        text = customer_client.get(url, params).content.decode()
        assert "Draftarticle" not in text and "Internalarticle" not in text
    for article in hidden:
        assert customer_client.get(article.get_absolute_url()).status_code == 404


def test_votes_on_them_are_refused(client, hidden):
    for article in hidden:
        response = client.post(reverse("help:vote", args=[article.pk]), {"helpful": "yes"})
        assert response.status_code == 404


def test_their_images_are_for_agents_only(agent_client, hidden):
    anonymous = Client()
    served = []
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, "PNG")
    for article in hidden:
        image = services.add_image(
            article, SimpleUploadedFile("a.png", buffer.getvalue()), user=None
        )
        assert anonymous.get(image.get_absolute_url()).status_code == 404
        response = agent_client.get(image.get_absolute_url())
        assert response.status_code == 200
        served.append(response)
    for response in served:  # last: closing a response ends the test's request
        response.close()


def test_agents_without_the_permission_see_internal_but_not_drafts(agent_client, hidden):
    draft = hidden[0]
    page = agent_client.get(reverse("kb:list")).content.decode()
    assert "Internalarticle" in page and "Draftarticle" not in page
    assert agent_client.get(reverse("kb:article", args=[draft.pk])).status_code == 404


def test_the_composer_never_offers_a_public_link_to_an_internal_article(agent_client, pool, hidden):
    ticket = TicketFactory(pool=pool)
    page = agent_client.get(
        reverse("kb:composer", args=[ticket.number]), {"q": "router"}
    ).content.decode()
    assert "Internalarticle" in page
    assert "kb-insert-link" not in page and "/help/articles/" not in page
    assert "Draftarticle" not in page


def test_similar_tickets_come_only_from_the_agents_pools(agent_client, pool, other_pool):
    def solved(pool, subject, status=Status.RESOLVED):
        ticket = TicketFactory(pool=pool, subject=subject, status=status)
        MessageFactory(ticket=ticket, body_text=subject, author_contact=ticket.requester)
        return ticket

    current = solved(pool, "Router lights blinking red", Status.NEW)
    mine = solved(pool, "Router lights red again")
    theirs = solved(other_pool, "Router lights blinking red")
    theirs_closed = solved(other_pool, "Router lights blinking red", Status.CLOSED)
    index_tickets([current.pk, mine.pk, theirs.pk, theirs_closed.pk])
    page = agent_client.get(reverse("kb:similar", args=[current.number])).content.decode()
    assert mine.number in page
    assert theirs.number not in page and theirs_closed.number not in page
    other = TicketFactory(pool=other_pool)
    assert agent_client.get(reverse("kb:similar", args=[other.number])).status_code == 404


def test_customers_reach_no_agent_knowledge_route(customer_client, pool, hidden):
    ticket = TicketFactory(pool=pool)
    for url in [
        reverse("kb:list"),
        reverse("kb:article", args=[hidden[1].pk]),
        reverse("kb:composer", args=[ticket.number]),
        reverse("kb:similar", args=[ticket.number]),
    ]:
        assert customer_client.get(url).status_code == 404, url
