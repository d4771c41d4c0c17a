"""The demo data loads: its junior's replies wait for approval with the status they hold."""

from io import StringIO

from django.core.management import call_command

from tickets.models import Approval, Message
from tickets.states import HELD_STATUSES


def test_the_demo_loads_and_junior_replies_hold_their_status_until_approved(db):
    call_command("load_demo", tickets=24, seed=7, stdout=StringIO())

    pending = Message.objects.filter(approval=Approval.PENDING).select_related("ticket")
    assert pending.exists()
    for reply in pending:
        assert reply.author_user.agent_profile.is_junior
        if reply.held_status:
            assert reply.held_status in HELD_STATUSES
            assert reply.ticket.status != reply.held_status


def test_the_first_run_of_the_demo_mails_nobody(db, settings, tmp_path):
    """`make run`'s demo commands, in order: the history they write leaves no mail to send."""
    from mailboxes.models import OutgoingEmail
    from mailboxes.outbound import due_outgoing_ids

    settings.BASE_DIR = tmp_path
    call_command("load_demo", tickets=24, seed=7, stdout=StringIO())
    assert OutgoingEmail.objects.filter(state=OutgoingEmail.State.QUEUED).exists()

    out = StringIO()
    call_command("load_demo_mailbox", stdout=out)

    assert due_outgoing_ids() == []
    assert not OutgoingEmail.objects.exclude(state=OutgoingEmail.State.SENT).exists()
    assert "none mailed" in out.getvalue()
    # A second run settles nothing more (and does not touch later, real mail).
    OutgoingEmail.objects.update(state=OutgoingEmail.State.QUEUED)
    call_command("load_demo_mailbox", stdout=StringIO())
    assert OutgoingEmail.objects.filter(state=OutgoingEmail.State.QUEUED).exists()
