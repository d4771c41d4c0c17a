"""On the ticket page: agents search articles from the reply composer and insert them; a
lazily loaded panel shows similar solved tickets, fitting canned responses and articles."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from knowledge.models import Visibility
from tests.factories import MessageFactory, TicketFactory
from tickets.models import CannedResponse
from tickets.search import index_tickets
from tickets.states import Status

SIMILAR_QUERIES = 12


def test_the_composer_finds_articles_and_offers_link_and_text(agent_client, pool, make_article):
    ticket = TicketFactory(pool=pool)
    make_article({"en": ("Router lights", "Green means **fine**.")})
    make_article({"en": ("Router refunds", "Internal rule.")}, visibility=Visibility.INTERNAL)
    response = agent_client.get(reverse("kb:composer", args=[ticket.number]), {"q": "router"})
    page = response.content.decode()
    assert page.count("kb-composer-item") == 2
    assert page.count("kb-insert-link") == 1  # the internal article: text only
    assert "/help/articles/" in page
    assert 'data-kb-insert="Green means fine."' in page
    assert "Internal rule." in page


def test_the_composer_needs_the_ticket_to_be_visible(agent_client, other_pool, make_article):
    ticket = TicketFactory(pool=other_pool)
    response = agent_client.get(reverse("kb:composer", args=[ticket.number]), {"q": "router"})
    assert response.status_code == 404


def _solved(pool, subject, body, status=Status.RESOLVED):
    ticket = TicketFactory(pool=pool, subject=subject, status=status)
    MessageFactory(ticket=ticket, body_text=body, author_contact=ticket.requester)
    return ticket


def test_similar_tickets_canned_responses_and_articles(agent_client, pool, make_article):
    current = _solved(pool, "Router lights blinking red", "My router shows red lights", Status.NEW)
    close = _solved(pool, "Red lights on the router", "The router lights are red since today")
    far = _solved(pool, "Invoice copy", "Please send my invoice again")
    open_one = _solved(pool, "Router red lights", "router lights red", Status.TAKEN)
    index_tickets([current.pk, close.pk, far.pk, open_one.pk])
    CannedResponse.objects.create(title="Router lights", body="Restart the router, please.")
    CannedResponse.objects.create(title="Invoice", body="Here is your invoice.")
    make_article({"en": ("What the router lights mean", "Red lights: restart it.")})
    page = agent_client.get(reverse("kb:similar", args=[current.number])).content.decode()
    assert close.number in page
    assert far.number not in page
    assert open_one.number not in page  # only resolved or closed tickets
    assert current.number not in page.split('id="similar-tickets"')[1].split("</ul>")[0]
    assert "Router lights" in page and "Here is your invoice" not in page
    assert "What the router lights mean" in page


def test_the_similar_panel_costs_a_fixed_number_of_queries(agent_client, pool):
    current = _solved(pool, "Router lights blinking red", "router lights red", Status.NEW)

    def count():
        with CaptureQueriesContext(connection) as captured:
            response = agent_client.get(reverse("kb:similar", args=[current.number]))
        assert response.status_code == 200
        return len(captured)

    index_tickets([current.pk])
    few = count()
    index_tickets([_solved(pool, f"Router lights {i}", "router red lights").pk for i in range(30)])
    for i in range(20):
        CannedResponse.objects.create(title=f"Router {i}", body="router lights")
    many = count()
    assert few == many <= SIMILAR_QUERIES


def test_the_ticket_page_loads_the_panel_lazily(agent_client, pool):
    ticket = TicketFactory(pool=pool)
    page = agent_client.get(reverse("tickets:detail", args=[ticket.number])).content.decode()
    assert reverse("kb:similar", args=[ticket.number]) in page
    assert reverse("kb:composer", args=[ticket.number]) in page
