"""The outgoing MIME tree (mailboxes.mime), read back as a receiving client reads it."""

import email
from email import policy

import pytest

from mailboxes import mime


def _read(message):
    """The bytes on the wire, and the mail as a client reads it (with LF line ends, as a
    mail store keeps them)."""
    data = message.as_bytes()
    return data, email.message_from_bytes(data.replace(b"\r\n", b"\n"), policy=policy.default)


def test_a_plain_mail_in_utf8_reads_back_as_written():
    data, mail = _read(
        mime.build(
            subject="Zażółć gęślą jaźń — orçamento [#12]",
            from_address="Suporte Ação <support@acme.test>",
            to=["Jan Kowalski <jan@example.pl>", "ana@example.com.br"],
            cc=["ops@acme.test"],
            reply_to=["support+t12@acme.test"],
            body_text="Olá,\nrecebemos a sua mensagem.\n",
            headers={"Message-ID": "<a.1@acme.test>", "Auto-Submitted": "auto-replied"},
        )
    )
    assert mail["Subject"] == "Zażółć gęślą jaźń — orçamento [#12]"
    assert mail["From"].addresses[0].display_name == "Suporte Ação"
    assert [a.addr_spec for a in mail["To"].addresses] == ["jan@example.pl", "ana@example.com.br"]
    assert mail["Cc"] == "ops@acme.test"
    assert mail["Reply-To"] == "support+t12@acme.test"
    assert mail["Message-ID"] == "<a.1@acme.test>"
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["Date"] is not None
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content() == "Olá,\nrecebemos a sua mensagem.\n"
    # 7-bit on the wire, CRLF line ends, no line over SMTP's limit.
    assert data.isascii()
    lines = data.split(b"\r\n")
    assert all(b"\n" not in line for line in lines)
    assert max(len(line) for line in lines) <= 998


def test_html_with_an_inline_image_and_attachments():
    long_html = "<p>" + "Dzień dobry, " * 200 + "<img src='cid:sig@acme.test'></p>"
    _data, mail = _read(
        mime.build(
            subject="Re: Faktura",
            from_address="support@acme.test",
            to=["c@example.com"],
            body_text="text",
            body_html=long_html,
            related=[(b"\x89PNG-bytes", "image", "png", "sig@acme.test")],
            attachments=[
                ("faktura październik.pdf", b"%PDF-1.4 \x00\xff", "application/pdf"),
                ("notes.txt", "zażółć", "text/plain"),
                (
                    "forwarded.eml",
                    b"Subject: old\r\nFrom: a@b.test\r\n\r\nbody\r\n",
                    "message/rfc822",
                ),
            ],
        )
    )
    assert mail.get_content_type() == "multipart/mixed"
    assert mail.get_body(("plain",)).get_content() == "text"
    assert mail.get_body(("html",)).get_content() == long_html
    [image] = [part for part in mail.walk() if part.get_content_type() == "image/png"]
    assert (image["Content-ID"], image.get_content_disposition()) == ("<sig@acme.test>", "inline")
    assert image.get_content() == b"\x89PNG-bytes"
    files = {part.get_filename(): part for part in mail.iter_attachments()}
    assert files["faktura październik.pdf"].get_content() == b"%PDF-1.4 \x00\xff"
    assert files["notes.txt"].get_content() == "zażółć"
    forwarded = files["forwarded.eml"]
    assert forwarded.get_content_type() == "message/rfc822"
    assert forwarded.get_content()["Subject"] == "old"


def test_a_long_references_header_is_folded_and_reads_back_whole():
    references = " ".join(f"<message-{n}.{'x' * 30}@acme.test>" for n in range(20))
    data, mail = _read(
        mime.build(
            subject="s",
            from_address="support@acme.test",
            to=["c@example.com"],
            body_text="t",
            headers={"References": references},
        )
    )
    assert " ".join(mail["References"].split()) == references
    assert max(len(line) for line in data.split(b"\r\n")) <= 998


def test_a_non_ascii_domain_goes_out_in_idna():
    _data, mail = _read(
        mime.build(subject="s", from_address="a@acme.test", to=["jan@żółw.pl"], body_text="t")
    )
    assert mail["To"].addresses[0].addr_spec == "jan@xn--w-uga1v8h.pl"


@pytest.mark.parametrize(
    "field",
    [
        {"subject": "Hello\r\nBcc: victim@example.com"},
        {"to": ["c@example.com\nBcc: victim@example.com"]},
        {"from_address": "Support <s@acme.test>\r\nX-Evil: 1"},
        {"headers": {"In-Reply-To": "<a@b>\nBcc: victim@example.com"}},
        {"attachments": [("a.pdf\r\nX-Evil: 1", b"x", "application/pdf")]},
    ],
)
def test_a_line_break_in_any_header_is_refused(field):
    values = {
        "subject": "s",
        "from_address": "a@acme.test",
        "to": ["c@example.com"],
        "body_text": "t",
        **field,
    }
    with pytest.raises(ValueError, match="one line"):
        mime.build(**values)


@pytest.mark.parametrize("bad", ["", "no-at-sign", "a@b.test, c@d.test", "żółw@example.pl"])
def test_an_address_that_is_not_one_sendable_address_is_refused(bad):
    with pytest.raises(ValueError):
        mime.build(subject="s", from_address="a@acme.test", to=[bad], body_text="t")


def test_a_caller_cannot_set_the_recipients_through_extra_headers():
    with pytest.raises(ValueError, match="Bcc"):
        mime.build(
            subject="s",
            from_address="a@acme.test",
            to=["c@example.com"],
            body_text="t",
            headers={"Bcc": "victim@example.com"},
        )


def test_short_headers_go_out_as_they_are_and_long_ones_folded():
    data = mime.build(
        subject="Short",
        from_address="a@acme.test",
        to=["c@example.com"],
        body_text="t",
        headers={"X-Long": "word " * 40},
    ).as_bytes()
    assert b"\r\nSubject: Short\r\n" in data
    head = data.split(b"\r\n\r\n")[0]
    long_lines = [line for line in head.split(b"\r\n") if line.startswith(b"X-Long:")]
    assert long_lines and len(long_lines[0]) <= 78


def test_a_mail_without_a_message_id_gets_one_in_the_senders_domain():
    _data, mail = _read(
        mime.build(subject="s", from_address="S <a@acme.test>", to=["c@example.com"], body_text="t")
    )
    assert mail["Message-ID"].endswith("@acme.test>")
