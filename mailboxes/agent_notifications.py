"""The agents' notifications that no admin rule governs: assigned to me, and mentions.

Each goes by the agent's own choice (``mailboxes.preferences``): at once as one mail per
agent and ticket, in their digest, or not at all; to their substitute while they are away.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from mailboxes.edited_mail import name_of
from mailboxes.emails import RenderedEmail, language_of, render_files
from mailboxes.models import NotificationPreference, OutgoingEmail
from mailboxes.notifications import (
    AutomaticMail,
    burst_mail,
    queue_automatic_emails,
    ticket_link,
)
from mailboxes.preferences import (
    AgentNotice,
    Delivered,
    fold_bursts,
    plan_deliveries,
    render_each,
)
from tickets.mentions import mentioned_agents
from tickets.models import Message

Topic = NotificationPreference.Topic

SENTENCES: dict[str, Any] = {
    Topic.NEW_TICKET: _("A new ticket was opened in your pool."),
    Topic.ASSIGNED: _("The ticket was assigned to you."),
    Topic.CUSTOMER_REPLIED: _("The customer wrote a new message on your ticket."),
    Topic.MENTION: _("%(actor)s mentioned you in an internal note."),
    Topic.SLA_WARNING: _("A deadline of your ticket is near or missed."),
}


def address_of(user) -> str:
    return user.email.strip().lower()


def agent_email(item: Delivered, *, actor=None) -> RenderedEmail:
    """One agent's mail about a notice, in the reader's language."""
    notice = item.notice
    topic = Topic(notice.topic or "")
    with translation.override(language_of(item.reader)):
        context = {
            "ticket": notice.ticket,
            "recipient_name": name_of(item.reader),
            "topic_label": str(topic.label),
            "sentence": str(SENTENCES[topic]) % {"actor": name_of(actor) or _("An agent")},
            "detail": notice.detail,
            "on_behalf_of": name_of(item.on_behalf_of),
            "link": ticket_link(notice.ticket),
        }
        return render_files("mailboxes/emails/agent_notification", context)


def queue_agent_notices(notices: list[AgentNotice], *, actor=None, now=None) -> list[OutgoingEmail]:
    """Mail (or store for the digest) what each notice's agent chose; the outbox rows."""
    singles, bursts = fold_bursts(plan_deliveries(notices, actor=actor, now=now))
    rendered = render_each(singles, lambda item: agent_email(item, actor=actor))
    mails = [
        AutomaticMail(address_of(item.reader), mail, ticket=item.notice.ticket, to_customer=False)
        for item, mail in rendered
    ]
    for items in bursts:
        burst = burst_mail(
            items,
            address_of(items[0].reader),
            lambda item: (Topic(item.notice.topic or "").label, item.notice.detail),
        )
        mails += [burst] if burst else []
    return queue_automatic_emails(mails) if mails else []


def notify_assigned(changes, *, actor=None, now=None) -> list[OutgoingEmail]:
    """ "Assigned to me" for each ``Assignment`` to an agent; a fixed number of queries."""
    targets = [
        (change.ticket, change.after)
        for change in changes
        if change.after is not None and not change.told
    ]
    if not targets:
        return []
    ids = {user_id for _ticket, user_id in targets}
    users = (
        get_user_model()
        .objects.filter(pk__in=ids, is_active=True)
        .select_related("agent_profile")
        .in_bulk()
    )
    notices = [
        AgentNotice(users[user_id], ticket, Topic.ASSIGNED)
        for ticket, user_id in targets
        if user_id in users
    ]
    return queue_agent_notices(notices, actor=actor, now=now)


def notify_mentions(messages, *, actor=None, now=None) -> list[OutgoingEmail]:
    """ "Mentioned" for the agents each internal note names (``tickets.mentions``)."""
    notes = [message for message in messages if message.kind == Message.Kind.NOTE]
    found = mentioned_agents(notes) if notes else {}
    notices = [
        AgentNotice(user, note.ticket, Topic.MENTION, detail=note.body_text)
        for note in notes
        for user in found.get(note.pk, [])
    ]
    return queue_agent_notices(notices, actor=actor, now=now) if notices else []
