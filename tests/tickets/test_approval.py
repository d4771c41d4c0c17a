"""Supervisors approve, edit or return junior agents' replies from one queue."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mailboxes.models import OutgoingEmail
from tests.conftest import _agent
from tests.factories import ContactFactory
from tickets import services
from tickets.models import ActivityLog, Approval

QUEUE_QUERIES = 9


def _pending_reply(junior, pool, customer, body="Draft answer"):
    ticket = services.create_ticket(subject="Printer on fire", pool=pool, requester=customer)
    services.add_customer_message(ticket, contact=customer, body_text="Help")
    return services.add_reply(ticket, author=junior, body=body)


def test_supervisor_sees_pending_replies_with_ticket_author_and_text(
    client, supervisor, junior, pool, customer
):
    reply = _pending_reply(junior, pool, customer)
    client.force_login(supervisor)

    page = client.get(reverse("tickets:approvals"))

    assert page.status_code == 200
    assert list(page.context["replies"]) == [reply]
    assert reply.ticket.tag_label in page.text
    assert "Printer on fire" in page.text
    assert "Junior" in page.text
    assert "Draft answer" in page.text
    assert 'id="nav-approvals"' in page.text


def test_approval_queue_runs_a_fixed_number_of_queries(
    client, supervisor, junior, pool, django_assert_num_queries
):
    # Session, user, agent profile, permissions (user and group), count, the page of
    # replies with ticket, pool and author, their attachments, the conversation above each
    # (one windowed query): the same for 1 or 25.
    client.force_login(supervisor)
    _pending_reply(junior, pool, ContactFactory())
    with django_assert_num_queries(QUEUE_QUERIES):
        client.get(reverse("tickets:approvals"))
    for _ in range(24):
        _pending_reply(junior, pool, ContactFactory())
    with django_assert_num_queries(QUEUE_QUERIES):
        page = client.get(reverse("tickets:approvals"))
    assert len(page.context["replies"]) == 25


def test_agents_without_the_permission_get_not_found(client, agent, junior, pool, customer):
    reply = _pending_reply(junior, pool, customer)
    for user in (agent, junior):
        client.force_login(user)
        assert client.get(reverse("tickets:approvals")).status_code == 404
        assert client.post(reverse("tickets:approve", args=[reply.pk])).status_code == 404
        url = reverse("tickets:return_reply", args=[reply.pk])
        assert client.post(url, {"comment": "x"}).status_code == 404
    reply.refresh_from_db()
    assert reply.approval == Approval.PENDING
    assert 'id="nav-approvals"' not in client.get(reverse("tickets:queue")).text


def test_supervisor_edits_and_approves_and_the_reply_is_queued_for_sending(
    client, supervisor, junior, pool, customer, django_capture_on_commit_callbacks
):
    reply = _pending_reply(junior, pool, customer)
    client.force_login(supervisor)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            reverse("tickets:approve", args=[reply.pk]), {"body": "Polished answer"}
        )
    # Nothing after commit runs: the outbox row is written in the approval's transaction.
    assert callbacks

    assert response.status_code == 302
    reply.refresh_from_db()
    assert (reply.approval, reply.body_text, reply.reviewed_by) == (
        Approval.APPROVED,
        "Polished answer",
        supervisor,
    )
    outgoing = OutgoingEmail.objects.get(ticket_message=reply)
    assert outgoing.body_text.startswith("Polished answer")
    assert reply.ticket.activity.filter(action=ActivityLog.Action.REPLY_APPROVED).exists()


def test_returning_needs_a_comment_and_the_author_sees_it(
    client, supervisor, junior, pool, customer
):
    reply = _pending_reply(junior, pool, customer)
    client.force_login(supervisor)
    url = reverse("tickets:return_reply", args=[reply.pk])

    client.post(url, {"comment": "  "})
    reply.refresh_from_db()
    assert reply.approval == Approval.PENDING

    client.post(url, {"comment": "Apologise first"})
    reply.refresh_from_db()
    assert (reply.approval, reply.review_comment) == (Approval.RETURNED, "Apologise first")
    assert not OutgoingEmail.objects.exists()
    client.force_login(junior)
    page = client.get(reverse("tickets:detail", args=[reply.ticket.number]))
    assert "Apologise first" in page.text


def test_a_reply_already_reviewed_is_not_found_in_the_queue(
    client, supervisor, junior, pool, customer
):
    reply = _pending_reply(junior, pool, customer)
    services.return_reply(reply, actor=supervisor, comment="No")
    client.force_login(supervisor)

    response = client.post(reverse("tickets:approve", args=[reply.pk]))

    assert response.status_code == 404
    reply.refresh_from_db()
    assert reply.approval == Approval.RETURNED


def test_reviewer_without_all_pools_sees_only_replies_of_their_pools(
    client, junior, pool, other_pool, customer
):
    from django.contrib.auth.models import Permission

    reviewer = _agent("lead", pools=[other_pool])
    reviewer.user_permissions.add(Permission.objects.get(codename="approve_reply"))
    _pending_reply(junior, pool, customer)
    client.force_login(reviewer)

    page = client.get(reverse("tickets:approvals"))

    assert page.status_code == 200
    assert list(page.context["replies"]) == []


def test_the_approval_page_shows_the_conversation_and_the_status_the_reply_will_set(
    client, supervisor, junior, pool, customer
):
    ticket = services.create_ticket(subject="Printer on fire", pool=pool, requester=customer)
    services.add_customer_message(ticket, contact=customer, body_text="It smokes, help")
    services.add_note(ticket, author=supervisor, body="Known model")
    reply = services.add_reply(ticket, author=junior, body="Unplug it", then_status="resolved")
    services.add_customer_message(ticket, contact=customer, body_text="Still smoking")
    client.force_login(supervisor)

    page = client.get(reverse("tickets:approvals"))

    html = page.text
    # Oldest first, ending with what was written after the reply (flagged), the reply below.
    assert html.index("It smokes, help") < html.index("Known model") < html.index("Still smoking")
    assert html.index("Still smoking") < html.index("Unplug it")
    assert html.count("written after this reply") == 1
    assert f'name="status" id="status-{reply.pk}"' in html
    assert "set status: Resolved" in html


def test_the_conversation_shown_is_bounded(client, supervisor, junior, pool, customer):
    ticket = services.create_ticket(subject="Long", pool=pool, requester=customer)
    for number in range(8):
        services.add_customer_message(ticket, contact=customer, body_text=f"Message {number}")
    services.add_reply(ticket, author=junior, body="Answer")
    client.force_login(supervisor)

    page = client.get(reverse("tickets:approvals"))

    shown = page.context["replies"][0].ticket.recent_messages
    assert [m.body_text for m in shown] == [f"Message {n}" for n in (7, 6, 5, 4, 3)]
    assert "Message 2" not in page.text


def test_supervisor_approves_on_the_ticket_page_and_returns_to_it(
    client, supervisor, junior, pool, customer, django_capture_on_commit_callbacks
):
    reply = _pending_reply(junior, pool, customer)
    services.return_reply(reply, actor=supervisor, comment="Shorter")
    services.resubmit_reply(reply, author=junior, body="Short", then_status="waiting_customer")
    client.force_login(supervisor)
    url = reverse("tickets:detail", args=[reply.ticket.number])

    page = client.get(url)
    assert reverse("tickets:approve", args=[reply.pk]) in page.text
    assert "On approval it will set the status: Waiting for customer." in page.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("tickets:approve", args=[reply.pk]), {"back": "ticket", "status": ""}
        )

    assert response.url == url
    reply.refresh_from_db()
    assert reply.approval == Approval.APPROVED
    reply.ticket.refresh_from_db()
    assert reply.ticket.status == "in_progress"  # the supervisor dropped the held status


def test_the_junior_sees_no_approve_button_on_the_ticket_page(client, junior, pool, customer):
    reply = _pending_reply(junior, pool, customer)
    client.force_login(junior)

    page = client.get(reverse("tickets:detail", args=[reply.ticket.number]))

    assert "Not sent yet" in page.text
    assert reverse("tickets:approve", args=[reply.pk]) not in page.text


def test_the_junior_sees_in_the_queue_which_reply_was_returned_and_why(
    client, supervisor, junior, agent, pool, customer
):
    reply = _pending_reply(junior, pool, customer)
    services.return_reply(reply, actor=supervisor, comment="Apologise first")

    client.force_login(junior)
    page = client.get(reverse("tickets:queue"))
    assert "Apologise first" in page.text
    assert f"#message-{reply.pk}" in page.text

    client.force_login(agent)
    assert "Apologise first" not in client.get(reverse("tickets:queue")).text
    services.resubmit_reply(reply, author=junior, body="Sorry, and ...")
    client.force_login(junior)
    assert "Apologise first" not in client.get(reverse("tickets:queue")).text


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_ticket_page_costs_the_same_with_one_or_many_pending_and_returned_replies(
    client, supervisor, junior, pool, customer
):
    reply = _pending_reply(junior, pool, customer)
    ticket = reply.ticket
    client.force_login(supervisor)
    url = reverse("tickets:detail", args=[ticket.number])
    one = _queries(client, url)
    for number in range(10):
        more = services.add_reply(
            ticket,
            author=junior,
            body=f"Draft {number}",
            then_status="resolved",
            files=[SimpleUploadedFile(f"f{number}.txt", b"x")],
        )
        if number % 2:
            services.return_reply(more, actor=supervisor, comment="Again")
    many = _queries(client, url)
    assert one == many
    assert client.get(url).text.count('class="btn btn-success btn-sm approve-button"') == 6


def test_the_juniors_queue_costs_the_same_however_many_replies_were_returned(
    client, supervisor, junior, pool, customer
):
    client.force_login(junior)
    url = reverse("tickets:queue")
    reply = _pending_reply(junior, pool, customer)
    services.return_reply(reply, actor=supervisor, comment="Again")
    one = _queries(client, url)
    for _ in range(8):
        services.return_reply(
            _pending_reply(junior, pool, ContactFactory()), actor=supervisor, comment="Again"
        )
    assert _queries(client, url) == one
