"""The customer's language: detected from their first mail, stored, used for all we send."""

import pytest
from django.utils import timezone

from mailboxes.models import Mailbox, NotificationRule, OutgoingEmail
from mailboxes.notifications import queue_sign_in_email
from mailboxes.processing import process_raw_messages
from people.models import Contact, ContactEmail
from tests.factories import ContactFactory, TopicFactory
from tests.mailboxes.test_processing import build_mail, store_raw
from tickets import services
from tickets.models import Ticket
from tickets.services import portal
from tickets.states import Status

POLISH = (
    "Reklamacja",
    "Dzień dobry, w ostatniej fakturze jest błąd w kwocie. Proszę o korektę. Pozdrawiam",
)
PORTUGUESE = (
    "Reclamação",
    "Bom dia, os ramais do escritório estão sem linha desde ontem. Obrigado",
)
SUBJECT_PREFIX = {"pl": "Otrzymaliśmy Twoją wiadomość", "pt-br": "Recebemos sua mensagem"}


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run a change and its after-commit reactions (the notifications it queues)."""

    def do(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()

    return do


@pytest.fixture
def mailbox(pool):
    return Mailbox.objects.create(
        name="Support", pool=pool, from_address="support@helpdesk.test", kind="maildir"
    )


def _contact(address="carla@example.test"):
    return ContactEmail.objects.get(address=address).contact


def _mail(subject, body, sender="Carla <carla@example.test>", message_id="<first@example.test>"):
    return build_mail(sender=sender, subject=subject, body=body, message_id=message_id)


@pytest.mark.parametrize(("mail", "language"), [(POLISH, "pl"), (PORTUGUESE, "pt-br")])
def test_a_new_contacts_first_mail_gives_the_contact_its_language(mailbox, mail, language):
    process_raw_messages([store_raw(mailbox, _mail(*mail)).pk])[0]
    assert _contact().language == language


@pytest.mark.parametrize(("mail", "language"), [(POLISH, "pl"), (PORTUGUESE, "pt-br")])
def test_a_batch_of_mail_gives_new_contacts_their_languages(mailbox, mail, language):
    other = _mail(
        "Invoice",
        "Hello, the invoice you sent yesterday has the wrong amount on it. Thanks",
        sender="olaf@example.test",
        message_id="<other@example.test>",
    )
    process_raw_messages([store_raw(mailbox, _mail(*mail)).pk, store_raw(mailbox, other).pk])
    assert _contact().language == language
    assert _contact("olaf@example.test").language == "en"


def test_a_language_set_by_hand_is_never_overwritten_by_mail(mailbox):
    contact = ContactFactory(email__address="carla@example.test", language="pt-br")
    process_raw_messages([store_raw(mailbox, _mail(*POLISH)).pk])[0]
    contact.refresh_from_db()
    assert contact.language == "pt-br"


def test_a_mail_too_short_to_tell_leaves_the_language_unknown(mailbox):
    process_raw_messages([store_raw(mailbox, _mail("OK", "ok")).pk])[0]
    assert _contact().language == ""


def test_the_first_mails_language_routes_its_inflected_keywords(mailbox):
    topic = TopicFactory(keywords="faktura")
    process_raw_messages([store_raw(mailbox, _mail(*POLISH)).pk])[0]
    assert Ticket.objects.get().topic == topic


def test_the_batch_path_routes_inflected_keywords_in_the_mail_language(mailbox):
    topic = TopicFactory(keywords="ramal")
    process_raw_messages([store_raw(mailbox, _mail(*PORTUGUESE)).pk])
    assert Ticket.objects.get().topic == topic


@pytest.mark.parametrize(("mail", "language"), [(POLISH, "pl"), (PORTUGUESE, "pt-br")])
def test_the_auto_reply_to_a_first_mail_speaks_its_language(mailbox, mail, language):
    process_raw_messages([store_raw(mailbox, _mail(*mail)).pk])[0]
    reply = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.AUTO_REPLY)
    assert reply.subject.startswith(SUBJECT_PREFIX[language])


@pytest.mark.parametrize(("mail", "language"), [(POLISH, "pl"), (PORTUGUESE, "pt-br")])
def test_the_batch_auto_reply_speaks_the_first_mails_language(mailbox, mail, language):
    process_raw_messages([store_raw(mailbox, _mail(*mail)).pk])
    reply = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.AUTO_REPLY)
    assert reply.subject.startswith(SUBJECT_PREFIX[language])


def test_the_mailbox_language_answers_a_contact_whose_language_is_unknown(pool):
    mailbox = Mailbox.objects.create(
        name="Suporte", pool=pool, from_address="suporte@helpdesk.test", language="pt-br"
    )
    process_raw_messages([store_raw(mailbox, _mail("OK", "ok", message_id="<ok@x>")).pk])[0]
    reply = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.AUTO_REPLY)
    assert reply.subject.startswith(SUBJECT_PREFIX["pt-br"])


RESOLVED = {
    "pl": "Uważamy, że Twój problem został rozwiązany.",
    "pt-br": "Acreditamos que seu problema foi solucionado.",
}


@pytest.mark.parametrize("language", ["pl", "pt-br"])
def test_a_notification_to_the_customer_speaks_their_language(pool, mailbox, agent, run, language):
    customer = ContactFactory(language=language)
    NotificationRule.objects.update_or_create(
        event=NotificationRule.Event.TICKET_RESOLVED,
        pool=None,
        defaults={"enabled": True, "to_requester": True},
    )
    ticket = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Help", description="x", pool=pool
    )
    ticket = services.assign_ticket(ticket, agent=agent, actor=agent)
    run(lambda: services.change_status(ticket, to=Status.RESOLVED, actor=agent))
    mine = OutgoingEmail.objects.get(to=[customer.primary_email])
    assert RESOLVED[language] in mine.body_text


SIGN_IN = {
    "pl": "Twój link do logowania w portalu klienta",
    "pt-br": "Seu link de login no portal do cliente",
}


@pytest.mark.parametrize("language", ["pl", "pt-br"])
def test_the_sign_in_link_speaks_the_customers_language(db, language):
    contact = ContactFactory(language=language)
    outgoing = queue_sign_in_email(
        contact=contact,
        address=contact.primary_email,
        url="https://helpdesk.test/portal/in/x",
        expires_at=timezone.now(),
    )
    assert outgoing is not None
    assert outgoing.subject == SIGN_IN[language]


def test_the_contact_language_is_editable_in_admin(admin_client, db):
    contact = ContactFactory(language="")
    page = admin_client.get(f"/admin/people/contact/{contact.pk}/change/")
    assert b'name="language"' in page.content
    assert Contact._meta.get_field("language").blank
