"""How search documents are built (``tickets.search.index_tickets``): the words, the thread's
language told once and kept while its opening is the same, the cost pinned."""

import pytest

from people.models import ContactEmail, ContactPhone, Organization
from tests.factories import ContactFactory
from tickets import search
from tickets.models import Message, Ticket, TicketSearch
from tickets.services.intake import CustomerMail, receive_customer_messages


def _open(pool, contact, subject, body):
    mail = CustomerMail(contact=contact, subject=subject, body_text=body, pool=pool)
    receive_customer_messages([mail])
    return mail.ticket


@pytest.fixture
def ana():
    acme = Organization.objects.create(name="Acme Logística")
    ana = ContactFactory(name="Ana Beatriz Souza", organization=acme)
    ContactEmail.objects.filter(contact=ana).delete()
    ContactEmail.objects.create(contact=ana, address="ana.souza@acme.com.br", is_primary=True)
    ContactPhone.objects.create(contact=ana, number="+55 11 98765-4321")
    return ana


def _stored(ticket) -> TicketSearch:
    return TicketSearch.objects.get(ticket=ticket)


def test_a_document_holds_number_subject_requester_and_every_message_in_order(pool, ana):
    ticket = _open(pool, ana, "Cobrança duplicada", "As faturas de março vieram em dobro.")
    Message.objects.create(ticket=ticket, kind=Message.Kind.NOTE, body_text="Ligar amanhã.")
    search.index_tickets([ticket.pk])
    document = _stored(ticket).document.split()
    assert document[: len(search.words(ticket.number))] == search.words(ticket.number)
    for word in ("cobranca", "ana", "souza", "acme", "logistica", "fatura", "marco", "ligar"):
        assert word in document
    assert "5511987654321" in document
    assert document.index("fatura") < document.index("ligar")  # the thread's order
    assert _stored(ticket).language == "pt-br"


def test_tokens_are_the_words_dictionary_forms_whatever_was_read_before():
    text = "Nie pamiętam hasła do panelu, hasła!"
    first = search.tokens(text, "pl")
    assert first == [search._token(word, "pl") for word in search.words(text)]
    assert search.tokens(text, "pl") == first  # the second time from the cache
    assert search.tokens(text, "en") == [search._token(word, "en") for word in search.words(text)]


def test_the_language_is_told_once_and_again_only_when_the_opening_changes(pool, ana, monkeypatch):
    ticket = _open(pool, ana, "Cobrança", "As faturas de março vieram em dobro, podem ver?")
    search.index_tickets([ticket.pk])
    told = []
    detect = search.detect_language
    monkeypatch.setattr(
        search, "detect_language", lambda *a, **k: told.append(a) or detect(*a, **k)
    )
    Message.objects.create(ticket=ticket, kind=Message.Kind.INBOUND, body_text="Alguma novidade?")
    search.index_tickets([ticket.pk])
    assert told == []  # a reply: the same opening, the same language
    assert "novidade" in _stored(ticket).document.split()
    Ticket.objects.filter(pk=ticket.pk).update(subject="Faktura za październik")
    search.index_tickets([ticket.pk])
    assert len(told) == 1  # a new subject: told again
    assert _stored(ticket).document.split()[len(search.words(ticket.number))] == "faktura"


def test_a_rebuild_writes_the_same_document_as_the_first_build(pool, ana):
    ticket = _open(pool, ana, "Zmiana hasła", "Nie pamiętam hasła do panelu.")
    search.index_tickets([ticket.pk])
    first = _stored(ticket).document
    TicketSearch.objects.filter(ticket=ticket).delete()
    search.index_tickets([ticket.pk])
    assert _stored(ticket).document == first


def test_indexing_many_tickets_costs_the_same_queries_as_one(pool, ana, django_assert_num_queries):
    tickets = [_open(pool, ana, f"Fatura {i}", "Veio em dobro.") for i in range(6)]
    # tickets with requesters and stored languages, messages and files, addresses and
    # phones; one upsert
    with django_assert_num_queries(4):
        assert search.index_tickets([tickets[0].pk]) == 1
    with django_assert_num_queries(4):
        assert search.index_tickets([ticket.pk for ticket in tickets]) == 6


def test_a_new_ticket_is_indexed_once_and_a_reply_to_it_again(
    pool, ana, monkeypatch, django_capture_on_commit_callbacks
):
    """tickets_created and messages_added follow the same commit: one rebuild, not two."""
    from tickets.services import add_customer_message
    from tickets.tasks import index_tickets_task

    jobs: list[list[int]] = []
    monkeypatch.setattr(index_tickets_task, "delay", lambda ids: jobs.append(ids))
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _open(pool, ana, "Faktura za marzec", "Proszę o korektę faktury.")
    assert jobs == [[ticket.pk]]

    with django_capture_on_commit_callbacks(execute=True):
        add_customer_message(ticket, contact=ana, body_text="Czy jest już korekta?")
    assert jobs == [[ticket.pk], [ticket.pk]]


def test_a_mail_that_opens_a_ticket_is_indexed_in_the_language_the_intake_told(
    pool, ana, monkeypatch, django_capture_on_commit_callbacks
):
    from mailboxes import processing
    from tests.mailboxes.test_processing import build_mail, make_mailbox, store_raw
    from tickets.tasks import index_tickets_task

    raw = store_raw(
        make_mailbox(pool),
        build_mail(subject="Faktura za marzec", body="Proszę o korektę faktury za marzec.\n"),
    )
    jobs = []
    monkeypatch.setattr(index_tickets_task, "delay", lambda *args: jobs.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        processing.process_raw_messages([raw.pk])
    told = []
    detect = search.detect_language
    monkeypatch.setattr(
        search, "detect_language", lambda *a, **k: told.append(a) or detect(*a, **k)
    )

    index_tickets_task(*jobs[0])

    ticket = Ticket.objects.get()
    assert jobs == [([ticket.pk], {str(ticket.pk): "pl"})]
    assert told == [], "the index did not tell the language again"
    assert (_stored(ticket).language, _stored(ticket).language_key) == (
        "pl",
        search._source_key(search._opening(ticket.subject, [ticket.messages.get().body_text])),
    )
    assert "faktura" in _stored(ticket).document.split()
