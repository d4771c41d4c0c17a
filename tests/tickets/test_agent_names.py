"""Every selector of agents shows their names, never their user names."""

from django.urls import reverse

from tests.conftest import _agent
from tests.factories import TicketFactory


def _named(pool):
    person = _agent("jsmith", pools=[pool])
    person.first_name, person.last_name = "Joanna", "Smith"
    person.save(update_fields=["first_name", "last_name"])
    return person


def test_the_queue_filter_and_bulk_bar_show_names(agent_client, pool):
    _named(pool)
    page = agent_client.get(reverse("tickets:queue")).text
    assert page.count(">Joanna Smith</option>") == 2  # the Technician filter and bulk assign
    assert ">jsmith<" not in page


def test_the_ticket_pages_assign_form_shows_names(agent_client, pool):
    _named(pool)
    ticket = TicketFactory(pool=pool)
    form = agent_client.get(reverse("tickets:sidebar_form", args=[ticket.number, "assign"])).text
    assert ">Joanna Smith</option>" in form
    assert ">jsmith<" not in form


def test_the_overdue_dashboard_filter_shows_names(client, supervisor, pool):
    _named(pool)
    client.force_login(supervisor)
    page = client.get(reverse("sla:overdue")).text
    assert ">Joanna Smith</option>" in page
    assert ">jsmith<" not in page
