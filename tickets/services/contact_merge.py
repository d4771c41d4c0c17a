"""Merging two contacts that turned out to be one person (contact B into contact A).

Everything that points at B moves to A: tickets, messages, email addresses, phone
numbers, and whatever other apps hang on a contact (chat conversations, calls, survey
answers...). Those are found through Django's model registry, the reverse relations of
``Contact``, so neither ``people`` nor ``tickets`` imports the apps above them, and an app
added later is covered without a hook. B stays, marked ``merged_into`` A, so an old link
to it leads to A. The portal login moves too, unless both have one (refused: someone has
to decide which login the person keeps). A model that must not simply move says so with a
classmethod ``on_contact_merge(source=, into=, actor=)`` that the merge calls instead
(and an optional ``contact_merge_note`` for the preview): the API's app sessions of B are
signed out there, not handed to A.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from people.models import Contact
from people.roles import sees_all_pools
from tickets.models import ActivityLog, Ticket
from tickets.services.audit import activity_row, log_activities

MERGED_DETAIL = gettext_noop("The requester's contact was merged into another contact.")


def may_merge_contacts(user) -> bool:
    """Supervisors and admins: a merge moves tickets of every pool, which agents may not see."""
    return user.is_authenticated and (user.is_superuser or sees_all_pools(user))


def _relations():
    """Every relation pointing at Contact from another row (hidden ones too, e.g. "+")."""
    return [
        field
        for field in Contact._meta.get_fields(include_hidden=True)
        if (field.one_to_many or field.one_to_one) and field.auto_created and not field.concrete
    ]


@dataclass
class MovingPart:
    label: str
    count: int


def merge_preview(source: Contact, *, into: Contact) -> list[MovingPart]:
    """What a merge would move, by kind of row, with counts (only the kinds that have some)."""
    parts = []
    for relation in _relations():
        model, name = relation.related_model, relation.field.name
        count = model._default_manager.filter(**{name: source}).count()
        if count:
            label = str(model._meta.verbose_name_plural).capitalize()
            note = getattr(model, "contact_merge_note", "")
            parts.append(MovingPart(f"{label} ({note})" if note else label, count))
    if source.user_id:
        parts.append(MovingPart(_("Portal login"), 1))
    return parts


def check_merge(source: Contact, *, into: Contact) -> None:
    """Refuse a merge that cannot be done (same contact, merged already, two logins)."""
    if source.pk == into.pk:
        raise ValidationError(_("A contact cannot be merged into itself."))
    if source.merged_into_id or into.merged_into_id:
        raise ValidationError(_("This contact was merged already."))
    if source.user_id and into.user_id:
        raise ValidationError(
            _(
                "Both contacts have a portal login. Remove one of them first (admin), so the "
                "person keeps the login they use."
            )
        )


@transaction.atomic
def merge_contacts(source: Contact, *, into: Contact, actor) -> Contact:
    """Move everything of ``source`` to ``into`` and mark ``source`` merged; returns ``into``.

    Logged on each ticket that changes requester (one INSERT). Both rows are locked, so two
    agents merging at once cannot split a contact's rows between two targets.
    """
    locked = {
        c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=[source.pk, into.pk])
    }
    source, into = locked[source.pk], locked[into.pk]
    check_merge(source, into=into)
    moved_tickets = list(Ticket.objects.filter(requester=source).only("pk", "number"))
    for relation in _relations():
        model, name = relation.related_model, relation.field.name
        hook = getattr(model, "on_contact_merge", None)
        if hook is not None:
            hook(source=source, into=into, actor=actor)
        else:
            model._default_manager.filter(**{name: source}).update(**{name: into})
    # Their requester changed: the search's catch-up rebuilds their documents (names, addresses).
    Ticket.objects.filter(pk__in=[t.pk for t in moved_tickets]).update(updated_at=timezone.now())
    if source.user_id:
        user_id, source.user = source.user_id, None
        source.save(update_fields=["user"])
        into.user_id = user_id
        into.save(update_fields=["user"])
    # One primary address: A's stays primary, B's become secondary.
    if into.emails.filter(is_primary=True).count() > 1:
        into.emails.exclude(pk=into.emails.filter(is_primary=True).order_by("pk")[0].pk).update(
            is_primary=False
        )
    for field in ("organization", "sector", "language", "role"):
        if not getattr(into, field) and getattr(source, field):
            setattr(into, field, getattr(source, field))
            into.save(update_fields=[field])
    source.merged_into = into
    source.save(update_fields=["merged_into"])
    log_activities(
        [
            activity_row(
                ticket,
                actor=actor,
                action=ActivityLog.Action.REQUESTER_MERGED,
                before=f"{source.name} ({source.pk})",
                after=f"{into.name} ({into.pk})",
                detail=MERGED_DETAIL,
            )
            for ticket in moved_tickets
        ]
    )
    return into
