"""The disposition form guards resolving and closing on every route, when the pool asks for it."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from mailboxes.models import Mailbox, RawMessage
from surveys.models import MailboxSurveySettings, Question, Questionnaire, Response
from surveys.services import disposition_questionnaire_for
from tickets import services
from tickets.services import portal
from tickets.states import Status


@pytest.fixture
def ticket(pool, agent, customer):
    ticket = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Help", description="x", pool=pool
    )
    return services.assign_ticket(ticket, agent=agent, actor=agent)


def _disposition_data(disposition, partners, *, then=""):
    single = disposition.questions.get(kind=Question.Kind.SINGLE_CHOICE)
    azul = partners.items.get(label="Azul")
    return {f"disposition-q{single.pk}": azul.pk, "then": then}


def _status(ticket):
    ticket.refresh_from_db()
    return ticket.status


@pytest.mark.parametrize("to", [Status.RESOLVED, Status.CLOSED])
def test_the_status_form_refuses_to_finish_without_the_disposition(
    agent_client, ticket, survey_settings, to
):
    response = agent_client.post(reverse("tickets:status", args=[ticket.number]), {"status": to})
    assert response.status_code == 400
    assert "Fill in the disposition form" in response.content.decode()
    assert _status(ticket) == Status.TAKEN


def test_a_reply_that_would_close_is_refused_whole_without_the_disposition(
    agent_client, ticket, survey_settings
):
    response = agent_client.post(
        reverse("tickets:reply", args=[ticket.number]),
        {"body": "Bye", "then_status": Status.CLOSED},
    )
    assert response.status_code == 400
    assert _status(ticket) == Status.TAKEN
    assert not ticket.messages.filter(body_text="Bye").exists()


def test_the_service_itself_refuses_for_an_agent(ticket, agent, survey_settings):
    with pytest.raises(ValidationError, match="disposition"):
        services.change_status(ticket, to=Status.CLOSED, actor=agent)


def test_saving_the_form_and_closing_in_one_step_works(
    agent_client, ticket, survey_settings, disposition, partners, operator_rating
):
    url = reverse("surveys:disposition", args=[ticket.number])
    assert agent_client.get(url).status_code == 200
    data = _disposition_data(disposition, partners, then="close")
    rating = operator_rating.questions.get()
    data[f"operator_rating-q{rating.pk}"] = 4
    response = agent_client.post(url, data)
    assert response.status_code == 302
    assert _status(ticket) == Status.CLOSED
    kinds = set(Response.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == {"disposition", "operator_rating"}
    rated = Response.objects.get(kind="operator_rating")
    assert rated.answers.get().number == 4


def test_once_filled_every_route_may_close(
    agent_client, ticket, survey_settings, disposition, partners
):
    url = reverse("surveys:disposition", args=[ticket.number])
    agent_client.post(url, _disposition_data(disposition, partners))
    assert _status(ticket) == Status.TAKEN
    response = agent_client.post(
        reverse("tickets:status", args=[ticket.number]), {"status": Status.RESOLVED}
    )
    assert response.status_code == 302
    assert _status(ticket) == Status.RESOLVED


def test_an_incomplete_disposition_is_refused(agent_client, ticket, survey_settings):
    url = reverse("surveys:disposition", args=[ticket.number])
    response = agent_client.post(url, {"then": "close"})
    assert response.status_code == 400
    assert _status(ticket) == Status.TAKEN
    assert not Response.objects.exists()


def test_the_customer_approving_a_resolution_is_not_blocked(
    customer_user, ticket, survey_settings, disposition, partners, agent
):
    from surveys.forms import QuestionnaireForm
    from surveys.services import save_agent_forms

    data = _disposition_data(disposition, partners)
    form = QuestionnaireForm(disposition, data, prefix="disposition")
    assert form.is_valid()
    save_agent_forms(ticket, forms=[form], agent=agent, then_status=Status.RESOLVED)
    portal.approve_resolution(ticket, actor=customer_user)
    assert _status(ticket) == Status.CLOSED


def test_a_merge_closes_the_duplicate_without_a_disposition(
    ticket, pool, agent, customer, survey_settings
):
    target = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Main", description="x", pool=pool
    )
    services.merge_tickets(ticket, into=target, actor=agent)
    assert _status(ticket) == Status.CLOSED


def test_a_pool_that_does_not_require_it_lets_agents_close(ticket, agent, survey_settings):
    survey_settings.disposition_required = False
    survey_settings.save()
    services.change_status(ticket, to=Status.CLOSED, actor=agent)
    assert _status(ticket) == Status.CLOSED


def test_a_mailbox_form_replaces_the_pools_for_tickets_mailed_to_it(
    ticket, pool, survey_settings, disposition
):
    special = Questionnaire.objects.create(name="Partner desk", kind=Questionnaire.Kind.DISPOSITION)
    mailbox = Mailbox.objects.create(name="Partners", pool=pool, from_address="p@acme.test")
    MailboxSurveySettings.objects.create(mailbox=mailbox, disposition_questionnaire=special)
    assert disposition_questionnaire_for(ticket) == disposition
    RawMessage.objects.create(
        mailbox=mailbox, uid="1", message_id="<a@b>", sha256="0" * 64, ticket=ticket
    )
    assert disposition_questionnaire_for(ticket) == special


def test_the_ticket_page_shows_the_disposition_panel(agent_client, ticket, survey_settings):
    page = agent_client.get(reverse("tickets:detail", args=[ticket.number])).content.decode()
    assert 'id="panel-disposition"' in page
    assert reverse("surveys:disposition", args=[ticket.number]) in page
    assert "Required before the ticket is resolved or closed." in page


def test_agents_of_other_pools_cannot_open_the_form(client, other_agent, ticket, survey_settings):
    client.force_login(other_agent)
    url = reverse("surveys:disposition", args=[ticket.number])
    assert client.get(url).status_code == 404
    assert client.post(url, {"then": "close"}).status_code == 404


def test_the_disposition_page_costs_a_fixed_number_of_queries(
    agent_client, ticket, survey_settings, django_assert_max_num_queries
):
    url = reverse("surveys:disposition", args=[ticket.number])
    with django_assert_max_num_queries(12):
        assert agent_client.get(url).status_code == 200


def test_a_junior_cannot_close_through_a_reply_either(client, junior, ticket, survey_settings):
    client.force_login(junior)
    response = client.post(
        reverse("tickets:reply", args=[ticket.number]),
        {"body": "Closing", "then_status": Status.CLOSED},
    )
    assert response.status_code == 400
    assert _status(ticket) == Status.TAKEN
    assert not ticket.messages.filter(body_text="Closing").exists()


def test_an_agent_may_cancel_spam_without_the_form(ticket, agent, survey_settings):
    services.change_status(ticket, to=Status.CANCELLED, actor=agent)
    assert _status(ticket) == Status.CANCELLED
