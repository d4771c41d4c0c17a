"""parse_message: any charset, encoded names, nested parts, forwards, inline images, HTML-only;
and the display helpers that fold quoted history and show images only when allowed."""

from email.message import EmailMessage

from mailboxes.parsing import LARGE_MESSAGE, parse_message
from tickets.html import has_remote_images, sanitize_html, split_quoted


def _raw(headers: str, body: bytes) -> bytes:
    return headers.replace("\n", "\r\n").encode() + b"\r\n" + body


def test_an_unknown_charset_falls_back_to_utf8_without_raising():
    data = _raw(
        "From: ana@example.test\nSubject: x\nContent-Type: text/plain; charset=x-unknown\n",
        "Olá, não funciona".encode(),
    )
    assert parse_message(data).text == "Olá, não funciona"


def test_a_mislabelled_charset_is_decoded_by_what_the_bytes_are():
    data = _raw(
        "From: ana@example.test\nSubject: x\nContent-Type: text/plain; charset=utf-8\n",
        "Zażółć gęślą jaźń café".encode("cp1250").replace(b"\xe6", b"\xe9"),
    )
    text = parse_message(data).text
    assert text.startswith("Za")
    assert "caf" in text


def test_us_ascii_labelled_utf8_body_is_read_as_utf8():
    data = _raw(
        "From: ana@example.test\nSubject: x\nContent-Type: text/plain; charset=us-ascii\n",
        "Coração".encode(),
    )
    assert parse_message(data).text == "Coração"


def test_encoded_word_subject_and_sender_name_are_decoded_and_kept_on_one_line():
    data = _raw(
        "From: =?utf-8?q?Jo=C3=A3o_Kowalski?= <joao@example.test>\n"
        "Subject: =?iso-8859-2?q?Za=BF=F3=B3=E6?=\n =?utf-8?b?IGfEmcWbbMSF?=\n",
        b"hi",
    )
    parsed = parse_message(data)
    assert parsed.subject == "Zażółć gęślą"
    assert parsed.from_name == "João Kowalski"
    assert parsed.from_address == "joao@example.test"


def test_raw_8bit_header_bytes_do_not_crash():
    data = b"From: ana@example.test\r\nSubject: Caf\xe9 \xff\r\n\r\nbody"
    assert parse_message(data).subject.startswith("Caf")


def test_rfc2231_and_encoded_word_filenames_are_decoded():
    data = _raw(
        "From: ana@example.test\nSubject: x\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b"\n',
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee files\r\n"
        b"--b\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment;"
        b" filename*=utf-8''relat%C3%B3rio%20final.pdf\r\n\r\n%PDF\r\n"
        b'--b\r\nContent-Type: application/pdf;\r\n name="=?utf-8?q?zam=C3=B3wienie.pdf?="\r\n'
        b"Content-Disposition: attachment\r\n\r\n%PDF\r\n"
        b"--b\r\nContent-Type: text/plain\r\n"
        b"Content-Disposition: attachment;\r\n filename*0*=utf-8''d%C5%82uga%20;\r\n"
        b" filename*1=nazwa.txt\r\n\r\nx\r\n"
        b"--b--\r\n",
    )
    parsed = parse_message(data)
    assert parsed.text.strip() == "see files"
    assert [a.filename for a in parsed.attachments] == [
        "relatório final.pdf",
        "zamówienie.pdf",
        "długa nazwa.txt",
    ]


def test_nested_multiparts_give_text_html_and_every_attachment():
    mail = EmailMessage()
    mail["From"] = "ana@example.test"
    mail["Subject"] = "nested"
    mail.set_content("plain text")
    mail.add_alternative("<p>html <b>text</b></p>", subtype="html")
    mail.add_attachment(b"one", maintype="application", subtype="octet-stream", filename="a.bin")
    outer = EmailMessage()
    outer["From"] = "ana@example.test"
    outer["Subject"] = "outer"
    outer.make_mixed()
    outer.attach(mail)  # a multipart/mixed part inside a multipart/mixed
    outer.add_attachment(b"two", maintype="application", subtype="zip", filename="b.zip")
    parsed = parse_message(outer.as_bytes())
    assert parsed.text.strip() == "plain text"
    assert "<b>text</b>" in parsed.html
    assert sorted(a.filename for a in parsed.attachments) == ["a.bin", "b.zip"]


def test_a_forwarded_message_becomes_an_eml_attachment():
    inner = EmailMessage()
    inner["From"] = "boss@example.test"
    inner["Subject"] = "Quarterly numbers"
    inner["Message-ID"] = "<inner@example.test>"
    inner.set_content("the numbers")
    outer = EmailMessage()
    outer["From"] = "ana@example.test"
    outer["Subject"] = "Fwd: Quarterly numbers"
    outer.set_content("see below")
    outer.add_attachment(inner)
    parsed = parse_message(outer.as_bytes())
    assert parsed.text.strip() == "see below"
    [forwarded] = parsed.attachments
    assert forwarded.filename == "Quarterly numbers.eml"
    assert forwarded.content_type == "message/rfc822"
    assert b"the numbers" in forwarded.content


def test_an_inline_image_keeps_its_content_id():
    mail = EmailMessage()
    mail["From"] = "ana@example.test"
    mail["Subject"] = "screenshot"
    mail.set_content("see picture")
    mail.add_alternative('<p>see <img src="cid:shot1"></p>', subtype="html")
    mail.get_payload()[1].add_related(
        b"\x89PNG fake", maintype="image", subtype="png", cid="<shot1>", filename="shot.png"
    )
    parsed = parse_message(mail.as_bytes())
    [image] = parsed.attachments
    assert (image.content_id, image.is_inline, image.content_type) == (
        "shot1",
        True,
        "image/png",
    )
    assert 'src="cid:shot1"' in parsed.html


def test_html_only_mail_gets_a_text_body_without_tags_or_script():
    data = _raw(
        "From: ana@example.test\nSubject: x\nContent-Type: text/html; charset=utf-8\n",
        b"<html><head><style>p{}</style></head><body><p>Hello&nbsp;there</p>"
        b"<script>alert(1)</script><div>Line &amp; two</div></body></html>",
    )
    parsed = parse_message(data)
    assert parsed.text == "Hello there\nLine & two"
    assert "<p>" in parsed.html


def test_a_leading_mbox_from_line_is_dropped():
    data = (
        b"From ana@example.test Mon Jan  1 00:00:00 2026\n"
        b"From: ana@example.test\nSubject: hi\n\nbody\n"
    )
    parsed = parse_message(data)
    assert parsed.from_address == "ana@example.test"
    assert parsed.subject == "hi"


def test_message_ids_are_normalized_with_brackets():
    data = _raw(
        "From: ana@example.test\nMessage-ID: abc@example.test\n"
        "In-Reply-To: <one@x.test> (comment)\nReferences: <a@x.test>\n <b@x.test>\nSubject: x\n",
        b"body",
    )
    parsed = parse_message(data)
    assert parsed.message_id == "<abc@example.test>"
    assert parsed.in_reply_to == "<one@x.test>"
    assert parsed.references == ["<a@x.test>", "<b@x.test>"]
    assert parsed.thread_ids == ["<one@x.test>", "<b@x.test>", "<a@x.test>"]


def test_a_delivery_status_report_is_a_bounce_naming_the_returned_message():
    data = _raw(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.test>\nSubject: Undelivered\n"
        "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status;"
        ' boundary="b"\n',
        b"--b\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; gone@example.test\r\nAction: failed\r\n\r\n"
        b"--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"Message-ID: <ours-1@helpdesk.test>\r\nSubject: Re: ticket\r\n\r\n"
        b"--b--\r\n",
    )
    parsed = parse_message(data)
    assert parsed.is_bounce
    assert parsed.bounced_message_id == "<ours-1@helpdesk.test>"


# --- display helpers ---------------------------------------------------------------------


def test_quoted_history_is_split_off_in_english_portuguese_and_polish():
    samples = [
        "Thanks!\n\nOn Mon, 1 Jan 2026 at 10:00, Ana <ana@x.test>\nwrote:\n> old",
        "Obrigado!\n\nEm seg., 1 de jan. de 2026 às 10:00, Ana <ana@x.test> escreveu:\n> velho",
        "Dzięki!\n\nW dniu 1.01.2026 o 10:00, Jan <jan@x.pl> pisze:\n> stare",
        "Dzięki!\n\nJan Kowalski <jan@x.pl> napisał(a):\n> stare",
        "Thanks!\n\n-----Original Message-----\nFrom: Ana\nSent: Monday\n\nold",
        "Thanks!\n________________________________\nFrom: Ana\nSent: Monday\nTo: us\n\nold",
        "Thanks!\n\n> old\n> older\n",
    ]
    for sample in samples:
        new, quoted = split_quoted(sample)
        assert new.rstrip("!") in ("Thanks", "Obrigado", "Dzięki"), sample
        assert "old" in quoted or "velho" in quoted or "stare" in quoted


def test_interleaved_answers_and_pure_quotes_are_not_folded():
    interleaved = "> question one\nanswer one\n> question two\nanswer two"
    assert split_quoted(interleaved) == (interleaved, "")
    assert split_quoted("> only a quote") == ("> only a quote", "")


def test_inline_images_are_shown_from_our_urls_and_remote_ones_only_when_asked():
    html = '<img src="cid:shot1"><img src="https://tracker.test/p.gif"><b>hi</b>'
    default = sanitize_html(html)
    assert "<img" not in default
    inline = sanitize_html(html, inline_images={"<shot1>": "/attachments/7/"})
    assert '<img src="/attachments/7/">' in inline
    assert "tracker.test" not in inline
    remote = sanitize_html(html, allow_remote_images=True)
    assert "https://tracker.test/p.gif" in remote
    assert "cid:" not in remote
    assert has_remote_images(html)
    assert not has_remote_images('<img src="cid:x">')


def test_a_large_attachment_is_decoded_exactly_without_the_line_by_line_parser():
    payload = bytes(range(256)) * (5 * 2**20 // 256)  # over LARGE_MESSAGE once base64'd
    mail = EmailMessage()
    mail["From"] = "ana@example.test"
    mail["Subject"] = "big"
    mail.set_content("see the dump")
    mail.add_alternative("<p>see the dump</p>", subtype="html")
    mail.add_attachment(payload, maintype="application", subtype="octet-stream", filename="d.bin")
    mail.add_attachment(b"small", maintype="application", subtype="pdf", filename="s.pdf")
    data = mail.as_bytes()
    assert len(data) > LARGE_MESSAGE
    parsed = parse_message(data)
    assert parsed.text.strip() == "see the dump"
    assert "<p>" in parsed.html
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("d.bin", "application/octet-stream"),
        ("s.pdf", "application/pdf"),
    ]
    assert parsed.attachments[0].read() == payload
    assert parsed.attachments[0].spool is not None, "decoded to a temporary file"
    assert parsed.attachments[1].content == b"small"
    parsed.close()


def test_a_forged_extraction_marker_is_ignored():
    mail = EmailMessage()
    mail["From"] = "ana@example.test"
    mail["Subject"] = "forged"
    mail.set_content("x")
    mail.add_attachment(b"real", maintype="application", subtype="pdf", filename="r.pdf")
    mail.get_payload()[1]["X-Helpdesk-Extracted"] = "0000-0"
    assert parse_message(mail.as_bytes()).attachments[0].content == b"real"


def test_an_old_style_bounce_from_the_mailer_daemon_names_the_returned_message():
    returned = EmailMessage()
    returned["From"] = "support@helpdesk.test"
    returned["Message-ID"] = "<ours-9@helpdesk.test>"
    returned.set_content("hi")
    bounce = EmailMessage()
    bounce["From"] = "MAILER-DAEMON@mx.example.test"
    bounce["Subject"] = "Returned mail: User unknown"
    bounce.set_content("The original message follows.")
    bounce.add_attachment(returned)
    parsed = parse_message(bounce.as_bytes())
    assert parsed.is_bounce
    assert parsed.bounced_message_id == "<ours-9@helpdesk.test>"


def test_a_forwarded_message_is_not_mistaken_for_a_returned_one():
    inner = EmailMessage()
    inner["From"] = "boss@example.test"
    inner["Message-ID"] = "<inner@example.test>"
    inner.set_content("x")
    outer = EmailMessage()
    outer["From"] = "ana@example.test"
    outer.set_content("fyi")
    outer.add_attachment(inner)
    parsed = parse_message(outer.as_bytes())
    assert (parsed.is_bounce, parsed.bounced_message_id) == (False, "")
