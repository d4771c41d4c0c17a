"""Loop protection: never answer a robot, recognise our own mail, link bounces to tickets.

RFC 3834 says automatic mail carries ``Auto-Submitted`` (anything but ``no``); older
responders use ``X-Autoreply``, ``X-Autorespond`` or ``Precedence: auto_reply``. List and
bulk mail (``Precedence: bulk/junk/list``, ``List-Id``, an empty ``Return-Path``) is kept
but opens no ticket unless the mailbox opts in, and is never answered automatically.
Mail whose Message-ID we minted, or that crossed an absurd number of servers, is a loop.

Processing screens every mail with ``classify_automatic`` and links bounces with
``link_bounce``; "ours or a duplicate?" is one query for a whole batch
(``known_message_ids_and_mailbox_addresses``).
"""

import re
from collections.abc import Callable, Iterable
from email.utils import make_msgid

from django.conf import settings
from django.db.models import CharField, Q, Value
from django.utils.translation import gettext_noop

from mailboxes.models import Mailbox, OutgoingEmail, RawMessage
from mailboxes.parsing import DeliveryReport, ParsedMail
from mailboxes.suppression import suppress_address
from tickets.models import ActivityLog, Message
from tickets.services.audit import log_activity

Reason = RawMessage.Reason
BOUNCED_DETAIL = gettext_noop("A mail we sent bounced.")
DELAYED_DETAIL = gettext_noop("Delivery delayed, the receiving server keeps trying")
# Every Message-ID we mint ends in ".<marker>@<one of our domains>": mail carrying such an
# id that is not in our outbox was still made by us (an old row, another instance).
MESSAGE_ID_MARKER = "helpdesk"
_OUR_MESSAGE_ID = re.compile(rf"^<?\d+\.\d+\.\d+\.{MESSAGE_ID_MARKER}@([^<>@\s]+)>?$", re.I)
_NO_REPLY_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_SUPPRESS = {"all", "autoreply", "oof"}


def normalize_address(address: str) -> str:
    """``Support+t42-abc@Example.COM`` -> ``support@example.com``: our address in any form."""
    local, _, domain = address.strip().lower().partition("@")
    return f"{local.split('+')[0]}@{domain}"


def is_automatic(parsed: ParsedMail) -> bool:
    """Mail a program sent on its own (RFC 3834 and the older vendor headers)."""
    auto_submitted = parsed.auto_submitted.split(";")[0].strip()
    return bool(
        (auto_submitted and auto_submitted != "no")
        or parsed.x_autoreply
        or parsed.x_autorespond
        or parsed.precedence == "auto_reply"
    )


def make_message_id(from_address: str) -> str:
    """A fresh Message-ID for mail we send from ``from_address``, recognisable as ours."""
    domain = from_address.rpartition("@")[2].strip().strip(">") or "helpdesk.localhost"
    return make_msgid(idstring=MESSAGE_ID_MARKER, domain=domain)


def carries_our_message_id(message_id: str, own_addresses: Iterable[str]) -> bool:
    """The Message-ID has the shape we mint, at one of the domains we send from."""
    match = _OUR_MESSAGE_ID.match(message_id.strip())
    if match is None:
        return False
    domains = {normalize_address(a).rpartition("@")[2] for a in own_addresses}
    return match.group(1).lower() in domains | {"helpdesk.localhost"}


def is_loop(parsed: ParsedMail, own_addresses: Iterable[str]) -> bool:
    """Our own mail come back, or mail that has crossed more servers than any real path."""
    return parsed.received_count > settings.MAIL_MAX_RECEIVED_HEADERS or carries_our_message_id(
        parsed.message_id, own_addresses
    )


def is_bulk(parsed: ParsedMail) -> bool:
    """List or bulk mail: RFC 2369/2919 list headers, bulk precedence, or a null sender."""
    return bool(
        parsed.precedence in {"bulk", "junk", "list"}
        or parsed.list_id
        or parsed.return_path.replace(" ", "") == "<>"
    )


def is_own_address(address: str | None, own_addresses: Iterable[str]) -> bool:
    if not address:
        return False
    return normalize_address(address) in {normalize_address(a) for a in own_addresses}


def classify_automatic(
    parsed: ParsedMail,
    *,
    own_addresses: Iterable[str],
    own_message_ids_lookup: Callable[[str], bool],
    mailbox: Mailbox | None = None,
) -> str | None:
    """Why this mail must not become a customer message, or None when it may.

    Checked in this order: our own mail, a loop, a bounce (linked to the mail it returns),
    an automatic reply, then list or bulk mail unless ``mailbox`` accepts it.
    """
    own_addresses = list(own_addresses)
    if is_own_address(parsed.from_address, own_addresses) or (
        parsed.message_id and own_message_ids_lookup(parsed.message_id)
    ):
        return Reason.OWN_MAIL
    if is_loop(parsed, own_addresses):
        return Reason.LOOP
    if parsed.is_bounce:
        return Reason.BOUNCE
    if is_automatic(parsed):
        return Reason.AUTO_REPLY
    if is_bulk(parsed) and not (mailbox is not None and mailbox.accept_bulk_mail):
        return Reason.BULK
    return None


def may_auto_reply(parsed: ParsedMail, *, own_addresses: Iterable[str] = ()) -> bool:
    """Whether a new ticket from this mail may be answered automatically."""
    suppress = {item.strip() for item in parsed.x_auto_response_suppress.split(",")}
    return not (
        parsed.from_address is None
        or is_automatic(parsed)
        or parsed.is_bounce
        or parsed.list_id
        or parsed.list_unsubscribe
        or parsed.precedence in _NO_REPLY_PRECEDENCE
        or suppress & _SUPPRESS
        or parsed.return_path == "<>"
        or is_own_address(parsed.from_address, own_addresses)
    )


def link_bounce(raw: RawMessage, parsed: ParsedMail) -> str:
    """Attach a bounce to the ticket whose mail it returns; the reason to record on ``raw``.

    A delay notice (DSN ``delayed`` / 4.x.x) is only noted on the ticket. A failure
    (``failed`` / 5.x.x, or a bounce without a readable report) marks our outbox row
    failed; a permanent one (5.x.x) also suppresses each failed recipient of that row
    (only addresses we really mailed: a forged report cannot silence anyone else).
    Safe to re-run: a row already failed stays failed and logs nothing new.
    """
    reports = parsed.delivery_reports
    failed = [report for report in reports if report.is_permanent_failure]
    if reports and not failed:
        delayed = [report for report in reports if report.is_delay]
        if not delayed:
            return Reason.BOUNCE  # a success report ("delivered", "relayed"): nothing to do
        _note_delay(raw, parsed, delayed)
        return Reason.DELIVERY_DELAYED
    if not parsed.bounced_message_id:
        return Reason.BOUNCE
    forms = id_forms(parsed.bounced_message_id)
    outgoing = (
        OutgoingEmail.objects.filter(message_id__in=forms, ticket__isnull=False)
        .select_related("ticket")
        .first()
    )
    if outgoing is not None:
        raw.ticket = outgoing.ticket
        statuses = ", ".join(f"{r.recipient} {r.status or r.action}" for r in failed)
        updated = (
            OutgoingEmail.objects.filter(pk=outgoing.pk)
            .filter(~Q(state=OutgoingEmail.State.FAILED))
            .update(state=OutgoingEmail.State.FAILED, last_error=f"bounced {statuses}".strip())
        )
        if updated:
            log_activity(
                outgoing.ticket,
                actor=None,
                action=ActivityLog.Action.DELIVERY_FAILED,
                after=(statuses or ", ".join(outgoing.to))[:255],
                detail=BOUNCED_DETAIL,
            )
        _suppress_failed(raw, outgoing, failed)
        return Reason.BOUNCE
    message = Message.objects.filter(message_id__in=forms).select_related("ticket").first()
    if message is not None:
        raw.ticket = message.ticket
        log_activity(
            message.ticket,
            actor=None,
            action=ActivityLog.Action.DELIVERY_FAILED,
            detail=BOUNCED_DETAIL,
        )
    return Reason.BOUNCE


def _note_delay(raw: RawMessage, parsed: ParsedMail, delayed: list[DeliveryReport]) -> None:
    # Our mail is still on its way: the ticket says so, the outbox row stays as it is.
    if not parsed.bounced_message_id:
        return
    forms = id_forms(parsed.bounced_message_id)
    outgoing = (
        OutgoingEmail.objects.filter(message_id__in=forms, ticket__isnull=False)
        .select_related("ticket")
        .first()
    )
    if outgoing is not None:
        ticket = outgoing.ticket
    else:
        message = Message.objects.filter(message_id__in=forms).select_related("ticket").first()
        if message is None:
            return
        ticket = message.ticket
    raw.ticket = ticket
    log_activity(
        ticket,
        actor=None,
        action=ActivityLog.Action.DELIVERY_DELAYED,
        after=", ".join(f"{r.recipient} {r.status or r.action}" for r in delayed)[:255],
        detail=DELAYED_DETAIL,
    )


def _suppress_failed(
    raw: RawMessage, outgoing: OutgoingEmail, failed: list[DeliveryReport]
) -> None:
    mailed = {address.strip().lower() for address in [*outgoing.to, *outgoing.cc]}
    for report in failed:
        if report.status.startswith("5.") and report.recipient in mailed:
            suppress_address(
                report.recipient,
                reason=BOUNCED_DETAIL,
                dsn_status=report.status,
                bounce=raw,
                ticket=outgoing.ticket,
            )


def id_forms(message_id: str) -> list[str]:
    bare = message_id.strip().strip("<>")
    return [f"<{bare}>", bare]


def known_message_ids_and_mailbox_addresses(
    message_ids: Iterable[str],
) -> tuple[dict[str, set[str]], set[str]]:
    """Where each Message-ID is known, by each stored form ("own": our outbox, "inbound": a
    ticket's mail), and the from-address of every mailbox.

    One query whatever the number of ids; ``known_kinds`` reads the answer for one id.
    """
    forms = sorted({form for mid in message_ids if mid for form in id_forms(mid)})
    text = CharField()
    rows = Mailbox.objects.order_by().values_list(
        Value("address", output_field=text), "from_address"
    )
    if forms:
        ours = (
            OutgoingEmail.objects.filter(message_id__in=forms)
            .order_by()
            .values_list(Value("own", output_field=text), "message_id")
        )
        theirs = (
            Message.objects.filter(message_id__in=forms, kind=Message.Kind.INBOUND)
            .order_by()
            .values_list(Value("inbound", output_field=text), "message_id")
        )
        rows = rows.union(ours, theirs, all=True).order_by()
    known: dict[str, set[str]] = {}
    addresses: set[str] = set()
    for kind, value in rows:
        if kind == "address":
            addresses.add(value)
        else:
            known.setdefault(value, set()).add(kind)
    return known, addresses


def known_kinds(known: dict[str, set[str]], message_id: str) -> set[str]:
    """The kinds ("own", "inbound") recorded for any stored form of ``message_id``."""
    if not message_id:
        return set()
    return set().union(*(known.get(form, set()) for form in id_forms(message_id)))
