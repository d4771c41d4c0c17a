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
