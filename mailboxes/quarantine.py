"""Mail held because it failed DMARC while claiming to come from a ticket's participant.

Processing holds it (``thread_matching.decide`` says "hold"): the RawMessage waits in state
``quarantined`` with the ticket it would have joined. Agents who see that ticket release it
(it is threaded as processing would have, with the DMARC hold lifted) or reject it (it
stays refused, with who and why). Both are safe to run twice: the second call finds the
row decided and changes nothing.
"""

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from mailboxes.authentication import dmarc_result
from mailboxes.models import RawMessage
from mailboxes.parsing import parse_message
from mailboxes.processing import finish, process_released
from tickets.models import ActivityLog, Ticket
from tickets.panels import Panel, PanelAction
from tickets.services.audit import log_activity

State = RawMessage.State
Reason = RawMessage.Reason
PANELS_SHOWN = 5
REJECTED = gettext_noop("Rejected by an agent: failed DMARC.")
MAX_PREVIEW_BYTES = 2**20


def held_mail_visible_to(user):
    """Held mail of the tickets ``user`` sees (their pools), newest first."""
    visible = Ticket.objects.visible_to(user).values("pk")
    return (
        RawMessage.objects.filter(state=State.QUARANTINED, ticket_id__in=visible)
        .select_related("ticket", "mailbox")
        .order_by("-received_at", "-pk")
    )


def get_held_mail_for(user, raw_message_id: int) -> RawMessage:
    """One held mail, or 404 when it is not held or ``user`` does not see its ticket."""
    return get_object_or_404(held_mail_visible_to(user), pk=raw_message_id)


def held_panels(ticket: Ticket) -> list[Panel]:
    """The ticket page's notice of each mail held on it (one query)."""
    held = list(
        RawMessage.objects.filter(ticket=ticket, state=State.QUARANTINED).order_by(
            "received_at", "pk"
        )[: PANELS_SHOWN + 1]
    )
    panels = [
        Panel(
            title=_("Mail held for review"),
            text=_(
                "A message claiming to be from %(sender)s failed the sender check (DMARC). "
                "It joins this ticket only if you release it."
            )
            % {"sender": raw.sender},
            url=reverse("mailboxes:held_detail", args=[raw.pk]),
            link_label=_("Read it"),
            tone="danger",
            key=f"held-{raw.pk}",
            actions=(
                PanelAction(_("Release"), reverse("mailboxes:release", args=[raw.pk]), "success"),
                PanelAction(_("Reject"), reverse("mailboxes:reject", args=[raw.pk]), "danger"),
            ),
        )
        for raw in held[:PANELS_SHOWN]
    ]
    if len(held) > PANELS_SHOWN:
        panels.append(
            Panel(
                title=_("More mail held"),
                url=reverse("mailboxes:held_list"),
                link_label=_("All held mail"),
                tone="danger",
                key="held-more",
            )
        )
    return panels


def preview(raw: RawMessage) -> dict:
    """What an agent reads before deciding: text, and the authentication verdict."""
    if raw.size > MAX_PREVIEW_BYTES:
        return {"text": "", "too_large": True, "dmarc": None, "headers": []}
    with raw.file.open("rb") as stored:
        parsed = parse_message(stored.read())
    try:
        headers = parsed.authentication_results
        return {
            "text": parsed.text[:20_000],
            "too_large": False,
            "dmarc": dmarc_result(headers, raw.mailbox.trusted_authserv_id),
            "headers": headers[:5],
        }
    finally:
        parsed.close()


def _claim(raw_message_id: int) -> RawMessage | None:
    return (
        RawMessage.objects.select_for_update(of=("self",))
        .select_related("mailbox__pool", "ticket")
        .filter(pk=raw_message_id, state=State.QUARANTINED)
        .first()
    )


def release_held_mail(raw_message_id: int, *, actor) -> RawMessage:
    """Thread a held mail as if it had passed; logs who released it on the held-on ticket.

    Returns the row (processed, or as it was when someone decided it already).
    """
    with transaction.atomic():
        raw = _claim(raw_message_id)
        if raw is None:
            return RawMessage.objects.get(pk=raw_message_id)
        held_on = raw.ticket
        process_released(raw)
        if held_on is not None:
            log_activity(
                held_on, actor=actor, action=ActivityLog.Action.MAIL_RELEASED, after=raw.sender
            )
        return raw


def reject_held_mail(raw_message_id: int, *, actor) -> RawMessage:
    """Keep a held mail out for good: refused, with the reason; logged on the ticket."""
    with transaction.atomic():
        raw = _claim(raw_message_id)
        if raw is None:
            return RawMessage.objects.get(pk=raw_message_id)
        name = actor.get_full_name() or actor.get_username()
        finish(raw, State.REFUSED, Reason.DMARC_FAIL, [f"{REJECTED} ({name})"])
        raw.processed_at = timezone.now()
        raw.save(update_fields=["state", "reason", "error", "processed_at"])
        if raw.ticket is not None:
            log_activity(
                raw.ticket, actor=actor, action=ActivityLog.Action.MAIL_REJECTED, after=raw.sender
            )
        return raw
