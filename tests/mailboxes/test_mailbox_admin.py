"""Mailbox admin: the password is write-only; raw messages can be reprocessed and downloaded."""

import pytest
from django.urls import reverse

from mailboxes.ingest import store_raw_messages
from mailboxes.models import Mailbox, OutgoingEmail, RawMessage
from tests.mailboxes.conftest import make_mail

SECRET = "Zq9-very-secret-mailbox-password"


@pytest.fixture
def mailbox(pool):
    return Mailbox.objects.create(
        name="Support",
        kind=Mailbox.Kind.IMAP,
        pool=pool,
        from_address="support@helpdesk.test",
        host="imap.example.test",
        username="support",
        password=SECRET,
        last_error="LoginError: b'[AUTHENTICATIONFAILED] Authentication failed.'",
        consecutive_failures=3,
    )


def _form_data(mailbox, **changes):
    data = {
        "name": mailbox.name,
        "kind": mailbox.kind,
        "pool": mailbox.pool_id,
        "active": "on",
        "fetch_interval": "00:01:00",
        "from_address": mailbox.from_address,
        "from_name": "",
        "auto_reply": "on",
        "language": "en",
        "host": mailbox.host,
        "port": "",
        "security": mailbox.security,
        "username": mailbox.username,
        "password": "",
        "folder": "INBOX",
        "after_import": mailbox.after_import,
        "move_to_folder": "",
        "maildir_path": "",
        "smtp_security": mailbox.smtp_security,
        "next_fetch_at_0": "2026-11-22",
        "next_fetch_at_1": "10:00:00",
    }
    return {**data, **changes}


def test_mailbox_password_never_appears_in_any_admin_html(admin_client, mailbox):
    pages = [
        reverse("admin:mailboxes_mailbox_changelist"),
        reverse("admin:mailboxes_mailbox_changelist") + "?q=support",
        reverse("admin:mailboxes_mailbox_change", args=[mailbox.pk]),
        reverse("admin:mailboxes_mailbox_history", args=[mailbox.pk]),
        reverse("admin:mailboxes_mailbox_delete", args=[mailbox.pk]),
        reverse("admin:mailboxes_mailbox_add"),
    ]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        assert SECRET not in response.text, page
    # An invalid submission re-renders the form: still nothing.
    url = reverse("admin:mailboxes_mailbox_change", args=[mailbox.pk])
    response = admin_client.post(url, _form_data(mailbox, name="", password="typed-New-Secret"))
    assert response.status_code == 200
    assert SECRET not in response.text
    assert "typed-New-Secret" not in response.text


def test_mailbox_admin_shows_fetch_status_read_only(admin_client, mailbox):
    response = admin_client.get(reverse("admin:mailboxes_mailbox_change", args=[mailbox.pk]))

    assert "AUTHENTICATIONFAILED" in response.text
    assert 'name="last_error"' not in response.text
    assert 'name="consecutive_failures"' not in response.text


def test_blank_password_keeps_the_old_one_and_a_new_one_replaces_it(admin_client, mailbox):
    url = reverse("admin:mailboxes_mailbox_change", args=[mailbox.pk])

    response = admin_client.post(url, _form_data(mailbox, from_name="Support team"))
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert (mailbox.from_name, mailbox.password) == ("Support team", SECRET)

    admin_client.post(url, _form_data(mailbox, password="brand-New-pass"))
    mailbox.refresh_from_db()
    assert mailbox.password == "brand-New-pass"


def test_raw_message_admin_lists_searches_and_downloads_as_attachment(admin_client, mailbox):
    raw = store_raw_messages(mailbox, [("1:1", make_mail(1, subject="<script>x</script>"))])[0]
    changelist = reverse("admin:mailboxes_rawmessage_changelist")

    assert admin_client.get(changelist, {"state": "new"}).status_code == 200
    found = admin_client.get(changelist, {"q": "message-1@example.test"})
    assert "&lt;script&gt;x&lt;/script&gt;" in found.text
    assert "<script>x</script>" not in found.text
    change = admin_client.get(reverse("admin:mailboxes_rawmessage_change", args=[raw.pk]))
    download_url = reverse("admin:mailboxes_rawmessage_download", args=[raw.pk])
    assert download_url in change.text
    assert raw.file.url not in change.text

    response = admin_client.get(download_url)

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="raw-message-{raw.pk}.eml"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == make_mail(1, subject="<script>x</script>")
    response.close()


def test_raw_message_download_is_for_staff_only(client, agent_client, mailbox):
    raw = store_raw_messages(mailbox, [("1:1", make_mail(1))])[0]
    url = reverse("admin:mailboxes_rawmessage_download", args=[raw.pk])

    for visitor in (agent_client, client):
        response = visitor.get(url)
        assert response.status_code == 302  # to the admin login
        assert response["Location"].startswith(reverse("admin:login"))


def test_reprocess_action_processes_failed_messages_only(admin_client, mailbox):
    failed = store_raw_messages(mailbox, [("1:1", make_mail(1))])[0]
    RawMessage.objects.filter(pk=failed.pk).update(state=RawMessage.State.FAILED, error="boom")
    untouched = store_raw_messages(mailbox, [("1:2", make_mail(2))])[0]

    response = admin_client.post(
        reverse("admin:mailboxes_rawmessage_changelist"),
        {"action": "reprocess", "_selected_action": [failed.pk, untouched.pk]},
        follow=True,
    )

    assert "Reprocessed 1 message; 0 still failed." in response.text
    failed.refresh_from_db()
    untouched.refresh_from_db()
    assert failed.state == RawMessage.State.PROCESSED
    assert failed.ticket is not None
    assert untouched.state == RawMessage.State.NEW


def test_outbox_and_template_admin_pages_render(admin_client, mailbox):
    OutgoingEmail.objects.create(
        from_address="support@helpdesk.test",
        to=["carla@example.test"],
        subject="Re: printer",
        body_text="Hello",
        message_id="<out-1@helpdesk.test>",
        state=OutgoingEmail.State.RETRY,
        attempts=2,
        last_error="SMTP down",
    )
    pages = ["outgoingemail", "emailtemplate", "autoreplylog", "rawmessage"]
    for name in pages:
        response = admin_client.get(reverse(f"admin:mailboxes_{name}_changelist"))
        assert response.status_code == 200, name
    outbox = admin_client.get(reverse("admin:mailboxes_outgoingemail_changelist"))
    assert "SMTP down" in outbox.text
    assert admin_client.get(reverse("admin:mailboxes_outgoingemail_add")).status_code == 403
