"""The customer portal: open, follow, reply, cancel, approve or reject, in one thread with mail."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from people.models import Contact, Organization
from tests.factories import ContactFactory
from tickets import services
from tickets.models import ActivityLog, Attachment, Message, Ticket
from tickets.services import portal
from tickets.states import Channel, Priority, Status

PORTAL_LIST_QUERIES = 5
# +1: the SLA panel (the resolution deadline of an open ticket).
PORTAL_TICKET_QUERIES = 9


def _open(client, pool, **extra):
    data = {
        "pool": pool.pk,
        "priority": Priority.HIGH,
        "subject": "Printer on fire",
        "description": "It smokes when I print.",
        **extra,
    }
    return client.post(reverse("portal:new"), data)


def test_customer_opens_a_ticket_with_files_in_the_chosen_department(
    customer_client, customer, pool
):
    pool.customers_set_priority = True  # the pool takes the customer's priority
    pool.save()
    response = _open(
        customer_client,
        pool,
        attachments=[SimpleUploadedFile("photo.jpg", b"jpeg"), SimpleUploadedFile("a.txt", b"x")],
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("portal:detail", args=[ticket.number])
    assert (ticket.pool, ticket.requester, ticket.channel) == (pool, customer, Channel.PORTAL)
    assert ticket.priority == Priority.HIGH
    message = ticket.messages.get()
    assert message.kind == Message.Kind.INBOUND
    assert message.author_contact == customer
    assert message.body_text == "It smokes when I print."
    assert sorted(a.filename for a in message.attachments.all()) == ["a.txt", "photo.jpg"]


def test_opening_a_ticket_without_a_description_shows_an_error(customer_client, pool):
    response = _open(customer_client, pool, description="")
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_portal_reply_is_a_customer_message_like_a_mailed_one(customer_client, customer, pool):
    ticket = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Help", description="First", pool=pool
    )
    response = customer_client.post(
        reverse("portal:reply", args=[ticket.number]),
        {"body": "More details", "attachments": [SimpleUploadedFile("log.txt", b"log")]},
    )
    assert response.status_code == 302
    last = ticket.messages.order_by("pk").last()
    assert (last.kind, last.author_contact, last.body_text) == (
        Message.Kind.INBOUND,
        customer,
        "More details",
    )
    assert last.attachments.get().filename == "log.txt"
    assert ticket.activity.filter(action=ActivityLog.Action.CUSTOMER_MESSAGE).count() == 2


def test_a_portal_reply_reopens_a_closed_ticket_and_counts_the_reopen(
    customer_client, customer, pool, agent
):
    ticket = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Help", description="First", pool=pool
    )
    services.change_status(ticket, to=Status.CLOSED, actor=None)
    customer_client.post(reverse("portal:reply", args=[ticket.number]), {"body": "Again"})
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.reopen_count == 1


def test_the_customer_reads_replies_but_never_notes_or_unapproved_replies(
    customer_client, customer, pool, agent, junior
):
    ticket = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Help", description="My question", pool=pool
    )
    services.add_reply(ticket, author=agent, body="The public answer")
    services.add_note(ticket, author=agent, body="SECRET internal note")
    services.add_reply(ticket, author=junior, body="UNAPPROVED junior draft")
    page = customer_client.get(reverse("portal:detail", args=[ticket.number])).content.decode()
    assert "My question" in page
    assert "The public answer" in page
    assert "SECRET internal note" not in page
    assert "UNAPPROVED junior draft" not in page


def test_the_customer_cancels_an_open_ticket(customer_client, customer, pool):
    ticket = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Help", description="x", pool=pool
    )
    response = customer_client.post(
        reverse("portal:cancel", args=[ticket.number]), {"reason": "Found it myself"}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.CANCELLED
    assert ticket.activity.filter(detail="Found it myself").exists()


def test_a_cancelled_ticket_cannot_be_cancelled_again_or_replied_to(
    customer_client, customer, pool
):
    ticket = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Help", description="x", pool=pool
    )
    portal.cancel_ticket(ticket, actor=None)
    again = customer_client.post(reverse("portal:cancel", args=[ticket.number]), {})
    reply = customer_client.post(reverse("portal:reply", args=[ticket.number]), {"body": "hi"})
    assert again.status_code == reply.status_code == 400
    assert "Only an open ticket can be cancelled." in again.content.decode()
    assert ticket.messages.count() == 1


def _resolved(customer, pool, agent):
    ticket = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Help", description="x", pool=pool
    )
    services.add_reply(ticket, author=agent, body="Fixed", then_status=Status.RESOLVED)
    return Ticket.objects.get(pk=ticket.pk)


def test_approving_the_resolution_closes_the_ticket(customer_client, customer, pool, agent):
    ticket = _resolved(customer, pool, agent)
    response = customer_client.post(reverse("portal:approve", args=[ticket.number]))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.closed_at is not None


def test_rejecting_the_resolution_reopens_the_ticket_with_the_reason(
    customer_client, customer, pool, agent
):
    ticket = _resolved(customer, pool, agent)
    response = customer_client.post(
        reverse("portal:reject", args=[ticket.number]), {"reason": "Still broken on Mondays"}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.reopen_count == 1
    reopened = ticket.activity.get(action=ActivityLog.Action.REOPENED)
    assert reopened.detail == "Still broken on Mondays"


def test_rejecting_needs_a_reason(customer_client, customer, pool, agent):
    ticket = _resolved(customer, pool, agent)
    response = customer_client.post(reverse("portal:reject", args=[ticket.number]), {"reason": ""})
    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_an_open_ticket_cannot_be_approved(customer_client, customer, pool):
    ticket = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Help", description="x", pool=pool
    )
    response = customer_client.post(reverse("portal:approve", args=[ticket.number]))
    assert response.status_code == 400
    assert "not waiting for your approval" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_colleagues_see_each_others_tickets_only_when_the_organization_shares_them(
    client, customer, customer_user, pool
):
    colleague = ContactFactory(name="Colleague")
    organization = Organization.objects.create(name="Acme")
    Contact.objects.filter(pk__in=[customer.pk, colleague.pk]).update(organization=organization)
    ticket = portal.open_ticket_from_portal(
        contact=colleague, actor=None, subject="Colleague's", description="x", pool=pool
    )
    client.force_login(customer_user)
    url = reverse("portal:detail", args=[ticket.number])
    assert client.get(url).status_code == 404
    assert "Colleague&#x27;s" not in client.get(reverse("portal:home")).content.decode()
    organization.share_tickets = True
    organization.save()
    assert client.get(url).status_code == 200
    assert "Colleague&#x27;s" in client.get(reverse("portal:home")).content.decode()


def test_the_ticket_list_has_open_and_finished_tabs(customer_client, customer, pool):
    open_ticket = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Still open", description="x", pool=pool
    )
    done = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="All done", description="x", pool=pool
    )
    portal.cancel_ticket(done, actor=None)
    open_page = customer_client.get(reverse("portal:home")).content.decode()
    finished = customer_client.get(reverse("portal:home"), {"tab": "closed"}).content.decode()
    assert open_ticket.number in open_page and done.number not in open_page
    assert done.number in finished and open_ticket.number not in finished


def _grow(customer, pool, agent, n):
    for i in range(n):
        ticket = portal.open_ticket_from_portal(
            contact=customer,
            actor=None,
            subject=f"T{i}",
            description="x",
            pool=pool,
            files=[SimpleUploadedFile(f"f{i}.txt", b"x")],
        )
        services.add_reply(ticket, author=agent, body=f"answer {i}")
        portal.reply_from_portal(
            ticket, contact=customer, body="thanks", files=[SimpleUploadedFile("g.txt", b"y")]
        )


def test_the_ticket_list_costs_a_fixed_number_of_queries(
    customer_client, customer, pool, agent, django_assert_max_num_queries
):
    _grow(customer, pool, agent, 3)
    with django_assert_max_num_queries(PORTAL_LIST_QUERIES):
        assert customer_client.get(reverse("portal:home")).status_code == 200
    _grow(customer, pool, agent, 25)
    with django_assert_max_num_queries(PORTAL_LIST_QUERIES):
        assert customer_client.get(reverse("portal:home"), {"tab": "all"}).status_code == 200


def test_the_ticket_page_costs_a_fixed_number_of_queries_whatever_the_thread(
    customer_client, customer, pool, agent, django_assert_max_num_queries
):
    ticket = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Long", description="x", pool=pool
    )
    url = reverse("portal:detail", args=[ticket.number])

    def grow(n):
        for i in range(n):
            services.add_reply(ticket, author=agent, body=f"answer {i}")
            portal.reply_from_portal(
                ticket, contact=customer, body="more", files=[SimpleUploadedFile("a.txt", b"a")]
            )

    grow(1)
    with django_assert_max_num_queries(PORTAL_TICKET_QUERIES):
        assert customer_client.get(url).status_code == 200
    grow(20)
    with django_assert_max_num_queries(PORTAL_TICKET_QUERIES):
        page = customer_client.get(url)
    assert page.status_code == 200
    assert Attachment.objects.filter(ticket=ticket).count() == 21


@pytest.mark.parametrize("name", ["home", "new"])
def test_anonymous_visitors_are_sent_to_the_portal_sign_in(client, name):
    response = client.get(reverse(f"portal:{name}"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("portal:login"))


def test_a_customer_signs_in_with_a_password(client, customer_user):
    response = client.post(
        reverse("portal:login"), {"username": "carla", "password": "secret-pass-123"}
    )
    assert response.status_code == 302
    assert response.url == reverse("portal:home")
    assert client.get(reverse("portal:home")).status_code == 200


def test_an_agent_cannot_sign_in_to_the_portal(client, agent):
    response = client.post(
        reverse("portal:login"), {"username": "agent", "password": "secret-pass-123"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_new_ticket_form_costs_a_fixed_number_of_queries(
    customer_client, pool, other_pool, django_assert_max_num_queries
):
    from tests.factories import TopicFactory

    for _ in range(15):
        TopicFactory()
    # Session, user, agent profile (time zone), contact, then the three choice lists
    # (crispy reads the department list twice), and which departments offer each service.
    with django_assert_max_num_queries(9):
        assert customer_client.get(reverse("portal:new")).status_code == 200


def test_a_customer_who_came_by_link_chooses_a_password_then_signs_in_with_it(client, customer):
    from people.services import create_customer_account

    user = create_customer_account(customer)
    assert not user.has_usable_password()
    client.force_login(user)
    response = client.post(
        reverse("portal:password"),
        {"new_password1": "a-long-Passphrase-7", "new_password2": "a-long-Passphrase-7"},
    )
    assert response.status_code == 302
    client.logout()
    response = client.post(
        reverse("portal:login"),
        {"username": user.username, "password": "a-long-Passphrase-7"},
    )
    assert response.url == reverse("portal:home")


def test_changing_a_password_needs_the_old_one(customer_client, customer_user):
    response = customer_client.post(
        reverse("portal:password"),
        {
            "old_password": "wrong",
            "new_password1": "a-long-Passphrase-7",
            "new_password2": "a-long-Passphrase-7",
        },
    )
    assert response.status_code == 200
    customer_user.refresh_from_db()
    assert customer_user.check_password("secret-pass-123")


def test_signing_in_switches_to_the_customers_language(client, customer, customer_user):
    customer.refresh_from_db()
    customer.language = "pl"
    customer.save(update_fields=["language"])
    response = client.post(
        reverse("portal:login"), {"username": "carla", "password": "secret-pass-123"}
    )
    assert response.cookies["django_language"].value == "pl"
