"""Mail too large to take: kept unread and refused, the sender told once, the admins shown.

Both paths refuse by the same rule: the fetch (the size the server announces, before the
download) and processing (the stored size, for mail that came another way). Each refusal
may queue one notice to the sender through the outbox, never to a robot, a list, one of
our own addresses or a suppressed address, and within the per-address hourly limit that
auto-replies use (AutoReplyLog). The mailbox's admin page counts the refused mail.
"""

from datetime import timedelta
from email.utils import formataddr

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from mailboxes import loops
from mailboxes.models import AutoReplyLog, Mailbox, OutgoingEmail, RawMessage
from mailboxes.parsing import ParsedMail, parse_message
from mailboxes.suppression import suppressed_among

HEADER_LIMIT = 64 * 1024


def is_too_large(mailbox: Mailbox, size: int) -> bool:
    return size > mailbox.max_message_bytes


def refusal_reason(mailbox: Mailbox, size: int, *, on_server: bool = False) -> str:
    """The text kept on the refused RawMessage (shown in the admin)."""
    reason = f"{size} bytes is over the limit of {mailbox.max_message_bytes} bytes"
    if on_server:
        reason += "; not downloaded: the whole message was left where it was"
    return reason


def header_block(raw: RawMessage) -> bytes:
    """The stored message's header (bounded), for the notice; empty when unreadable."""
    if not raw.file:
        return b""
    try:
        with raw.file.open("rb") as stored:
            head = stored.read(HEADER_LIMIT)
    except OSError:
        return b""
    return head.replace(b"\r\n", b"\n").split(b"\n\n")[0]


def _may_notify(parsed: ParsedMail, own: set[str]) -> str | None:
    """The address to tell, or None when the sender is a robot, a list or suppressed."""
    from mailboxes.notifications import is_robot_address

    address = (parsed.from_address or "").strip().lower()
    if not address or not loops.may_auto_reply(parsed, own_addresses=own):
        return None
    if loops.is_loop(parsed, own) or is_robot_address(address, ours=own):
        return None
    if suppressed_among([address]):
        return None
    return address


def queue_refusal_notice(mailbox: Mailbox, *, headers: bytes, size: int) -> OutgoingEmail | None:
    """Tell the sender of a refused mail that it was too large; None when nobody is told.

    Rate-limited per address with the auto-replies (AUTO_REPLY_LIMIT_PER_HOUR): a sender
    whose mail is refused again and again is not answered again and again.
    """
    from mailboxes.outbound import AUTOMATIC_HEADERS, enqueue, is_over_rate_limit

    if not headers:
        return None
    parsed = parse_message(headers.rstrip(b"\r\n") + b"\n\n")
    own = loops.our_addresses()
    address = _may_notify(parsed, own)
    now = timezone.now()
    if address is None or is_over_rate_limit(address, now):
        return None
    context = {
        "subject": " ".join(parsed.subject.split())[:150],
        "size": size,
        "limit": mailbox.max_message_bytes,
        "mailbox_address": mailbox.from_address,
    }
    with translation.override(mailbox.language or settings.LANGUAGE_CODE):
        subject = render_to_string("mailboxes/emails/message_refused.subject.txt", context)
        body = render_to_string("mailboxes/emails/message_refused.txt", context)
    in_reply_to = parsed.message_id if len(parsed.message_id) <= 255 else ""
    outgoing = OutgoingEmail.objects.create(
        kind=OutgoingEmail.Kind.NOTICE,
        mailbox=mailbox,
        from_address=formataddr((mailbox.from_name, mailbox.from_address)),
        to=[address],
        subject=" ".join(subject.split())[:255],
        body_text=body.strip() + "\n",
        message_id=loops.make_message_id(mailbox.from_address),
        in_reply_to=in_reply_to,
        references=in_reply_to,
        headers=dict(AUTOMATIC_HEADERS),
    )
    AutoReplyLog.objects.create(address=address, sent_at=now)
    return enqueue([outgoing])[0]


def refused_count(mailbox: Mailbox, *, since: timedelta | None = None) -> int:
    rows = RawMessage.objects.filter(mailbox=mailbox, state=RawMessage.State.REFUSED)
    if since is not None:
        rows = rows.filter(received_at__gte=timezone.now() - since)
    return rows.count()
