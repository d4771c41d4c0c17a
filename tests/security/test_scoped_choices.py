"""Every field that takes an id accepts only what this user may use (issue 10, SECURITY.md).

A foreign id is a form error (400 on the ticket page), never a 500 and never silently used.
"""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.urls import reverse

from mailboxes.models import OutgoingEmail
from people.models import Department
from tests.factories import PoolFactory, TopicFactory
from tickets import services
from tickets.models import Attachment, CannedResponse, CannedResponseFile, Message, Tag


def _url(name, ticket):
    return reverse(f"tickets:{name}", args=[ticket.number])


@pytest.fixture
def ticket(pool, customer):
    return services.create_ticket(subject="Invoice", pool=pool, requester=customer)


@pytest.fixture
def colleague(pool):
    from tests.conftest import _agent

    return _agent("colleague", pools=[pool])


def _canned(title, *, owner=None, pool=None):
    canned = CannedResponse.objects.create(
        title=title, body=f"{title} text", owner=owner, pool=pool
    )
    CannedResponseFile.objects.create(
        canned_response=canned,
        filename=f"{title}.pdf",
        file=ContentFile(b"%PDF secret of " + title.encode(), name=f"{title}.pdf"),
    )
    return canned


def _reply_with(agent_client, ticket, canned):
    return agent_client.post(
        _url("reply", ticket), {"body": "Here you are", "canned_response": canned.pk}
    )


def _assert_nothing_sent(ticket):
    assert not Message.objects.filter(ticket=ticket, kind=Message.Kind.OUTBOUND).exists()
    assert not Attachment.objects.filter(ticket=ticket).exists()
    assert not OutgoingEmail.objects.exists()


def test_reply_with_another_agents_private_canned_response_is_refused(
    agent_client, ticket, colleague
):
    private = _canned("colleagues-secret", owner=colleague)
    response = _reply_with(agent_client, ticket, private)
    assert response.status_code == 400
    assert "canned_response" in response.context["reply_form"].errors
    _assert_nothing_sent(ticket)


def test_reply_with_another_pools_shared_canned_response_is_refused(
    agent_client, ticket, other_pool
):
    foreign = _canned("hardware-prices", pool=other_pool)
    response = _reply_with(agent_client, ticket, foreign)
    assert response.status_code == 400
    _assert_nothing_sent(ticket)


def test_foreign_canned_response_cannot_be_inserted_into_the_reply_box(
    agent_client, ticket, other_pool
):
    foreign = _canned("hardware-prices", pool=other_pool)
    url = reverse("tickets:canned", args=[ticket.number, foreign.pk])
    assert agent_client.get(url).status_code == 404


def test_the_reply_service_refuses_a_foreign_canned_response_whatever_the_caller(
    agent, ticket, colleague
):
    private = _canned("colleagues-secret", owner=colleague)
    with pytest.raises(ValidationError):
        services.add_reply(ticket, author=agent, body="Hi", canned_response=private)
    _assert_nothing_sent(ticket)


def test_own_pool_and_everyones_canned_responses_are_attached(agent_client, agent, ticket, pool):
    for canned in (
        _canned("mine", owner=agent),
        _canned("billing", pool=pool),
        _canned("everyone"),
    ):
        assert _reply_with(agent_client, ticket, canned).status_code == 302
    names = set(Attachment.objects.filter(ticket=ticket).values_list("filename", flat=True))
    assert names == {"mine.pdf", "billing.pdf", "everyone.pdf"}


def test_ticket_page_offers_only_usable_canned_responses(
    agent_client, agent, ticket, colleague, other_pool
):
    _canned("colleagues-secret", owner=colleague)
    _canned("hardware-prices", pool=other_pool)
    _canned("mine", owner=agent)
    page = agent_client.get(_url("detail", ticket)).text
    assert "mine" in page
    assert "colleagues-secret" not in page
    assert "hardware-prices" not in page


def test_assigning_an_agent_of_another_pool_is_refused(agent_client, ticket, other_agent):
    response = agent_client.post(_url("assign", ticket), {"assignee": other_agent.pk})
    assert response.status_code == 400
    assert "assignee" in response.context["assign_form"].errors
    ticket.refresh_from_db()
    assert ticket.assignee_id is None


def test_a_manager_must_be_an_active_agent(agent_client, ticket, django_user_model):
    former = django_user_model.objects.create_user("former", is_active=False)
    response = agent_client.post(_url("assign", ticket), {"manager": former.pk})
    assert response.status_code == 400
    assert "manager" in response.context["assign_form"].errors
    ticket.refresh_from_db()
    assert ticket.manager_id is None


def test_supervisor_can_be_the_manager_of_any_ticket(agent_client, ticket, supervisor):
    response = agent_client.post(_url("assign", ticket), {"manager": supervisor.pk})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.manager_id == supervisor.pk


def test_a_watcher_who_cannot_see_the_ticket_is_refused(agent_client, ticket, other_agent):
    response = agent_client.post(_url("watchers", ticket), {"user": other_agent.pk})
    assert response.status_code == 400
    assert "user" in response.context["watcher_form"].errors
    assert not ticket.watchers.exists()
    form = agent_client.get(reverse("tickets:sidebar_form", args=[ticket.number, "watchers"]))
    assert f'<option value="{other_agent.pk}"' not in form.text


def test_a_watcher_who_left_the_pool_can_still_be_removed(agent_client, agent, ticket, colleague):
    services.add_watcher(ticket, user=colleague, actor=agent)
    colleague.pool_memberships.all().delete()
    response = agent_client.post(_url("watchers", ticket), {"user": colleague.pk, "remove": "1"})
    assert response.status_code == 302
    assert not ticket.watchers.exists()


def test_moving_to_an_inactive_pool_topic_or_product_is_refused(agent_client, ticket):
    closed_pool = PoolFactory(name="Closed", active=False)
    old_topic = TopicFactory(name="Old", active=False)
    for field, value in (("pool", closed_pool.pk), ("topic", old_topic.pk)):
        data = {"priority": ticket.priority, "pool": ticket.pool_id, field: value}
        response = agent_client.post(_url("fields", ticket), data)
        assert response.status_code == 400, field
        assert field in response.context["fields_form"].errors
    ticket.refresh_from_db()
    assert ticket.topic_id is None


def test_consulting_an_inactive_department_is_refused(agent_client, ticket):
    gone = Department.objects.create(name="Old legal", email="legal@corp.test", active=False)
    url = reverse("sla:consult", args=[ticket.number])
    response = agent_client.post(url, {"department": gone.pk, "question": "May we?"})
    assert response.status_code == 200
    assert "department" in response.context["form"].errors
    assert not OutgoingEmail.objects.exists()


def test_tags_used_only_in_another_pool_are_not_offered_in_the_queue_filter(
    agent_client, ticket, other_pool, other_customer
):
    hidden = services.create_ticket(subject="Hidden", pool=other_pool, requester=other_customer)
    services.set_tags(hidden, names=["merger-project"], actor=None)
    services.set_tags(ticket, names=["invoices"], actor=None)
    Tag.objects.create(name="unused")
    response = agent_client.get(reverse("tickets:queue"))
    assert ">invoices<" in response.text
    assert "merger-project" not in response.text
    assert "unused" not in response.text
    # Asking for it by name is a filter error, not a hint that it exists.
    response = agent_client.get(reverse("tickets:queue"), {"tag": "merger-project"})
    assert "tag" in response.context["filter"].form.errors


def test_supervisor_filter_offers_every_tag(client, supervisor, ticket, other_pool, other_customer):
    hidden = services.create_ticket(subject="Hidden", pool=other_pool, requester=other_customer)
    services.set_tags(hidden, names=["merger-project"], actor=None)
    client.force_login(supervisor)
    assert "merger-project" in client.get(reverse("tickets:queue"), {"tab": "all"}).text


def test_queue_filters_offer_only_my_pools_and_their_agents(
    agent_client, agent, ticket, other_pool, other_agent
):
    response = agent_client.get(reverse("tickets:queue"))
    form = response.context["filter"].form
    assert list(form.fields["pool"].queryset) == [ticket.pool]
    assert set(form.fields["assignee"].queryset) == {agent}
    assert f">{other_agent.first_name}<" not in response.text
    assert f">{other_pool.name}<" not in response.text
    response = agent_client.get(reverse("tickets:queue"), {"assignee": other_agent.pk})
    assert "assignee" in response.context["filter"].form.errors


def test_portal_refuses_an_inactive_department(customer_client, pool):
    closed_pool = PoolFactory(name="Closed", active=False)
    data = {
        "pool": closed_pool.pk,
        "priority": 2,
        "subject": "Help",
        "description": "Please",
    }
    response = customer_client.post(reverse("portal:new"), data)
    assert response.status_code in (200, 400)
    assert "pool" in response.context["form"].errors
    assert not closed_pool.tickets.exists()


def test_a_substitute_may_filter_by_the_agent_they_cover(
    agent_client, agent, other_agent, make_absence
):
    make_absence(other_agent, substitute=agent)
    response = agent_client.get(reverse("tickets:queue"), {"assignee": other_agent.pk})
    assert "assignee" not in response.context["filter"].form.errors
