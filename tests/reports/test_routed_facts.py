"""A ticket routed as it is opened counts for its agent, from one refresh of its facts."""

import reports.services
from mailboxes.processing import process_raw_messages
from people.models import Skill
from reports.models import TicketFact
from tests.mailboxes.test_processing import build_mail, store_raw
from tickets.models import Ticket


def test_a_ticket_routed_at_intake_counts_for_its_agent_from_one_refresh(
    mailbox, agent, django_capture_on_commit_callbacks, eager_tasks, monkeypatch
):
    agent.agent_profile.skills.add(Skill.objects.create(name="Invoices", keywords="duplicidade"))
    refreshed: list[list[int]] = []
    real = reports.services.refresh_facts

    def counting(ticket_ids):
        refreshed.append(sorted(ticket_ids))
        return real(ticket_ids)

    monkeypatch.setattr(reports.services, "refresh_facts", counting)
    mail = build_mail(subject="Fatura em duplicidade", message_id="<routed@example.test>")
    with django_capture_on_commit_callbacks(execute=True):
        process_raw_messages([store_raw(mailbox, mail).pk])
    ticket = Ticket.objects.get()
    assert ticket.assignee_id == agent.pk
    assert TicketFact.objects.get(ticket=ticket).assignee_key == agent.pk
    assert refreshed == [[ticket.pk]]
