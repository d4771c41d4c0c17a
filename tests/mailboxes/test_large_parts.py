"""Big messages are read in chunks: large base64 bodies go to temporary files, exactly."""

import hashlib
import io
from email.message import EmailMessage
from email.policy import SMTP

from mailboxes.large_parts import LARGE_RUN, extract
from mailboxes.models import RawMessage
from mailboxes.parsing import LARGE_MESSAGE, parse_message, parse_message_file
from mailboxes.processing import process_raw_messages
from tests.mailboxes.test_processing import make_mailbox, store_raw
from tickets.models import Attachment

PAYLOAD = hashlib.sha256(b"seed").digest() * (6 * 2**20 // 32)  # 6 MB, not compressible


def _mail(**parts) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Ana <ana@example.test>"
    mail["To"] = "support@helpdesk.test"
    mail["Subject"] = "big"
    mail["Message-ID"] = "<big@example.test>"
    mail.set_content(parts.get("text", "see the attachment"))
    return mail


def test_a_large_attachment_is_streamed_to_a_temporary_file_and_decoded_exactly():
    mail = _mail()
    mail.add_attachment(PAYLOAD, maintype="application", subtype="zip", filename="a.zip")
    data = mail.as_bytes(policy=SMTP)

    parsed = parse_message_file(io.BytesIO(data))

    (attachment,) = parsed.attachments
    assert attachment.spool is not None
    assert attachment.size == len(PAYLOAD)
    assert attachment.read() == PAYLOAD
    assert parsed.text.strip() == "see the attachment"
    parsed.close()


def test_the_skeleton_the_parser_reads_is_small_whatever_the_attachment():
    mail = _mail()
    mail.add_attachment(PAYLOAD, maintype="application", subtype="zip", filename="a.zip")
    extracted = extract(io.BytesIO(mail.as_bytes(policy=SMTP)))
    assert len(extracted.skeleton) < 2000
    assert len(extracted.runs) == 1
    extracted.close()


def test_a_huge_base64_text_body_is_put_back_and_read_as_text():
    text = ("Linha de log número %d\n" * 400_000) % tuple(range(400_000))
    mail = _mail()
    mail.set_content(text, cte="base64")
    data = mail.as_bytes(policy=SMTP)
    assert len(data) > LARGE_MESSAGE

    parsed = parse_message(data)

    assert parsed.attachments == []
    assert parsed.text.startswith("Linha de log número 0\n")
    assert parsed.text.endswith("número 399999\n")


def test_plain_text_that_looks_like_base64_is_kept_exactly():
    lines = "".join(f"AbCd{n:06d}xYz\n" for n in range(60_000))  # letters and digits only
    mail = _mail(text=lines)
    mail.add_attachment(PAYLOAD, maintype="application", subtype="zip", filename="a.zip")
    data = mail.as_bytes(policy=SMTP)
    assert len(lines) > LARGE_RUN

    parsed = parse_message(data)

    assert parsed.text.replace("\r\n", "\n") == lines
    assert parsed.attachments[0].read() == PAYLOAD
    parsed.close()


def test_a_forwarded_mail_with_a_large_attachment_is_kept_whole():
    inner = _mail()
    inner.add_attachment(PAYLOAD, maintype="application", subtype="zip", filename="a.zip")
    outer = _mail(text="forwarding this")
    outer.add_attachment(inner)
    data = outer.as_bytes(policy=SMTP)

    parsed = parse_message(data)

    (forwarded,) = parsed.attachments
    assert forwarded.content_type == "message/rfc822"
    again = parse_message(forwarded.read())
    assert again.attachments[0].read() == PAYLOAD
    again.close()


def test_a_stored_big_mail_becomes_a_ticket_with_its_attachment_intact(pool):
    mail = _mail()
    mail.add_attachment(PAYLOAD, maintype="application", subtype="zip", filename="a.zip")
    raw = store_raw(make_mailbox(pool), mail.as_bytes(policy=SMTP))

    raw = process_raw_messages([raw.pk])[0]

    assert raw.state == RawMessage.State.PROCESSED
    attachment = Attachment.objects.get(message=raw.ticket_message)
    assert (attachment.filename, attachment.size) == ("a.zip", len(PAYLOAD))
    with attachment.file.open("rb") as stored:
        assert hashlib.sha256(stored.read()).digest() == hashlib.sha256(PAYLOAD).digest()


def test_a_message_that_is_one_endless_line_is_kept_whole_and_read_quickly():
    header = b"From: ana@example.test\r\nSubject: one line\r\n\r\n"
    data = header + b"x" * (6 * 2**20)

    extracted = extract(io.BytesIO(data))

    assert extracted.skeleton == data
    assert extracted.runs == {}
