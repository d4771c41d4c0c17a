"""Creating tickets and every change of state, assignment or classification."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from people.roles import is_agent, is_junior
from tickets import signals
from tickets.models import ActivityLog, Approval, Message, PoolMembership, Tag, Ticket
from tickets.services.audit import activity_row, announce, log_activities, log_activity
from tickets.services.numbering import next_ticket_number
from tickets.services.transactions import service_atomic
from tickets.states import HELD_STATUSES, OPEN_STATUSES, Channel, Status, can_transition

Action = ActivityLog.Action
# Stored untranslated in the log and translated for each reader (see ActivityLog.detail_label).
MERGED_REASON = gettext_noop("Merged into another ticket.")
# A junior's reply holds the status it sets (approve_reply applies it): while it waits, the
# junior cannot reach the customer or the SLA another way (status form, disposition form,
# merge), and no one can merge the ticket away from under it.
PENDING_REPLY_REFUSAL = gettext_lazy(
    "A reply on this ticket is waiting for approval. Choose the status with the reply: "
    "it is applied when a supervisor approves it."
)


def _locked(ticket: Ticket) -> Ticket:
    """The current row, locked until commit, so concurrent changes apply one after another."""
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _awaits_approval(ticket: Ticket) -> bool:
    return Message.objects.filter(ticket=ticket, approval=Approval.PENDING).exists()


def _display(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


@service_atomic
def create_ticket(
    *,
    subject: str,
    pool,
    requester=None,
    topic=None,
    product=None,
    priority: int | None = None,
    channel: str = Channel.EMAIL,
    actor=None,
    created_at=None,
) -> Ticket:
    """Open a numbered ticket in ``pool``; logs it and announces ``ticket_created`` after commit."""
    now = created_at or timezone.now()
    if priority is None:
        priority = topic.default_priority if topic else Ticket._meta.get_field("priority").default
    ticket = Ticket.objects.create(
        number=next_ticket_number(now),
        subject=subject.strip()[:255] or _("(no subject)"),
        pool=pool,
        requester=requester,
        topic=topic,
        product=product,
        priority=priority,
        channel=channel,
        created_at=now,
        updated_at=now,
    )
    log_activity(ticket, actor=actor, action=Action.CREATED, after=ticket.number)
    announce(signals.ticket_created, ticket=ticket, actor=actor)
    return ticket


@service_atomic
def change_status(
    ticket: Ticket, *, to: str, actor, reason: str = "", check_close: bool = True
) -> Ticket:
    """Move a ticket along the status machine; refuses a transition the machine forbids.

    Sets the resolved/closed timestamps, counts reopens, logs and announces ``status_changed``.
    An agent resolving or closing asks ``close_requested`` first: a receiver may refuse
    (the pool's disposition form). Only a merge skips it (``check_close=False``): the work
    goes on in the target ticket.
    """
    ticket = _locked(ticket)
    before = ticket.status
    if before == to:
        return ticket
    if not can_transition(before, to):
        raise ValidationError(
            _("A ticket cannot go from “%(before)s” to “%(after)s”.")
            % {"before": Status(before).label, "after": Status(to).label}
        )
    if to == Status.TAKEN and not ticket.assignee_id:
        raise ValidationError(_("Assign a technician before marking the ticket taken."))
    if to in HELD_STATUSES and actor is not None and is_junior(actor) and _awaits_approval(ticket):
        raise ValidationError(PENDING_REPLY_REFUSAL)
    if check_close and to in (Status.RESOLVED, Status.CLOSED) and actor and is_agent(actor):
        signals.close_requested.send(sender=Ticket, ticket=ticket, actor=actor, to=to)
    now = timezone.now()
    fields = ["status", "updated_at"]
    if to == Status.NEW and ticket.assignee_id:
        ticket.assignee = None
        fields.append("assignee")
    if to == Status.RESOLVED:
        ticket.resolved_at = now
        fields.append("resolved_at")
    if to in (Status.CLOSED, Status.CANCELLED):
        ticket.closed_at = now
        fields.append("closed_at")
    if before in (Status.RESOLVED, Status.CLOSED) and to in OPEN_STATUSES:
        ticket.reopen_count += 1
        ticket.resolved_at = ticket.closed_at = None
        fields += ["reopen_count", "resolved_at", "closed_at"]
        log_activity(ticket, actor=actor, action=Action.REOPENED, detail=reason)
    ticket.status = to
    ticket.updated_at = now
    ticket.save(update_fields=fields)
    log_activity(ticket, actor=actor, action=Action.STATUS, before=before, after=to, detail=reason)
    announce(signals.status_changed, ticket=ticket, actor=actor, before=before, after=to)
    return ticket


def _check_member(agent, pool_id) -> None:
    if not PoolMembership.objects.filter(user=agent, pool_id=pool_id).exists():
        raise ValidationError(
            _("%(agent)s is not a member of this ticket's pool.") % {"agent": _display(agent)}
        )


@service_atomic
def assign_ticket(ticket: Ticket, *, agent, actor) -> Ticket:
    """Give the ticket to ``agent`` (a member of its pool) or, with None, back to the pool.

    A new ticket becomes taken; an unassigned taken ticket goes back to new.
    """
    ticket = _locked(ticket)
    before = ticket.assignee
    if (before.pk if before else None) == (agent.pk if agent else None):
        return ticket
    if agent is not None:
        _check_member(agent, ticket.pool_id)
    ticket.assignee = agent
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=["assignee", "updated_at"])
    log_activity(
        ticket, actor=actor, action=Action.ASSIGNED, before=_display(before), after=_display(agent)
    )
    announce(
        signals.ticket_assigned,
        ticket=ticket,
        actor=actor,
        before=before.pk if before else None,
        after=agent.pk if agent else None,
    )
    if agent is not None and ticket.status == Status.NEW:
        ticket = change_status(ticket, to=Status.TAKEN, actor=actor)
    elif agent is None and ticket.status in (Status.TAKEN, Status.IN_PROGRESS):
        ticket = change_status(ticket, to=Status.NEW, actor=actor)
    return ticket


@service_atomic
def set_manager(ticket: Ticket, *, manager, actor) -> Ticket:
    """Set the person who follows the ticket on the customer's side of the house."""
    ticket = _locked(ticket)
    before = ticket.manager
    if before == manager:
        return ticket
    ticket.manager = manager
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=["manager", "updated_at"])
    log_activity(
        ticket, actor=actor, action=Action.MANAGER, before=_display(before), after=_display(manager)
    )
    return ticket


_FIELD_ACTIONS = {
    "priority": Action.PRIORITY,
    "topic": Action.TOPIC,
    "product": Action.PRODUCT,
    "pool": Action.POOL,
}


def _label(ticket: Ticket, field: str) -> str:
    # Priority is logged as its number and shown as a label in the reader's language.
    if field == "priority":
        return str(ticket.priority)
    return str(getattr(ticket, field) or "")


@service_atomic
def update_ticket(ticket: Ticket, *, actor, **changes) -> Ticket:
    """Change priority, topic, product or pool; one log row and one event per changed field.

    Moving to another pool drops an assignee who is not a member there.
    """
    unknown = set(changes) - set(_FIELD_ACTIONS)
    if unknown:
        raise ValueError(f"update_ticket cannot change {sorted(unknown)}")
    ticket = _locked(ticket)
    changed = []
    for field, value in changes.items():
        current = getattr(ticket, f"{field}_id" if field != "priority" else field)
        new = value.pk if hasattr(value, "pk") else value
        if current == new:
            continue
        before = _label(ticket, field)
        setattr(ticket, field, value)
        changed.append(field)
        log_activity(
            ticket,
            actor=actor,
            action=_FIELD_ACTIONS[field],
            before=before,
            after=_label(ticket, field),
        )
        announce(
            signals.ticket_updated,
            ticket=ticket,
            actor=actor,
            field=field,
            before=before,
            after=_label(ticket, field),
        )
    if not changed:
        return ticket
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=[*changed, "updated_at"])
    if (
        "pool" in changed
        and ticket.assignee_id
        and not PoolMembership.objects.filter(user_id=ticket.assignee_id, pool=ticket.pool).exists()
    ):
        ticket = assign_ticket(ticket, agent=None, actor=actor)
    return ticket


@service_atomic
def add_watcher(ticket: Ticket, *, user, actor) -> None:
    """Let ``user`` follow the ticket (they must be able to see it)."""
    if not Ticket.objects.visible_to(user).filter(pk=ticket.pk).exists():
        raise ValidationError(_("%(user)s cannot see this ticket.") % {"user": _display(user)})
    if ticket.watchers.filter(pk=user.pk).exists():
        return
    ticket.watchers.add(user)
    log_activity(ticket, actor=actor, action=Action.WATCHER_ADDED, after=_display(user))


@service_atomic
def remove_watcher(ticket: Ticket, *, user, actor) -> None:
    if not ticket.watchers.filter(pk=user.pk).exists():
        return
    ticket.watchers.remove(user)
    log_activity(ticket, actor=actor, action=Action.WATCHER_REMOVED, before=_display(user))


@service_atomic
def set_tags(ticket: Ticket, *, names: list[str], actor) -> None:
    """Make the ticket's tags exactly ``names``; logs each tag added or removed."""
    wanted = {name.strip().lower() for name in names if name.strip()}
    current = {tag.name: tag for tag in ticket.tags.all()}
    for name in sorted(wanted - current.keys()):
        tag, _created = Tag.objects.get_or_create(name=name)
        ticket.tags.add(tag)
        log_activity(ticket, actor=actor, action=Action.TAG_ADDED, after=name)
    for name in sorted(current.keys() - wanted):
        ticket.tags.remove(current[name])
        log_activity(ticket, actor=actor, action=Action.TAG_REMOVED, before=name)


@service_atomic
def merge_tickets(source: Ticket, *, into: Ticket, actor) -> Ticket:
    """Move ``source``'s messages, attachments, watchers and tags into ``into`` and close it.

    Both tickets must be visible to the actor. Returns the target.
    """
    if source.pk == into.pk:
        raise ValidationError(_("A ticket cannot be merged into itself."))
    visible = Ticket.objects.visible_to(actor).filter(pk__in=[source.pk, into.pk]).count()
    if visible != 2:
        raise PermissionDenied
    # Lock both rows in a fixed order so two crossed merges cannot deadlock.
    locked = {
        t.pk: t
        for t in Ticket.objects.select_for_update()
        .filter(pk__in=[source.pk, into.pk])
        .order_by("pk")
    }
    source, into = locked[source.pk], locked[into.pk]
    if source.merged_into_id:
        raise ValidationError(_("This ticket was already merged."))
    if _awaits_approval(source):
        # Its held status would land on the other ticket, and closing the source would
        # stop its SLA before the customer got the answer.
        raise ValidationError(PENDING_REPLY_REFUSAL)
    source.messages.update(ticket=into)
    source.attachments.update(ticket=into)
    into.watchers.add(*source.watchers.all())
    into.tags.add(*source.tags.all())
    source.merged_into = into
    source.save(update_fields=["merged_into"])
    log_activity(
        into,
        actor=actor,
        action=Action.MERGED,
        before=source.number,
        after=into.number,
        detail=_("Ticket %(number)s merged into this one.") % {"number": source.number},
    )
    log_activity(source, actor=actor, action=Action.MERGED, before=source.number, after=into.number)
    if source.status != Status.CLOSED:
        if not can_transition(source.status, Status.CLOSED):
            raise ValidationError(_("This ticket cannot be closed, so it cannot be merged."))
        change_status(
            source,
            to=Status.CLOSED,
            actor=actor,
            reason=_("Merged into %(number)s") % {"number": into.number},
            check_close=False,
        )
    into.updated_at = timezone.now()
    into.save(update_fields=["updated_at"])
    announce(signals.ticket_merged, ticket=source, actor=actor, target=into)
    return into


@service_atomic
def link_tickets(ticket: Ticket, other: Ticket, *, actor, reason: str = "") -> None:
    """Link two tickets both ways (e.g. a stranger's mail about someone else's ticket).

    Logs LINKED on both; linking twice changes nothing. ``reason`` is stored as written
    (system reasons untranslated, see ActivityLog.detail_label).
    """
    if ticket.pk == other.pk or ticket.linked_tickets.filter(pk=other.pk).exists():
        return
    ticket.linked_tickets.add(other)
    for one, two in ((ticket, other), (other, ticket)):
        log_activity(one, actor=actor, action=Action.LINKED, after=two.number, detail=reason)


def link_new_tickets(pairs: list[tuple[Ticket, Ticket]], *, actor, reason: str = "") -> None:
    """link_tickets for (new ticket, other) pairs, the new ones made in this transaction.

    A new ticket has no link yet: one INSERT for the links (both ways), one for the rows.
    """
    pairs = [(new, other) for new, other in pairs if new.pk != other.pk]
    through = Ticket.linked_tickets.through
    through.objects.bulk_create(
        through(from_ticket_id=one.pk, to_ticket_id=two.pk)
        for new, other in pairs
        for one, two in ((new, other), (other, new))
    )
    log_activities(
        [
            activity_row(one, actor=actor, action=Action.LINKED, after=two.number, detail=reason)
            for new, other in pairs
            for one, two in ((new, other), (other, new))
        ]
    )
