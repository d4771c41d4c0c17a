"""A customer's satisfaction answers on their contact page and requester card (issue 13)."""

from django.urls import reverse

from surveys.models import Answer, Questionnaire, Response
from tests.factories import TicketFactory
from tickets.states import Status


def _answer(ticket, customer, questionnaire):
    response = Response.objects.create(
        questionnaire=questionnaire,
        kind=Questionnaire.Kind.SATISFACTION,
        ticket=ticket,
        pool=ticket.pool,
        contact=customer,
    )
    rating, _score, solved, comments = questionnaire.questions.order_by("position")
    Answer.objects.create(response=response, question=rating, number=4)
    Answer.objects.create(response=response, question=solved, number=1)
    Answer.objects.create(response=response, question=comments, text="Quick and kind.")
    return response


def test_the_contact_page_lists_the_answers_with_their_questions(
    agent_client, pool, customer, satisfaction
):
    ticket = TicketFactory(pool=pool, requester=customer, status=Status.CLOSED)
    _answer(ticket, customer, satisfaction)
    page = agent_client.get(reverse("tickets:contact", args=[customer.pk])).content.decode()
    panel = page[page.index('id="contact-panel-survey-answers"') :]
    assert ticket.tag_label in panel
    assert "How satisfied?: 4" in panel
    assert "Solved?: Yes" in panel
    assert "Comments: Quick and kind." in panel


def test_the_requester_card_says_how_many_surveys_they_answered(
    agent_client, pool, customer, satisfaction
):
    for _ in range(2):
        _answer(TicketFactory(pool=pool, requester=customer), customer, satisfaction)
    ticket = TicketFactory(pool=pool, requester=customer)
    page = agent_client.get(ticket.get_absolute_url()).content.decode()
    card = page[page.index('id="requester-card"') :]
    assert "Answered 2 satisfaction surveys" in card


def test_a_failing_panel_receiver_does_not_take_the_contact_page_down(
    agent_client, customer, caplog
):
    from tickets import signals

    def broken(sender, **kwargs):
        raise RuntimeError("boom")

    signals.contact_panels.connect(broken)
    try:
        response = agent_client.get(reverse("tickets:contact", args=[customer.pk]))
    finally:
        signals.contact_panels.disconnect(broken)
    assert response.status_code == 200
    assert "boom" in caplog.text
