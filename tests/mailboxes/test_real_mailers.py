"""Mail as real mailers send it: odd senders, odd charsets, odd parts, long names, reused ids.

The messages are ours, written for these tests, under tests/mailboxes/messages/.
"""

from pathlib import Path

import pytest
from django.urls import reverse

from mailboxes.ingest import store_raw_messages
from mailboxes.models import RawMessage
from mailboxes.parsing import (
    MAX_HTML_FOR_TEXT,
    MAX_TEXT_FROM_HTML,
    html_to_text,
    parse_message,
)
from mailboxes.processing import REUSED_MESSAGE_ID, process_raw_messages
from people.models import ContactEmail
from tests.conftest import require_postgresql
from tests.mailboxes.test_processing import build_mail, store_raw
from tickets.models import MAX_FILENAME, ActivityLog, Ticket

MESSAGES = Path(__file__).parent / "messages"
State = RawMessage.State


def message(name: str) -> bytes:
    return (MESSAGES / name).read_bytes()


def one_by_one(ids):
    for pk in ids:
        process_raw_messages([pk])[0]


def together(ids):
    process_raw_messages(ids)


SENDERS = [
    ("sender-quoted-encoded-word.eml", "joao.silva@example.test", "João Silva"),
    ("sender-encoded-comma.eml", "zofia.kowalska@example.test", "Kowalska, Zofia"),
    ("sender-utf8-address.eml", "zośka@przykład.test", "Zośka Łęcka"),
    ("sender-wrong-charset.eml", "jose@example.test", "José Conceição"),
    ("sender-crlf-in-name.eml", "ana@example.test", "Ana Maria Souza"),
]


@pytest.mark.parametrize("process", [one_by_one, together])
@pytest.mark.parametrize(("name", "address", "display_name"), SENDERS)
def test_real_mailer_senders_open_a_ticket_for_the_right_contact(
    mailbox, process, name, address, display_name
):
    raw = store_raw(mailbox, message(name))
    process([raw.pk])
    raw.refresh_from_db()
    assert (raw.state, raw.reason) == (State.PROCESSED, RawMessage.Reason.NONE)
    contact = ContactEmail.objects.get(address=address).contact
    assert raw.ticket.requester == contact
    assert contact.name == display_name
    assert raw.sender == address


@pytest.mark.postgresql
@pytest.mark.parametrize("process", [one_by_one, together])
def test_real_mailer_senders_open_tickets_on_postgresql(mailbox, process):
    require_postgresql()
    raws = [store_raw(mailbox, message(name)) for name, _address, _name in SENDERS]
    process([raw.pk for raw in raws])
    for raw, (_file, address, display_name) in zip(raws, SENDERS, strict=True):
        raw.refresh_from_db()
        assert raw.state == State.PROCESSED, raw.error
        assert raw.ticket.requester.name == display_name
        assert raw.ticket.requester == ContactEmail.objects.get(address=address).contact


@pytest.mark.parametrize("process", [one_by_one, together])
@pytest.mark.parametrize(
    "name", ["sender-display-name-is-another-address.eml", "sender-two-parsers-disagree.eml"]
)
def test_forged_or_ambiguous_senders_stay_refused(mailbox, process, name):
    raw = store_raw(mailbox, message(name))
    process([raw.pk])
    raw.refresh_from_db()
    assert (raw.state, raw.reason) == (State.IGNORED, RawMessage.Reason.NO_SENDER)
    assert not Ticket.objects.exists()


def test_bytes_invalid_in_the_declared_charset_become_replacement_characters_in_place():
    text = parse_message(message("body-invalid-utf8.eml")).text
    # The rest of the body is still UTF-8, not the whole of it re-read as Windows-1252.
    assert text == "Zażółć gęślą jaźń, \ufffd\ufffd fakturę proszę.\n"


def test_an_unknown_declared_charset_is_read_as_utf8():
    assert parse_message(message("body-unknown-charset.eml")).text == (
        "Proszę o fakturę \u2013 dziękuję.\n"
    )


def test_a_charset_alias_mailers_use_is_decoded_with_its_codec():
    assert parse_message(message("body-charset-alias.eml")).text == (
        "안녕하세요, 프린터가 고장났어요.\n"
    )


def test_a_multipart_without_a_boundary_is_read_as_text(mailbox):
    parsed = parse_message(message("body-multipart-without-boundary.eml"))
    assert parsed.text == "O ramal 2040 não funciona.\n"
    assert parsed.attachments == []
    raw = process_raw_messages(
        [store_raw(mailbox, message("body-multipart-without-boundary.eml")).pk]
    )[0]
    assert "ramal 2040" in raw.ticket_message.body_text


def test_raw_8bit_utf8_attachment_names_decode_as_utf8():
    parsed = parse_message(message("attachment-raw-utf8-name.eml"))
    assert [a.filename for a in parsed.attachments] == ["Relatório de março.pdf"]


def test_a_huge_html_only_mail_gets_a_bounded_plain_text_version(mailbox):
    paragraph = "<p>A impressora do terceiro andar n&atilde;o imprime.</p>\n"
    markup = paragraph * (MAX_HTML_FOR_TEXT // len(paragraph) + 1000) + "<p>PAST THE BOUND</p>"
    assert len(markup) > MAX_HTML_FOR_TEXT
    text = html_to_text(markup)
    # Work is bounded by the input read and the output kept, not by the mail's size.
    assert "PAST THE BOUND" not in text
    assert len(text) == MAX_TEXT_FROM_HTML
    assert text.startswith("A impressora do terceiro andar não imprime.")

    mail = build_mail(body="x")
    mail.set_content(markup, subtype="html")
    raw = process_raw_messages([store_raw(mailbox, mail).pk])[0]
    assert raw.state == State.PROCESSED
    body = raw.ticket_message.body_text
    assert body.startswith("A impressora") and len(body) <= MAX_TEXT_FROM_HTML


def test_a_long_attachment_name_is_shortened_keeping_its_extension_and_the_page_says_so(
    mailbox, agent_client
):
    raw = process_raw_messages([store_raw(mailbox, message("attachment-long-name.eml")).pk])[0]
    attachment = raw.ticket.attachments.get()
    assert len(attachment.filename) == MAX_FILENAME
    assert attachment.filename.startswith("Relatorio-muito-longo-")
    assert attachment.filename.endswith(".xlsx")
    assert attachment.original_filename.endswith("-final.xlsx")
    assert len(attachment.original_filename) > MAX_FILENAME

    page = agent_client.get(reverse("tickets:detail", args=[raw.ticket.number]))
    assert "name shortened" in page.content.decode()


def test_a_short_attachment_name_is_kept_as_it_is(mailbox, agent_client):
    raw = process_raw_messages([store_raw(mailbox, message("attachment-raw-utf8-name.eml")).pk])[0]
    attachment = raw.ticket.attachments.get()
    assert (attachment.filename, attachment.original_filename) == ("Relatório de março.pdf", "")
    page = agent_client.get(reverse("tickets:detail", args=[raw.ticket.number]))
    assert "name shortened" not in page.content.decode()


# --- reused Message-IDs ---------------------------------------------------------------


def _first_and_reused(mailbox):
    first = build_mail(subject="Printer on fire", message_id="<always-the-same@mua.test>")
    second = build_mail(subject="Scanner jammed", message_id="<always-the-same@mua.test>")
    return first.as_bytes(), second.as_bytes()


@pytest.mark.parametrize("process", [one_by_one, together])
def test_a_different_mail_reusing_a_message_id_is_kept_flagged_and_processed(mailbox, process):
    first, second = _first_and_reused(mailbox)
    kept = store_raw_messages(mailbox, [("1", first)])[0]
    reused = store_raw_messages(mailbox, [("2", second)])[0]
    assert reused is not None
    assert reused.reused_message_id and not kept.reused_message_id
    process([kept.pk, reused.pk])
    reused.refresh_from_db()
    assert reused.state == State.PROCESSED
    assert "reused Message-ID" in reused.error
    assert reused.ticket.subject == "Scanner jammed"
    # The ticket's message keeps the real Message-ID, for the replies that quote it.
    assert reused.ticket_message.message_id == "<always-the-same@mua.test>"
    assert reused.ticket.activity.filter(
        action=ActivityLog.Action.NOTE, detail=REUSED_MESSAGE_ID
    ).exists()
    assert Ticket.objects.count() == 2


def test_mail_reusing_a_message_id_within_one_chunk_is_kept_too(mailbox):
    first, second = _first_and_reused(mailbox)
    stored = store_raw_messages(mailbox, [("1", first), ("2", second)])
    assert all(raw is not None for raw in stored)
    assert [raw.reused_message_id for raw in stored] == [False, True]


def test_a_true_refetch_of_the_same_mail_is_still_a_duplicate(mailbox):
    first, _second = _first_and_reused(mailbox)
    assert store_raw_messages(mailbox, [("1", first)])[0] is not None
    # The same bytes under a new uid (a UIDVALIDITY change), and the same mail delivered
    # again with one more trace header: the same mail, stored once.
    assert store_raw_messages(mailbox, [("2", first)])[0] is None
    redelivered = b"Received: from relay.example.test by mx.helpdesk.test\r\n" + first
    assert store_raw_messages(mailbox, [("3", redelivered)])[0] is None
    assert RawMessage.objects.count() == 1


def test_a_reply_quoting_a_reused_message_id_joins_one_of_its_tickets(mailbox):
    first, second = _first_and_reused(mailbox)
    ids = [
        store_raw_messages(mailbox, [(uid, data)])[0].pk
        for uid, data in [("1", first), ("2", second)]
    ]
    process_raw_messages(ids)
    reply = build_mail(
        subject="Re: Printer on fire",
        message_id="<reply@mua.test>",
        headers={"In-Reply-To": "<always-the-same@mua.test>"},
    )
    raw = process_raw_messages([store_raw_messages(mailbox, [("3", reply.as_bytes())])[0].pk])[0]
    assert raw.state == State.PROCESSED
    assert raw.ticket in set(Ticket.objects.all())
    assert Ticket.objects.count() == 2
