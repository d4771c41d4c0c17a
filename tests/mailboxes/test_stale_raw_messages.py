from datetime import timedelta

from django.utils import timezone

from mailboxes.ingest import stale_new_raw_message_ids
from mailboxes.models import Mailbox, RawMessage


def test_only_new_rows_older_than_the_grace_period_are_requeued(pool):
    mailbox = Mailbox.objects.create(name="m", pool=pool, from_address="s@helpdesk.test")
    old = timezone.now() - timedelta(minutes=30)

    def raw(uid, state, received_at):
        return RawMessage.objects.create(
            mailbox=mailbox,
            uid=uid,
            message_id=f"<{uid}@x>",
            sha256=uid,
            state=state,
            received_at=received_at,
        )

    stale = raw("a", RawMessage.State.NEW, old)
    raw("b", RawMessage.State.NEW, timezone.now())
    raw("c", RawMessage.State.PROCESSED, old)
    raw("d", RawMessage.State.FAILED, old)
    assert stale_new_raw_message_ids() == [stale.pk]
