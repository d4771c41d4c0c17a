"""A burst of notices to one agent (a flood routed to them) is one mail listing them."""

import pytest

from mailboxes.agent_notifications import queue_agent_notices
from mailboxes.models import NotificationPreference, NotificationRule, OutgoingEmail
from mailboxes.notifications import Notice, notify
from mailboxes.preferences import AgentNotice
from tests.conftest import _agent
from tests.factories import TicketFactory

Event = NotificationRule.Event
Topic = NotificationPreference.Topic


@pytest.fixture
def bruno(pool):
    return _agent("bruno", pools=[pool])


def _to(user) -> list[OutgoingEmail]:
    return list(OutgoingEmail.objects.filter(to=[user.email]).order_by("pk"))


def _assigned(agent, pool, n):
    return [TicketFactory(pool=pool, assignee=agent, subject=f"Invoice {i}") for i in range(n)]


def test_five_assignments_in_one_go_are_one_mail_listing_each_ticket(agent, pool, settings):
    settings.NOTIFICATION_BURST_SIZE = 5
    tickets = _assigned(agent, pool, 5)
    queue_agent_notices([AgentNotice(agent, ticket, Topic.ASSIGNED) for ticket in tickets])
    [mail] = _to(agent)
    assert mail.subject == "5 notifications: Ticket assigned to me"
    assert mail.internal and mail.ticket_id is None and not mail.reply_to
    for ticket in tickets:
        assert f"{ticket.number} — {ticket.subject}" in mail.body_text
        assert f"/tickets/{ticket.number}/" in mail.body_text


def test_fewer_than_the_burst_size_are_a_mail_each(agent, pool, settings):
    settings.NOTIFICATION_BURST_SIZE = 5
    tickets = _assigned(agent, pool, 4)
    queue_agent_notices([AgentNotice(agent, ticket, Topic.ASSIGNED) for ticket in tickets])
    mails = _to(agent)
    assert [mail.ticket_id for mail in mails] == [ticket.pk for ticket in tickets]


def test_each_agent_counts_alone(agent, bruno, pool, settings):
    settings.NOTIFICATION_BURST_SIZE = 3
    notices = [AgentNotice(agent, t, Topic.ASSIGNED) for t in _assigned(agent, pool, 3)]
    notices += [AgentNotice(bruno, t, Topic.ASSIGNED) for t in _assigned(bruno, pool, 2)]
    queue_agent_notices(notices)
    assert len(_to(agent)) == 1
    assert len(_to(bruno)) == 2


def test_a_burst_size_of_zero_never_folds(agent, pool, settings):
    settings.NOTIFICATION_BURST_SIZE = 0
    tickets = _assigned(agent, pool, 8)
    queue_agent_notices([AgentNotice(agent, ticket, Topic.ASSIGNED) for ticket in tickets])
    assert len(_to(agent)) == 8


def test_customer_messages_on_many_of_an_agents_tickets_are_one_mail_in_their_language(
    agent, pool, settings
):
    settings.NOTIFICATION_BURST_SIZE = 5
    profile = agent.agent_profile
    profile.language = "pl"
    profile.save()
    tickets = _assigned(agent, pool, 6)
    notify(
        Event.CUSTOMER_MESSAGE,
        [Notice(ticket, message_text=f"Any news on {ticket.number}?") for ticket in tickets],
    )
    [mail] = _to(agent)
    assert mail.subject.startswith("6 powiadomień: ")
    assert "przyszło w tej samej chwili" in mail.body_text
    for ticket in tickets:
        assert f"Any news on {ticket.number}?" in mail.body_text


def test_a_substitutes_burst_says_whom_they_stand_in_for(
    agent, bruno, pool, settings, make_absence
):
    settings.NOTIFICATION_BURST_SIZE = 3
    make_absence(agent, substitute=bruno)
    tickets = _assigned(agent, pool, 3)
    queue_agent_notices([AgentNotice(agent, ticket, Topic.ASSIGNED) for ticket in tickets])
    assert _to(agent) == []
    [mail] = _to(bruno)
    assert "you stand in for Agent" in mail.body_text
    assert mail.body_text.count("/tickets/") == 3


# --- a flood nobody is told of costs no notification job ------------------------------------


def test_nobody_hears_of_new_tickets_without_a_rule_or_a_member_who_chose_to(
    agent, pool, other_pool
):
    from mailboxes.notifications import anyone_hears_of_opened

    assert anyone_hears_of_opened({pool.pk}) is False  # the default: off
    NotificationPreference.objects.create(user=agent, new_ticket="off")
    assert anyone_hears_of_opened({pool.pk}) is False


@pytest.mark.parametrize("delivery", ["immediate", "digest"])
def test_a_member_who_chose_to_hear_of_new_tickets_is_told(agent, pool, other_pool, delivery):
    from mailboxes.notifications import anyone_hears_of_opened

    NotificationPreference.objects.create(user=agent, new_ticket=delivery)
    assert anyone_hears_of_opened({pool.pk}) is True
    assert anyone_hears_of_opened({other_pool.pk}) is False  # not a member there


def test_a_ticket_opened_rule_tells_whoever_it_names(pool):
    from mailboxes.notifications import anyone_hears_of_opened

    NotificationRule.objects.filter(event=Event.TICKET_OPENED, pool=None).update(enabled=True)
    assert anyone_hears_of_opened({pool.pk}) is True


def test_a_batch_nobody_hears_of_queues_no_notification_job(
    mailbox, agent, django_capture_on_commit_callbacks, monkeypatch
):
    import mailboxes.tasks
    from mailboxes.processing import process_raw_messages
    from tests.mailboxes.test_processing import build_mail, store_raw

    queued = []
    monkeypatch.setattr(
        mailboxes.tasks.notify_tickets_opened_task, "delay", lambda *args: queued.append(args)
    )
    mail = build_mail(subject="Printer", message_id="<quiet@example.test>")
    with django_capture_on_commit_callbacks(execute=True):
        process_raw_messages([store_raw(mailbox, mail).pk])
    assert queued == []
    NotificationPreference.objects.create(user=agent, new_ticket="immediate")
    mail = build_mail(subject="Scanner", message_id="<heard@example.test>")
    with django_capture_on_commit_callbacks(execute=True):
        process_raw_messages([store_raw(mailbox, mail).pk])
    assert len(queued) == 1
