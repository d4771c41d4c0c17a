"""Creating tickets and every change of state, assignment or classification."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from people.roles import is_agent, is_junior
from tickets import signals
from tickets.models import ActivityLog, Approval, Message, PoolMembership, Tag, Ticket
from tickets.services.audit import activity_row, announce, log_activities, log_activity
from tickets.services.numbering import next_ticket_number
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


@transaction.atomic
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
    """Open a numbered ticket in ``pool``; logs it, announces ``tickets_created`` after commit."""
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
    announce(signals.tickets_created, tickets=[ticket], actor=actor)
    return ticket


@transaction.atomic
def change_status(
    ticket: Ticket, *, to: str, actor, reason: str = "", check_close: bool = True
) -> Ticket:
    """Move a ticket along the status machine; refuses a transition the machine forbids.

    Sets the resolved/closed timestamps, counts reopens, logs and announces ``statuses_changed``.
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
    announce(
        signals.statuses_changed, changes=[signals.StatusChange(ticket, before, to)], actor=actor
    )
    return ticket


def _check_member(agent, pool_id) -> None:
    if not PoolMembership.objects.filter(user=agent, pool_id=pool_id).exists():
        raise ValidationError(
            _("%(agent)s is not a member of this ticket's pool.") % {"agent": _display(agent)}
        )


@transaction.atomic
def assign_ticket(ticket: Ticket, *, agent, actor, told: bool = False) -> Ticket:
    """Give the ticket to ``agent`` (a member of its pool) or, with None, back to the pool.

    A new ticket becomes taken; an unassigned taken ticket goes back to new. ``told``: the
    caller mails the agent itself, so the event carries no "assigned to me" mail.
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
    ids = (before.pk if before else None, agent.pk if agent else None)
    assignment = signals.Assignment(ticket, *ids, told=told)
    announce(signals.tickets_assigned, changes=[assignment], actor=actor)
    if agent is not None and ticket.status == Status.NEW:
        ticket = change_status(ticket, to=Status.TAKEN, actor=actor)
    elif agent is None and ticket.status in (Status.TAKEN, Status.IN_PROGRESS):
        ticket = change_status(ticket, to=Status.NEW, actor=actor)
    return ticket


@transaction.atomic
def take_ticket(ticket: Ticket, *, agent) -> Ticket:
    """The Take button: ``agent`` assigns an unassigned ticket to themself.

    Refuses when someone else took it first (the row is locked, so two agents pressing Take
    at once get one winner); otherwise the same checks and events as ``assign_ticket``.
    """
    ticket = _locked(ticket)
    if ticket.assignee_id and ticket.assignee_id != agent.pk:
        raise ValidationError(
            _("%(agent)s has already taken this ticket.") % {"agent": _display(ticket.assignee)}
        )
    return assign_ticket(ticket, agent=agent, actor=agent)


@transaction.atomic
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


@transaction.atomic
def update_ticket(ticket: Ticket, *, actor, **changes) -> Ticket:
    """Change priority, topic, product or pool; one log row and one event per changed field.

    Moving to another pool drops an assignee who is not a member there.
    """
    unknown = set(changes) - set(_FIELD_ACTIONS)
    if unknown:
        raise ValueError(f"update_ticket cannot change {sorted(unknown)}")
    ticket = _locked(ticket)
    changed, events = [], []
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
        events.append(signals.FieldChange(ticket, field, before, _label(ticket, field)))
    if not changed:
        return ticket
    announce(signals.tickets_updated, changes=events, actor=actor)
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=[*changed, "updated_at"])
    if (
        "pool" in changed
        and ticket.assignee_id
        and not PoolMembership.objects.filter(user_id=ticket.assignee_id, pool=ticket.pool).exists()
    ):
        ticket = assign_ticket(ticket, agent=None, actor=actor)
    return ticket


@transaction.atomic
def add_watcher(ticket: Ticket, *, user, actor) -> None:
    """Let ``user`` follow the ticket (they must be able to see it)."""
    if not Ticket.objects.visible_to(user).filter(pk=ticket.pk).exists():
        raise ValidationError(_("%(user)s cannot see this ticket.") % {"user": _display(user)})
    if ticket.watchers.filter(pk=user.pk).exists():
        return
    ticket.watchers.add(user)
    log_activity(ticket, actor=actor, action=Action.WATCHER_ADDED, after=_display(user))


@transaction.atomic
def remove_watcher(ticket: Ticket, *, user, actor) -> None:
    if not ticket.watchers.filter(pk=user.pk).exists():
        return
    ticket.watchers.remove(user)
    log_activity(ticket, actor=actor, action=Action.WATCHER_REMOVED, before=_display(user))


@transaction.atomic
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


@transaction.atomic
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
    announce(signals.tickets_merged, merges=[signals.Merge(source, into)], actor=actor)
    return into


@transaction.atomic
def link_tickets(pairs, *, actor, reason: str = "") -> None:
    """Link each (ticket, other) pair both ways (e.g. a stranger's mail about someone else's
    ticket), for one pair or a batch's worth in the same three queries.

    Logs LINKED on both; a pair linked already changes nothing. ``reason`` is stored as
    written (system reasons untranslated, see ActivityLog.detail_label).
    """
    wanted: dict[tuple[int, int], tuple[Ticket, Ticket]] = {}
    for one, two in pairs:
        if one.pk != two.pk:
            wanted.setdefault((min(one.pk, two.pk), max(one.pk, two.pk)), (one, two))
    if not wanted:
        return
    link = Ticket.linked_tickets.through
    ids = {pk for key in wanted for pk in key}
    existing = set(
        link.objects.filter(from_ticket_id__in=ids, to_ticket_id__in=ids).values_list(
            "from_ticket_id", "to_ticket_id"
        )
    )
    ways = [
        way
        for key, (one, two) in wanted.items()
        if key not in existing
        for way in ((one, two), (two, one))
    ]
    link.objects.bulk_create([link(from_ticket_id=a.pk, to_ticket_id=b.pk) for a, b in ways])
    log_activities(
        [
            activity_row(a, actor=actor, action=Action.LINKED, after=b.number, detail=reason)
            for a, b in ways
        ]
    )


@transaction.atomic
def assign(ticket: Ticket, *, agent, manager, actor) -> Ticket:
    """The assign form: the technician and the customer-side manager, one transaction.

    A refused technician (not in the pool) leaves the manager unchanged too.
    """
    ticket = assign_ticket(ticket, agent=agent, actor=actor)
    return set_manager(ticket, manager=manager, actor=actor)
