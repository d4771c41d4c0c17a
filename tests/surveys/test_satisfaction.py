"""The satisfaction survey: mailed once when a ticket closes, answered once without signing in."""

import re

import pytest
from django.urls import reverse

from mailboxes.models import OutgoingEmail
from surveys.models import Response, SurveyInvitation
from surveys.services import invitation_from_token, survey_url
from tests.surveys.conftest import satisfaction_answers
from tickets import services
from tickets.services import portal
from tickets.states import Status


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def do(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()

    return do


@pytest.fixture
def ticket(pool, agent, customer):
    ticket = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Help", description="x", pool=pool
    )
    return services.assign_ticket(ticket, agent=agent, actor=agent)


@pytest.fixture
def csat_settings(survey_settings):
    """The pool's surveys, without the disposition form in the way of closing."""
    survey_settings.disposition_required = False
    survey_settings.save(update_fields=["disposition_required"])
    return survey_settings


def _close(run, ticket, agent):
    run(lambda: services.change_status(ticket, to=Status.CLOSED, actor=agent))


def _survey_mail():
    return OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.NOTIFICATION)


def test_closing_mails_the_survey_link_to_the_requester(
    run, ticket, agent, customer, satisfaction, pool
):
    from surveys.models import PoolSurveySettings

    PoolSurveySettings.objects.create(
        pool=pool, satisfaction_enabled=True, satisfaction_questionnaire=satisfaction
    )
    _close(run, ticket, agent)
    invitation = SurveyInvitation.objects.get(ticket=ticket)
    mail = _survey_mail()
    assert mail.to == [customer.primary_email]
    # The link carries a signed timestamp: compare what it names, not its text, so the
    # test does not depend on the mail and this line falling in the same second.
    prefix = reverse("surveys:answer", args=["TOKEN"]).split("TOKEN")[0]
    (token,) = re.findall(re.escape(prefix) + r"([^/\s]+)", mail.body_text)
    assert invitation_from_token(token) == invitation
    assert f"[#{ticket.number}]" in mail.subject
    assert mail.headers["Auto-Submitted"] == "auto-generated"


def test_no_survey_when_the_pool_has_it_off(run, ticket, agent, satisfaction, pool):
    from surveys.models import PoolSurveySettings

    PoolSurveySettings.objects.create(
        pool=pool, satisfaction_enabled=False, satisfaction_questionnaire=satisfaction
    )
    _close(run, ticket, agent)
    assert not SurveyInvitation.objects.exists()
    assert not OutgoingEmail.objects.exists()


def test_a_ticket_closed_twice_gets_one_survey(run, ticket, agent, satisfaction, pool, customer):
    from surveys.models import PoolSurveySettings

    PoolSurveySettings.objects.create(
        pool=pool, satisfaction_enabled=True, satisfaction_questionnaire=satisfaction
    )
    _close(run, ticket, agent)
    run(lambda: portal.reply_from_portal(ticket, contact=customer, body="one more thing"))
    _close(run, ticket, agent)
    assert SurveyInvitation.objects.count() == 1
    # One survey mail to the customer (the technician was told of the reply, internally).
    assert OutgoingEmail.objects.filter(internal=False).count() == 1


def test_the_customer_answers_without_signing_in(
    run, client, ticket, agent, csat_settings, satisfaction
):
    _close(run, ticket, agent)
    url = survey_url(SurveyInvitation.objects.get())
    page = client.get(url)
    assert page.status_code == 200
    assert "How satisfied?" in page.content.decode()
    response = client.post(url, satisfaction_answers(satisfaction))
    assert response.status_code == 200
    assert "Thank you for your answers" in response.content.decode()
    stored = Response.objects.get()
    assert (stored.kind, stored.ticket, stored.agent) == ("satisfaction", ticket, agent)


def test_an_incomplete_answer_shows_the_errors_and_keeps_the_link_usable(
    run, client, ticket, agent, csat_settings, satisfaction
):
    _close(run, ticket, agent)
    url = survey_url(SurveyInvitation.objects.get())
    response = client.post(url, {})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert SurveyInvitation.objects.get().answered_at is None
    assert client.post(url, satisfaction_answers(satisfaction)).status_code == 200


def test_the_portal_offers_the_survey_until_it_is_answered(
    run, client, customer_client, ticket, agent, csat_settings, satisfaction
):
    _close(run, ticket, agent)
    detail = reverse("portal:detail", args=[ticket.number])
    page = customer_client.get(detail).content.decode()
    assert 'id="panel-survey"' in page
    url = survey_url(SurveyInvitation.objects.get())
    assert url in page
    client.post(url, satisfaction_answers(satisfaction))
    assert 'id="panel-survey"' not in customer_client.get(detail).content.decode()


def test_a_robot_requester_gets_no_survey(run, ticket, agent, csat_settings, customer):
    email = customer.emails.get()
    email.address = "no-reply@shop.test"
    email.save()
    _close(run, ticket, agent)
    assert not SurveyInvitation.objects.exists()


def test_the_survey_page_costs_a_fixed_number_of_queries(
    run, client, ticket, agent, csat_settings, django_assert_max_num_queries
):
    _close(run, ticket, agent)
    url = survey_url(SurveyInvitation.objects.get())
    # The invitation, the questions, the dictionary items; the mailbox for the language of a
    # customer whose own language is not known.
    with django_assert_max_num_queries(4):
        assert client.get(url).status_code == 200
