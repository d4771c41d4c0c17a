"""Full-text search in the queue: bodies, names, addresses, inflected words, phrases, scope.

The same tests run on SQLite (FTS5) and PostgreSQL (GIN + tsquery): both read the same
documents (``tickets.search``).
"""

import pytest
from django.urls import reverse

from people.models import ContactEmail, ContactPhone, Organization
from tests.factories import ContactFactory
from tickets.models import Attachment, Message, Ticket, TicketSearch
from tickets.search import catch_up, index_tickets, stale_ticket_ids
from tickets.search import search as search_tickets
from tickets.services.intake import CustomerMail, receive_customer_messages


@pytest.fixture
def eager(django_capture_on_commit_callbacks, eager_tasks):
    def run(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()

    return run


def _mail(pool, contact, subject, body):
    mail = CustomerMail(contact=contact, subject=subject, body_text=body, pool=pool)
    receive_customer_messages([mail])
    return mail.ticket


@pytest.fixture
def tickets(pool, other_pool, eager):
    acme = Organization.objects.create(name="Acme Logística")
    ana = ContactFactory(name="Ana Beatriz Souza", organization=acme)
    ContactEmail.objects.filter(contact=ana).delete()
    ContactEmail.objects.create(contact=ana, address="ana.souza@acme.com.br", is_primary=True)
    ContactPhone.objects.create(contact=ana, number="+55 11 98765-4321")
    jan = ContactFactory(name="Jan Kowalski")
    found = {
        "invoice": eager(
            lambda: _mail(pool, ana, "Cobrança", "As faturas de março vieram em dobro.")
        ),
        "password": eager(lambda: _mail(pool, jan, "Logowanie", "Nie pamiętam hasła do panelu.")),
        "printer": eager(
            lambda: _mail(pool, jan, "Printer", "The printers are jammed again, room 303.")
        ),
        "other_pool": eager(lambda: _mail(other_pool, jan, "Hasło", "Zmiana hasła nie działa.")),
    }
    return found


def _numbers(queryset) -> set[str]:
    return set(queryset.values_list("number", flat=True))


def _find(text):
    return {t.number for t in search_tickets(Ticket.objects.all(), text)}


def test_words_of_a_mail_body_are_found_in_any_inflected_form(tickets):
    assert _find("fatura") == {tickets["invoice"].number}  # stored "faturas"
    assert _find("hasło") >= {tickets["password"].number}  # stored "hasła"
    assert _find("hasła") >= {tickets["password"].number}
    assert _find("printer") == {tickets["printer"].number}  # stored "printers"
    assert _find("303") == {tickets["printer"].number}


def test_accents_and_case_do_not_matter(tickets):
    assert _find("MARCO") == {tickets["invoice"].number}  # "março"
    assert _find("cobranca") == {tickets["invoice"].number}


def test_names_addresses_phones_and_organisation(tickets):
    invoice = {tickets["invoice"].number}
    assert _find("Beatriz") == invoice
    assert _find("ana.souza@acme.com.br") == invoice
    assert _find("5511987654321") == invoice
    assert _find("logistica") == invoice


def test_words_are_anded_and_phrases_keep_their_order(tickets):
    assert _find("faturas dobro") == {tickets["invoice"].number}
    assert _find("faturas impressora") == set()
    assert _find('"vieram em dobro"') == {tickets["invoice"].number}
    assert _find('"dobro em vieram"') == set()


def test_the_number_with_or_without_prefix(tickets):
    number = tickets["printer"].number
    assert number in _find(number)
    assert number in _find(f"#{number}")
    assert number in _find(f"[#{number}]")


def test_notes_and_replies_are_found_once_indexed(tickets, agent, eager):
    from tickets.services import add_note

    ticket = tickets["printer"]
    eager(lambda: add_note(ticket, author=agent, body="Toner supplier Lexmark called back."))
    assert _find("lexmark") == {ticket.number}


def test_attachment_names_are_found(tickets):
    ticket = tickets["invoice"]
    message = Message.objects.filter(ticket=ticket).first()
    Attachment.objects.create(
        ticket=ticket, message=message, file="x", filename="extrato-bancario.pdf", size=1
    )
    index_tickets([ticket.pk])
    assert _find("extrato") == {ticket.number}


def test_a_lost_index_task_is_caught_up(tickets, pool):
    ticket = tickets["invoice"]
    TicketSearch.objects.filter(ticket=ticket).delete()
    Ticket.objects.filter(pk=ticket.pk).update(subject="Boleto vencido")
    assert ticket.pk in stale_ticket_ids()
    assert _find("boleto") == set()
    assert catch_up() >= 1
    assert _find("boleto") == {ticket.number}
    assert stale_ticket_ids() == []


def test_an_agent_finds_only_tickets_of_their_pools_and_counts_exclude_the_rest(
    tickets, agent_client
):
    response = agent_client.get(reverse("tickets:queue"), {"tab": "waiting", "q": "hasła"})
    page = response.content.decode()
    assert tickets["password"].number in page
    assert tickets["other_pool"].number not in page
    assert "<mark>hasła</mark>" in page


def test_the_queue_ranks_and_highlights(tickets, agent_client, eager, pool):
    jan = tickets["printer"].requester
    eager(lambda: _mail(pool, jan, "Printer printer", "printer printer printer jammed"))
    response = agent_client.get(reverse("tickets:queue"), {"tab": "waiting", "q": "printer"})
    rows = response.context["tickets"]
    assert rows[0].subject == "Printer printer"
    assert len(rows) == 2
    assert "<mark>" in response.content.decode()


def test_reindexing_replaces_the_document_words_gone_are_not_found(tickets):
    ticket = tickets["printer"]
    Ticket.objects.filter(pk=ticket.pk).update(subject="Scanner")
    Message.objects.filter(ticket=ticket).update(body_text="The scanner is fine now.")
    assert index_tickets([ticket.pk, tickets["invoice"].pk]) == 2
    assert _find("scanner") == {ticket.number}
    assert _find("printers") == set()
    assert _find("faturas") == {tickets["invoice"].number}
    assert TicketSearch.objects.filter(ticket=ticket).count() == 1


def test_a_common_word_ranks_only_the_newest_candidates(tickets, pool, eager, settings):
    settings.SEARCH_CANDIDATES = 2
    contact = ContactFactory(name="Olga Nowak")
    newer = [
        eager(lambda i=i: _mail(pool, contact, f"Drukarka {i}", "The printers are jammed."))
        for i in range(3)
    ]
    found = _find("printers")
    assert found == {newer[2].number, newer[1].number}
    assert _find(f"#{tickets['printer'].number}") == {tickets["printer"].number}


def test_the_queue_counts_what_the_search_found_in_the_users_pools_only(
    tickets, agent_client, client, supervisor
):
    response = agent_client.get(reverse("tickets:queue"), {"tab": "waiting", "q": "hasła"})
    assert len(response.context["search_found"]) == 1  # not the other pool's ticket
    assert "1 ticket found." in response.content.decode()
    client.force_login(supervisor)
    response = client.get(reverse("tickets:queue"), {"tab": "all", "q": "hasła"})
    assert len(response.context["search_found"]) == 2
    assert "2 tickets found." in response.content.decode()
    response = client.get(reverse("tickets:queue"), {"tab": "all"})
    assert response.context["search_found"] is None
    assert 'id="search-found"' not in response.content.decode()


def test_above_the_cap_the_newest_are_listed_and_the_count_says_so(
    tickets, agent_client, pool, eager, settings
):
    settings.SEARCH_CANDIDATES = 2
    contact = ContactFactory(name="Olga Nowak")
    newer = [
        eager(lambda i=i: _mail(pool, contact, f"Drukarka {i}", "The printers are jammed."))
        for i in range(3)
    ]
    response = agent_client.get(reverse("tickets:queue"), {"tab": "waiting", "q": "printers"})
    found = response.context["search_found"]
    assert found.more and found.label() == "2+"
    assert {t.number for t in response.context["tickets"]} == {newer[2].number, newer[1].number}
    page = response.content.decode()
    assert "2+ tickets found: the newest 2 are listed." in page
    # Exactly the cap, and no more: an exact count.
    Ticket.objects.filter(pk=tickets["printer"].pk).delete()
    Ticket.objects.filter(pk=newer[0].pk).delete()
    response = agent_client.get(reverse("tickets:queue"), {"tab": "waiting", "q": "printers"})
    assert not response.context["search_found"].more
    assert "2 tickets found." in response.content.decode()


def test_the_cap_applies_after_the_queue_filters(
    tickets, client, supervisor, pool, eager, settings
):
    """A filter narrows the matches before the newest are kept: the older matching ticket
    in the filtered status is found although newer ones fill the cap."""
    settings.SEARCH_CANDIDATES = 2
    Ticket.objects.filter(pk=tickets["printer"].pk).update(status="in_progress")
    contact = ContactFactory(name="Olga Nowak")
    for i in range(3):
        eager(lambda i=i: _mail(pool, contact, f"Drukarka {i}", "The printers are jammed."))
    client.force_login(supervisor)
    response = client.get(
        reverse("tickets:queue"), {"tab": "all", "q": "printers", "status": "in_progress"}
    )
    assert [t.number for t in response.context["tickets"]] == [tickets["printer"].number]
    assert response.context["search_found"].label() == "1"


def test_found_counts_show_thousands_and_a_plus_above_the_cap():
    from django.utils import translation

    from tickets.search import Found

    with translation.override("en"):
        assert Found(tuple(range(2000)), more=True).label() == "2,000+"
        assert Found(tuple(range(1999)), more=False).label() == "1,999"
    with translation.override("pt-br"):
        assert Found(tuple(range(2000)), more=True).label() == "2.000+"


def test_a_phrase_is_checked_in_the_newest_tickets_holding_its_words(
    tickets, pool, eager, settings
):
    from tickets.search import find

    contact = ContactFactory(name="Olga Nowak")
    old = eager(lambda: _mail(pool, contact, "Jam", "The printers are jammed in room 12."))
    for i in range(3):
        other = ContactFactory(name=f"Customer {i}")
        eager(lambda other=other: _mail(pool, other, "Room", "Jammed printers are in the room."))
    assert _find('"printers are jammed"') == {old.number, tickets["printer"].number}
    settings.SEARCH_PHRASE_SCAN = 3  # the three newest hold the words, not the phrase
    found = find(Ticket.objects.all(), '"printers are jammed"')
    assert found.ids == () and found.more and found.phrase_cut
    assert found.label() == "0+" and found.exact() == "0"
    settings.SEARCH_PHRASE_SCAN = 4
    assert find(Ticket.objects.all(), '"printers are jammed"').ids == (old.pk,)
