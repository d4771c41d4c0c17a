import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import _agent
from tickets import services
from tickets.models import ActivityLog, CannedResponse, CannedResponseFile, Message
from tickets.states import Priority, Status


def _ticket(pool, customer, **kwargs):
    ticket = services.create_ticket(
        subject="Invoice twice", pool=pool, requester=customer, **kwargs
    )
    services.add_customer_message(ticket, contact=customer, body_text="Charged twice!")
    return ticket


def _url(name, ticket):
    return reverse(f"tickets:{name}", args=[ticket.number])


def test_ticket_page_shows_thread_and_history(agent_client, pool, customer):
    ticket = _ticket(pool, customer)
    response = agent_client.get(_url("detail", ticket))
    assert "Charged twice!" in response.text
    assert f"[#{ticket.number}]" in response.text
    assert [e.action for e in response.context["activity"]] == ["created", "customer_message"]


def test_reply_with_files_records_first_response_and_takes_the_ticket(
    agent_client, agent, pool, customer
):
    ticket = _ticket(pool, customer)
    response = agent_client.post(
        _url("reply", ticket),
        {
            "body": "Refunded.",
            "then_status": Status.WAITING_CUSTOMER,
            "attachments": [SimpleUploadedFile("receipt.pdf", b"%PDF")],
        },
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    reply = ticket.messages.get(kind=Message.Kind.OUTBOUND)
    assert (reply.author_user, reply.attachments.get().filename) == (agent, "receipt.pdf")
    assert ticket.first_response_at is not None
    assert (ticket.assignee, ticket.status) == (agent, Status.WAITING_CUSTOMER)
    actions = list(ticket.activity.values_list("action", flat=True))
    assert actions[-4:] == ["reply", "assigned", "status", "status"]


def test_empty_reply_shows_the_error_and_keeps_nothing(agent_client, pool, customer):
    ticket = _ticket(pool, customer)
    response = agent_client.post(_url("reply", ticket), {"body": "  "})
    assert response.status_code == 400
    assert "This field is required." in response.text
    assert not ticket.messages.filter(kind=Message.Kind.OUTBOUND).exists()


def test_internal_note_is_logged_as_a_note(agent_client, pool, customer):
    ticket = _ticket(pool, customer)
    agent_client.post(_url("note", ticket), {"note-body": "Customer is VIP"})
    assert ticket.messages.filter(kind=Message.Kind.NOTE, body_text="Customer is VIP").exists()
    assert ticket.activity.filter(action=ActivityLog.Action.NOTE).exists()


def test_forbidden_status_change_says_why(agent_client, agent, pool, customer):
    ticket = _ticket(pool, customer)
    services.change_status(ticket, to=Status.CANCELLED, actor=agent)
    response = agent_client.post(_url("status", ticket), {"status": Status.IN_PROGRESS})
    assert response.status_code == 400
    assert "cannot go from" in response.text


def test_changing_priority_topic_and_pool_logs_each_field(agent_client, pool, other_pool, customer):
    ticket = _ticket(pool, customer)
    response = agent_client.post(
        _url("fields", ticket), {"priority": Priority.URGENT, "pool": other_pool.pk}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.pool) == (Priority.URGENT, other_pool)
    entries = ticket.activity.filter(action__in=["priority", "pool"])
    logged = {entry.action: entry.after_label for entry in entries}
    assert logged == {"priority": "Urgent", "pool": other_pool.name}


def test_technician_must_belong_to_the_pool(agent_client, agent, pool, customer, other_agent):
    ticket = _ticket(pool, customer)
    response = agent_client.post(_url("assign", ticket), {"assignee": other_agent.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.text
    colleague = _agent("colleague", pools=[pool])
    agent_client.post(_url("assign", ticket), {"assignee": colleague.pk, "manager": agent.pk})
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.manager, ticket.status) == (colleague, agent, Status.TAKEN)


def test_watchers_and_tags(agent_client, agent, pool, customer):
    ticket = _ticket(pool, customer)
    agent_client.post(_url("watchers", ticket), {"user": agent.pk})
    agent_client.post(_url("tags", ticket), {"tags": "VIP, refund"})
    assert list(ticket.watchers.all()) == [agent]
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["refund", "vip"]
    agent_client.post(_url("watchers", ticket), {"user": agent.pk, "remove": "1"})
    agent_client.post(_url("tags", ticket), {"tags": "vip"})
    assert not ticket.watchers.exists()
    assert list(ticket.tags.values_list("name", flat=True)) == ["vip"]
    actions = set(ticket.activity.values_list("action", flat=True))
    assert {"watcher_added", "watcher_removed", "tag_added", "tag_removed"} <= actions


def test_agent_who_cannot_see_the_ticket_cannot_watch_it(agent_client, pool, customer, other_agent):
    ticket = _ticket(pool, customer)
    response = agent_client.post(_url("watchers", ticket), {"user": other_agent.pk})
    assert response.status_code == 400
    assert not ticket.watchers.exists()


def test_merge_moves_the_thread_and_closes_the_source(agent_client, agent, pool, customer):
    source, target = _ticket(pool, customer), _ticket(pool, customer)
    services.add_watcher(source, user=agent, actor=agent)
    response = agent_client.post(_url("merge", source), {"target": f"[#{target.number}]"})
    assert response["Location"] == target.get_absolute_url()
    source.refresh_from_db()
    assert (source.status, source.merged_into) == (Status.CLOSED, target)
    assert target.messages.count() == 2
    assert list(target.watchers.all()) == [agent]
    assert target.activity.filter(action="merged", before=source.number).exists()


def test_merge_into_itself_is_refused(agent_client, pool, customer):
    ticket = _ticket(pool, customer)
    response = agent_client.post(_url("merge", ticket), {"target": ticket.number})
    assert response.status_code == 400
    assert "cannot be merged into itself" in response.text


def test_canned_response_fills_placeholders_and_attaches_its_files(
    agent_client, agent, pool, customer
):
    ticket = _ticket(pool, customer)
    canned = CannedResponse.objects.create(
        title="Refund",
        body="Hi {customer_name}, ticket {ticket_number}. {agent_name} {obj.__class__}",
        urls="https://help.example/refunds",
        pool=pool,
    )
    canned_file = CannedResponseFile(canned_response=canned, filename="policy.txt")
    canned_file.file.save("policy.txt", SimpleUploadedFile("policy.txt", b"terms"), save=True)
    response = agent_client.get(
        reverse("tickets:canned", args=[ticket.number, canned.pk]), {"body": "Hello"}
    )
    text = response.context["reply_form"].initial["body"]
    assert text.startswith("Hello\n\nHi Carla Cliente, ticket " + ticket.number + ". Agent")
    assert "{obj.__class__}" in text
    assert text.endswith("https://help.example/refunds")
    agent_client.post(_url("reply", ticket), {"body": text, "canned_response": canned.pk})
    reply = ticket.messages.get(kind=Message.Kind.OUTBOUND)
    assert [a.filename for a in reply.attachments.all()] == ["policy.txt"]


def test_personal_canned_responses_stay_personal(agent_client, pool, customer):
    ticket = _ticket(pool, customer)
    someone = _agent("someone", pools=[pool])
    private = CannedResponse.objects.create(title="Mine", body="x", owner=someone)
    response = agent_client.get(reverse("tickets:canned", args=[ticket.number, private.pk]))
    assert response.status_code == 404
    page = agent_client.get(_url("detail", ticket))
    assert private not in page.context["canned_responses"]


def test_presence_warns_about_another_agent_replying(client, agent, pool, customer):
    ticket = _ticket(pool, customer)
    colleague = _agent("colleague", pools=[pool])
    client.force_login(colleague)
    client.post(_url("presence", ticket), {"replying": "1"})
    client.force_login(agent)
    response = client.get(_url("detail", ticket))
    assert "Colleague is replying to this ticket." in response.text
    response = client.post(_url("presence", ticket))
    assert "Colleague is replying to this ticket." in response.text


def test_reply_box_keeps_announcing_replying_after_a_canned_insert(agent_client, pool, customer):
    ticket = _ticket(pool, customer)
    canned = CannedResponse.objects.create(title="Hi", body="Hello")
    page = agent_client.get(_url("detail", ticket))
    swapped = agent_client.get(reverse("tickets:canned", args=[ticket.number, canned.pk]))
    presence_url = _url("presence", ticket)
    for html in (page.text, swapped.text):
        assert f'hx-post="{presence_url}"' in html
        assert "hx-vals" in html


def test_reply_and_note_forms_have_distinct_field_ids(agent_client, pool, customer):
    page = agent_client.get(_url("detail", _ticket(pool, customer)))
    assert page.text.count('id="id_body"') == 1
    assert page.text.count('id="id_note-body"') == 1


def test_linking_is_mutual_logged_and_idempotent(agent, pool, customer):
    first, second = _ticket(pool, customer), _ticket(pool, customer)
    services.link_tickets([(first, second)], actor=agent, reason="same outage")
    services.link_tickets([(second, first)], actor=agent, reason="same outage")
    assert list(second.linked_tickets.all()) == [first]
    assert first.activity.filter(action="linked", after=second.number).count() == 1
    assert second.activity.filter(action="linked", after=first.number).count() == 1


def test_agent_and_catalog_forms_load_when_their_section_opens(
    agent_client, agent, pool, customer, other_agent
):
    ticket = _ticket(pool, customer)
    page = agent_client.get(_url("detail", ticket)).text
    assert 'name="assignee"' not in page
    for name in ("assign", "fields", "watchers"):
        url = reverse("tickets:sidebar_form", args=[ticket.number, name])
        assert f'hx-get="{url}"' in page
    assign = agent_client.get(reverse("tickets:sidebar_form", args=[ticket.number, "assign"]))
    assert assign.status_code == 200
    assert f'action="{_url("assign", ticket)}"' in assign.text
    # Only members of the ticket's pool are offered as its technician.
    assert f'<option value="{agent.pk}"' in assign.text
    assert '<select name="assignee"' in assign.text
    assert assign.text.count(f'<option value="{other_agent.pk}"') == 1  # as manager only
    fields = agent_client.get(reverse("tickets:sidebar_form", args=[ticket.number, "fields"]))
    assert f'<option value="{pool.pk}" selected>' in fields.text
    watchers = agent_client.get(reverse("tickets:sidebar_form", args=[ticket.number, "watchers"]))
    assert 'name="user"' in watchers.text


def test_a_sidebar_form_with_errors_is_shown_open_on_the_page(agent_client, pool, customer):
    ticket = _ticket(pool, customer)
    response = agent_client.post(_url("fields", ticket), {"priority": "999", "pool": pool.pk})
    assert response.status_code == 400
    assert 'id="act-fields" class="accordion-collapse collapse show"' in response.text
    assert "Select a valid choice" in response.text


def test_unknown_sidebar_form_is_not_found(agent_client, pool, customer):
    ticket = _ticket(pool, customer)
    url = reverse("tickets:sidebar_form", args=[ticket.number, "secrets"])
    assert agent_client.get(url).status_code == 404


def test_technician_and_manager_are_assigned_in_one_transaction(
    agent_client, agent, pool, customer, monkeypatch
):
    """A manager change that fails takes the technician's change back with it."""
    from tickets.services import lifecycle

    ticket = _ticket(pool, customer)
    colleague = _agent("colleague", pools=[pool])

    def broken_set_manager(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(lifecycle, "set_manager", broken_set_manager)
    agent_client.raise_request_exception = True
    with pytest.raises(RuntimeError):
        agent_client.post(_url("assign", ticket), {"assignee": colleague.pk, "manager": agent.pk})
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.manager, ticket.status) == (None, None, Status.NEW)
    assert not ActivityLog.objects.filter(ticket=ticket, action="assigned").exists()
