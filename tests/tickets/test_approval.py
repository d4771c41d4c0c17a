"""Supervisors approve, edit or return junior agents' replies from one queue."""

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
    for callback in callbacks[:1]:  # reply_ready only: it queues; the send task is not run
        callback()

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
