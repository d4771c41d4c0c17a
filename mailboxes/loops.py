"""Loop protection: never answer a robot, recognise our own mail, link bounces to tickets.

RFC 3834 says automatic mail carries ``Auto-Submitted`` (anything but ``no``); older
responders use ``X-Autoreply``, ``X-Autorespond`` or ``Precedence: auto_reply``. List and
bulk mail (``Precedence: bulk/junk/list``, ``List-Id``, an empty ``Return-Path``) is kept
but opens no ticket unless the mailbox opts in, and is never answered automatically.
Mail whose Message-ID we minted, or that crossed an absurd number of servers, is a loop.

Processing screens every mail with ``classify_automatic`` and links bounces with
``link_bounces``; "ours or a duplicate?" is one query for a whole batch
(``known_message_ids_and_mailbox_addresses``).
"""

import re
from collections.abc import Callable, Iterable
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.db.models import Case, CharField, F, Value, When
from django.utils.translation import gettext_noop

from mailboxes.models import Mailbox, OutgoingEmail, RawMessage, SuppressedAddress
from mailboxes.parsing import DeliveryReport, ParsedMail
from mailboxes.suppression import suppress_addresses
from tickets.models import ActivityLog, Message
from tickets.services.audit import activity_row, log_activities

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


def link_bounces(bounces: list[tuple[RawMessage, ParsedMail]]) -> list[str]:
    """Attach bounces to the tickets whose mail they return; the reason to record on each raw.

    A delay notice (DSN ``delayed`` / 4.x.x) is only noted on the ticket. A failure
    (``failed`` / 5.x.x, or a bounce without a readable report) marks our outbox row
    failed; a permanent one (5.x.x) also suppresses each failed recipient of that row
    (only addresses we really mailed: a forged report cannot silence anyone else).
    Safe to re-run: a row already failed stays failed and logs nothing new. A few
    statements whatever the number of bounces (lookups, one UPDATE, one INSERT each).
    """
    plans = []
    for raw, parsed in bounces:
        reports = parsed.delivery_reports
        failed = [report for report in reports if report.is_permanent_failure]
        delayed = [report for report in reports if report.is_delay] if not failed else []
        # A success report only ("delivered", "relayed"): nothing to do.
        delay = bool(reports and not failed)
        returned = parsed.bounced_message_id if (delayed or not delay) else ""
        plans.append((raw, delay, delayed if delay else failed, returned))
    forms = {form for *_plan, returned in plans if returned for form in id_forms(returned)}
    outbox: dict[str, OutgoingEmail] = {}
    mail: dict[str, Message] = {}
    if forms:
        rows = OutgoingEmail.objects.filter(message_id__in=forms, ticket__isnull=False)
        for outgoing in rows.select_related("ticket"):  # the newest first (the model's order)
            outbox.setdefault(id_forms(outgoing.message_id)[1], outgoing)
        for message in Message.objects.filter(message_id__in=forms).select_related("ticket"):
            mail.setdefault(id_forms(message.message_id)[1], message)  # the oldest first
    entries: list[tuple[int | None, ActivityLog]] = []  # (outbox row to fail, its history)
    failing: dict[int, str] = {}
    suppressions: list[SuppressedAddress] = []
    for raw, delay, reports, returned in plans:
        found_row = outbox.get(id_forms(returned)[1]) if returned else None
        found_mail = mail.get(id_forms(returned)[1]) if returned else None
        statuses = ", ".join(f"{r.recipient} {r.status or r.action}" for r in reports)
        found = found_row or found_mail
        if delay and found is not None:
            raw.ticket = found.ticket
            entries.append((None, _delivery_row(raw.ticket, delayed=True, after=statuses)))
        elif not delay and found_row is not None:
            raw.ticket = found_row.ticket
            if found_row.pk not in failing:  # a second bounce of the row logs nothing new
                failing[found_row.pk] = f"bounced {statuses}".strip()
                after = statuses or ", ".join(found_row.to)
                entries.append((found_row.pk, _delivery_row(found_row.ticket, after=after)))
            suppressions += _failed_recipients(raw, found_row, reports)
        elif not delay and found_mail is not None:
            raw.ticket = found_mail.ticket
            entries.append((None, _delivery_row(found_mail.ticket)))
    if failing:
        # Rows already failed (by an earlier bounce, or one of this batch) log nothing new.
        still = set(
            OutgoingEmail.objects.select_for_update()
            .filter(pk__in=failing)
            .exclude(state=OutgoingEmail.State.FAILED)
            .values_list("pk", flat=True)
        )
        errors = [When(pk=pk, then=Value(failing[pk])) for pk in still]
        OutgoingEmail.objects.filter(pk__in=still).update(
            state=OutgoingEmail.State.FAILED,
            last_error=Case(
                *errors,
                default=F("last_error"),
                output_field=OutgoingEmail._meta.get_field("last_error"),
            ),
        )
        entries = [(pk, row) for pk, row in entries if pk is None or pk in still]
    log_activities([row for _pk, row in entries])
    suppress_addresses(suppressions)
    return [
        Reason.DELIVERY_DELAYED if delay and reports else Reason.BOUNCE
        for _raw, delay, reports, _returned in plans
    ]


def _delivery_row(ticket, *, delayed: bool = False, after: str = "") -> ActivityLog:
    return activity_row(
        ticket,
        actor=None,
        action=ActivityLog.Action.DELIVERY_DELAYED
        if delayed
        else ActivityLog.Action.DELIVERY_FAILED,
        after=after[:255],
        detail=DELAYED_DETAIL if delayed else BOUNCED_DETAIL,
    )


def _failed_recipients(
    raw: RawMessage, outgoing: OutgoingEmail, failed: list[DeliveryReport]
) -> list[SuppressedAddress]:
    """Suppressions (unsaved) for the permanent failures among the addresses we mailed."""
    mailed = {address.strip().lower() for address in [*outgoing.to, *outgoing.cc]}
    return [
        SuppressedAddress(
            address=report.recipient,
            reason=BOUNCED_DETAIL,
            dsn_status=report.status,
            bounce=raw,
            ticket=outgoing.ticket,
        )
        for report in failed
        if report.status.startswith("5.") and report.recipient in mailed
    ]


def our_addresses(mailbox_addresses: set[str] | None = None) -> set[str]:
    """Every address we send from (mailboxes and the default senders), lower-cased; one
    query for the mailboxes' unless the caller read them."""
    if mailbox_addresses is None:
        mailbox_addresses = set(Mailbox.objects.values_list("from_address", flat=True))
    defaults = {
        parseaddr(sender)[1] for sender in (settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL)
    }
    return {address.lower() for address in mailbox_addresses | defaults if address}


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
