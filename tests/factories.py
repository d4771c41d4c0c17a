"""factory_boy factories for many rows; the named cast lives in conftest.py."""

import factory
from django.contrib.auth import get_user_model

from mailboxes.models import Mailbox
from people.models import AgentProfile, Contact, ContactEmail
from tickets.models import Message, Pool, PoolMembership, Ticket, Topic
from tickets.services.numbering import next_ticket_number
from tickets.states import Priority, Status


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@helpdesk.test")
    password = factory.django.Password("secret-pass-123")


class AgentFactory(UserFactory):
    profile = factory.RelatedFactory(
        "tests.factories.AgentProfileFactory", factory_related_name="user"
    )


class AgentProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)


class PoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pool

    name = factory.Sequence(lambda n: f"Pool {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PoolMembership

    pool = factory.SubFactory(PoolFactory)
    user = factory.SubFactory(AgentFactory)
    pull_priority = 1


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    name = factory.Sequence(lambda n: f"Topic {n}")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact
        skip_postgeneration_save = True

    name = factory.Faker("name")
    email = factory.RelatedFactory(
        "tests.factories.ContactEmailFactory", factory_related_name="contact"
    )


class ContactEmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactEmail

    contact = factory.SubFactory(ContactFactory)
    address = factory.Sequence(lambda n: f"customer{n}@example.test")
    is_primary = True


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket row straight in the database (no log): for volume, not for workflows."""

    class Meta:
        model = Ticket
        skip_postgeneration_save = True

    number = factory.LazyFunction(next_ticket_number)
    subject = factory.Faker("sentence", nb_words=5)
    pool = factory.SubFactory(PoolFactory)
    requester = factory.SubFactory(ContactFactory)
    priority = Priority.NORMAL
    status = Status.NEW


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    kind = Message.Kind.INBOUND
    body_text = factory.Faker("paragraph")


def make_mailbox(pool, name="Support", address="support@helpdesk.test") -> Mailbox:
    return Mailbox.objects.create(name=name, pool=pool, from_address=address, kind="maildir")


def open_ticket(pool, subject="Help", *, text="", language=None, **chosen):
    """A new ticket as every channel opens one: the intake service, with a list of one.

    ``language``: the text's (detected, as mail processing and the portal do, when None);
    ``chosen``: topic, product or priority the customer picked.
    """
    from people.language import detect_language
    from tickets.services.intake import CustomerMail, receive_customer_messages

    if language is None:
        language = detect_language(f"{subject}\n{text}", default="en")
    mail = CustomerMail(
        ContactFactory(),
        text or subject,
        subject=subject,
        pool=pool,
        routing_text=text,
        language=language,
        **chosen,
    )
    receive_customer_messages([mail])
    return mail.ticket
