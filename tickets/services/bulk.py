"""Bulk changes from the queue: each ticket goes through the service that changes it alone."""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from tickets.models import Ticket
from tickets.services.lifecycle import assign_ticket, change_status, merge_tickets, update_ticket
from tickets.services.lifecycle import set_tags as set_ticket_tags


@dataclass
class BulkOutcome:
    """What a bulk action did: the numbers it changed, left as they were, and refused (why)."""

    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def _tag_names(ticket: Ticket) -> set[str]:
    return {tag.name for tag in ticket.tags.all()}


def _apply(ticket: Ticket, action: str, value, actor) -> bool:
    """Change one ticket as its own page would; False when it already was as asked."""
    if action in ("assign", "assign_me"):
        if ticket.assignee_id == value.pk:
            return False
        assign_ticket(ticket, agent=value, actor=actor)
    elif action == "status":
        if ticket.status == value:
            return False
        change_status(ticket, to=value, actor=actor)
    elif action in ("priority", "pool"):
        field_value = ticket.priority if action == "priority" else ticket.pool_id
        if field_value == getattr(value, "pk", value):
            return False
        update_ticket(ticket, actor=actor, **{action: value})
    elif action in ("add_tags", "remove_tags"):
        current = _tag_names(ticket)
        names = {name.strip().lower() for name in value}
        wanted = current | names if action == "add_tags" else current - names
        if wanted == current:
            return False
        set_ticket_tags(ticket, names=sorted(wanted), actor=actor)
    elif action == "merge":
        if ticket.pk == value.pk:
            return False
        merge_tickets(ticket, into=value, actor=actor)
    else:
        raise ValueError(f"unknown bulk action {action!r}")
    return True


def apply_bulk_action(ticket_ids: list[int], *, action: str, value, actor) -> BulkOutcome:
    """Apply ``action`` (with ``value``) to each ticket of ``ticket_ids``, one at a time.

    Each ticket is checked as if changed alone (status machine, a junior's reply waiting for
    approval, pool membership, a required disposition): the services refuse, and the refusal
    undoes that ticket's change only (its own savepoint). Ids outside the actor's pools are
    refused unread. Events and mail follow each committed change as for a single change.
    """
    ids = list(dict.fromkeys(ticket_ids))
    visible = Ticket.objects.visible_to(actor).filter(pk__in=ids).prefetch_related("tags")
    by_id = {ticket.pk: ticket for ticket in visible}
    outcome = BulkOutcome()
    for pk in ids:
        ticket = by_id.get(pk)
        if ticket is None:
            # Not its number: a ticket outside the agent's pools tells them nothing.
            outcome.refused.append((f"#{pk}", _("Not found, or not in your pools.")))
            continue
        try:
            with transaction.atomic():
                changed = _apply(ticket, action, value, actor)
        except ValidationError as error:
            outcome.refused.append((ticket.number, " ".join(error.messages)))
        except (PermissionDenied, Http404):
            outcome.refused.append((ticket.number, _("You may not change this ticket.")))
        else:
            (outcome.changed if changed else outcome.unchanged).append(ticket.number)
    return outcome
