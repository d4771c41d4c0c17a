"""One email template model for every automatic mail, and one ``render_email`` to pick it."""

import pytest
from django.db import connection
from django.urls import reverse

from mailboxes.emails import auto_reply_values, render_email
from mailboxes.models import EmailTemplate, Mailbox
from mailboxes.notifications import EventInfo, Recipient, notification_email
from tickets import services

Kind = EmailTemplate.Kind


@pytest.fixture
def mailbox(pool):
    return Mailbox.objects.create(name="Billing", pool=pool, from_address="billing@acme.test")


def test_render_email_prefers_language_then_mailbox_then_pool(pool, other_pool, mailbox, customer):
    other_mailbox = Mailbox.objects.create(name="Sales", pool=pool, from_address="s@acme.test")
    for language, scope, text in (
        ("en", {"mailbox": mailbox}, "en mailbox"),
        ("pl", {}, "pl everyone"),
        ("pl", {"pool": pool}, "pl pool"),
        ("pl", {"mailbox": other_mailbox}, "pl other mailbox"),
        ("pl", {"mailbox": mailbox, "active": False}, "pl mailbox"),
    ):
        EmailTemplate.objects.create(
            kind=Kind.AUTO_REPLY, language=language, subject="s", body_text=text, **scope
        )
    ticket = services.create_ticket(subject="Invoice", pool=pool, requester=customer)
    context = {"ticket": ticket, "mailbox": mailbox}

    def text(language, **scope):
        rendered = render_email(
            Kind.AUTO_REPLY, language=language, context=context, values=auto_reply_values, **scope
        )
        return rendered.body_text.strip()

    # The reader's language beats a more specific row in the next language; an inactive
    # row and another mailbox's row never speak.
    assert text(["pl", "en"], mailbox=mailbox) == "pl pool"
    EmailTemplate.objects.filter(body_text="pl mailbox").update(active=True)
    assert text(["pl", "en"], mailbox=mailbox) == "pl mailbox"
    assert text("pl", pool_id=other_pool.pk) == "pl everyone"
    assert text(["de", "en"], mailbox=mailbox) == "en mailbox"
    assert "This is an automatic message." in text("en", pool_id=pool.pk)  # the files


def test_a_cached_lookup_reads_each_template_once(
    pool, mailbox, customer, django_assert_num_queries
):
    EmailTemplate.objects.create(kind=Kind.AUTO_REPLY, language="en", subject="Hi", body_text="x")
    ticket = services.create_ticket(subject="Invoice", pool=pool, requester=customer)
    context, cache = {"ticket": ticket, "mailbox": mailbox}, {}
    arguments = {"language": "en", "mailbox": mailbox, "context": context, "cache": cache}
    render_email(Kind.AUTO_REPLY, values=auto_reply_values, **arguments)
    with django_assert_num_queries(0):
        rendered = render_email(Kind.AUTO_REPLY, values=auto_reply_values, **arguments)
    assert rendered.subject == f"Hi {ticket.tag_label}"


@pytest.mark.django_db(transaction=True)
def test_every_admin_edited_text_survives_the_template_migration(pool, customer):
    from django.db.migrations.executor import MigrationExecutor

    before = [
        ("mailboxes", "0009_suppression_bulk_mail_size_limit_attention"),
        ("sla", "0001_initial"),
    ]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    mailbox = old.get_model("mailboxes", "Mailbox").objects.create(
        name="Billing", pool_id=pool.pk, from_address="billing@acme.test"
    )
    old.get_model("mailboxes", "EmailTemplate").objects.create(
        kind="auto_reply", language="pl", mailbox=mailbox, subject="Mamy", body="Dzięki"
    )
    rule = old.get_model("mailboxes", "NotificationRule")
    template = old.get_model("mailboxes", "NotificationTemplate")
    off = rule.objects.create(event="ticket_resolved", pool_id=pool.pk, enabled=False)
    everyone, _ = rule.objects.get_or_create(event="ticket_opened", pool=None)
    template.objects.create(rule=off, language="pt-br", subject="Resolvido", body="Olá {{ link }}")
    template.objects.create(rule=everyone, language="en", subject="New", body="{{ sentence }}")
    old.get_model("sla", "NotificationTemplate").objects.create(
        kind="breach", language="de", subject="Frist verpasst", body="{{ target }}"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(latest)

    rows = EmailTemplate.objects.order_by("kind", "language")
    assert [
        (r.kind, r.language, r.pool_id, r.mailbox_id, r.subject, r.body_text, r.body_html, r.active)
        for r in rows
    ] == [
        ("auto_reply", "pl", None, mailbox.pk, "Mamy", "Dzięki", "", True),
        ("notification.ticket_opened", "en", None, None, "New", "{{ sentence }}", "", True),
        ("notification.ticket_resolved", "pt-br", pool.pk, None, "Resolvido", "Olá {{ link }}",
         "", True),
        ("sla.breach", "de", None, None, "Frist verpasst", "{{ target }}", "", True),
    ]  # fmt: skip
    # And the mail says what the admin wrote.
    ticket = services.create_ticket(subject="Invoice", pool=pool, requester=customer)
    info = EventInfo(event="ticket_resolved", ticket=ticket)
    recipient = Recipient(address="c@acme.test", name="Carla", language="pt-br", is_customer=True)
    rendered = notification_email(info, recipient)
    assert rendered.subject == f"Resolvido {ticket.tag_label}"
    assert rendered.body_text == f"Olá http://127.0.0.1:8000/portal/tickets/{ticket.number}/\n"


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_the_template_admin_filters_by_kind_language_and_scope(admin_client, pool, mailbox):
    EmailTemplate.objects.create(
        kind=Kind.AUTO_REPLY, language="en", mailbox=mailbox, subject="Mailbox text", body_text="x"
    )
    EmailTemplate.objects.create(
        kind=Kind.SLA_BREACH, language="pl", subject="Everyone text", body_text="x"
    )
    url = reverse("admin:mailboxes_emailtemplate_changelist")
    for query, shown, hidden in (
        (f"mailbox__id__exact={mailbox.pk}", "Mailbox text", "Everyone text"),
        ("mailbox__isnull=True&pool__isnull=True", "Everyone text", "Mailbox text"),
        (f"kind={Kind.SLA_BREACH}", "Everyone text", "Mailbox text"),
        ("language=en", "Mailbox text", "Everyone text"),
    ):
        response = admin_client.get(f"{url}?{query}")
        assert response.status_code == 200
        assert shown in response.text and hidden not in response.text, query


def test_a_notification_rule_links_to_the_texts_of_its_event(admin_client):
    response = admin_client.get(reverse("admin:mailboxes_notificationrule_changelist"))
    assert response.status_code == 200
    assert "/admin/mailboxes/emailtemplate/?kind=notification.ticket_opened" in response.text


def test_a_template_for_a_mailbox_of_another_pool_is_refused(admin_client, other_pool, mailbox):
    response = admin_client.post(
        reverse("admin:mailboxes_emailtemplate_add"),
        {
            "kind": Kind.AUTO_REPLY,
            "language": "en",
            "pool": other_pool.pk,
            "mailbox": mailbox.pk,
            "active": "on",
            "subject": "Got it",
            "body_text": "Thanks",
        },
    )
    assert response.status_code == 200
    assert "This mailbox belongs to another pool." in response.text
    assert not EmailTemplate.objects.exists()
