"""The website widget: a visitor's messages become a web-chat ticket through the chat
intake, agents' replies come back to the widget, files both ways, read state, typing,
the calendar's out-of-hours text, the help-article search, the transcript by mail."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chat.models import ChatMessage, Conversation
from live.models import LiveEvent
from mailboxes.models import OutgoingEmail
from sla.models import BusinessCalendar
from tickets.models import Ticket
from tickets.services import add_note, add_reply
from tickets.states import Channel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("database_live_backend")]

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_the_first_message_opens_a_web_chat_ticket_for_a_new_contact(visitor, run_on_commit):
    response = run_on_commit(
        visitor.send, "My order has not arrived", name="Maria Silva", email="maria@example.com"
    )

    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.CHAT
    assert ticket.requester.name == "Maria Silva"
    assert ticket.messages.get().body_text == "My order has not arrived"
    conversation = Conversation.objects.get()
    assert response.json()["conversation"] == str(conversation.public_key)
    # The greeting left through the widget at once (the outbox row is sent, the visitor sees it).
    texts = [m["text"] for m in visitor.get("messages").json()["messages"]]
    assert texts == ["My order has not arrived", "Hello! An agent will be with you shortly."]


def test_a_retried_send_is_stored_once(visitor, run_on_commit):
    run_on_commit(visitor.send, "Hello", client_id="abc-1")
    again = run_on_commit(visitor.send, "Hello", client_id="abc-1")

    assert again.status_code == 201
    assert ChatMessage.objects.filter(direction="in").count() == 1
    assert Ticket.objects.get().messages.count() == 1


def test_an_agent_reply_reaches_the_visitor_live_and_a_note_never(visitor, agent, run_on_commit):
    run_on_commit(visitor.send, "Where is my parcel?")
    ticket = Ticket.objects.get()
    conversation = Conversation.objects.get()
    LiveEvent.objects.all().delete()

    run_on_commit(add_note, ticket, author=agent, body="internal: check the carrier")
    run_on_commit(add_reply, ticket, author=agent, body="It ships today.")

    topic = f"conversation:{conversation.public_key}"
    assert [json.loads(e.data)["text"] for e in LiveEvent.objects.filter(topic=topic)] == [
        "It ships today."
    ]
    messages = visitor.get("messages").json()["messages"]
    assert [m["text"] for m in messages][-1] == "It ships today."
    assert messages[-1]["author"] == agent.first_name or agent.username
    assert "internal" not in json.dumps(messages)


def test_files_go_both_ways_and_only_to_their_conversation(visitor, agent, run_on_commit):
    upload = SimpleUploadedFile("receipt.png", PNG, content_type="image/png")
    run_on_commit(visitor.send, "Here is the receipt", files=[upload])
    ticket = Ticket.objects.get()
    sent = visitor.get("messages").json()["messages"][0]["files"]
    assert [f["name"] for f in sent] == ["receipt.png"]
    assert ticket.attachments.get().filename == "receipt.png"

    reply = SimpleUploadedFile("label.pdf", b"%PDF-1.4 label", content_type="application/pdf")
    run_on_commit(add_reply, ticket, author=agent, body="Your label", files=[reply])

    files = [f for m in visitor.get("messages").json()["messages"] for f in m["files"]]
    assert [f["name"] for f in files] == ["receipt.png", "label.pdf"]
    download = visitor.client.get(files[1]["url"], **visitor._headers())
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 label"
    assert download["Access-Control-Allow-Origin"] == visitor.origin


def test_a_file_of_a_refused_type_or_too_large_is_refused(visitor, monkeypatch):
    script = SimpleUploadedFile("run.html", b"<script>", content_type="text/html")
    assert visitor.send("look", files=[script]).status_code == 400

    monkeypatch.setattr("chat.widget.MAX_FILE_BYTES", 10)
    big = SimpleUploadedFile("big.png", PNG, content_type="image/png")
    assert visitor.send("look", files=[big]).status_code == 413
    assert not Ticket.objects.exists()


def test_a_message_over_the_length_limit_is_refused(visitor):
    response = visitor.send("x" * 2001)

    assert response.status_code == 400
    assert "2000" in response.json()["error"]


def test_read_state_moves_forward_and_reaches_the_ticket_page(visitor, agent, run_on_commit):
    run_on_commit(visitor.send, "Hi")
    ticket = Ticket.objects.get()
    run_on_commit(add_reply, ticket, author=agent, body="Hello there")
    last = visitor.get("messages").json()["messages"][-1]["id"]
    LiveEvent.objects.all().delete()

    assert run_on_commit(visitor.post_json, "seen", {"up_to": last, "state": "read"}).json()[
        "changed"
    ]
    run_on_commit(visitor.post_json, "seen", {"up_to": last, "state": "delivered"})

    reply_row = ChatMessage.objects.get(message__body_text="Hello there")
    assert reply_row.state == ChatMessage.State.READ  # never back to delivered
    assert LiveEvent.objects.filter(topic=f"ticket:{ticket.number}", event="chat.status").exists()


def test_typing_is_told_to_the_agents_on_the_ticket(visitor, run_on_commit):
    run_on_commit(visitor.send, "Hi")
    ticket = Ticket.objects.get()

    run_on_commit(visitor.post_json, "typing", {})

    assert LiveEvent.objects.filter(topic=f"ticket:{ticket.number}", event="chat.typing").exists()


def test_out_of_hours_the_widget_and_the_first_answer_say_so(
    visitor, widget_channel, run_on_commit
):
    calendar = BusinessCalendar.objects.create(name="Never open", time_zone="UTC")
    widget_channel.calendar = calendar
    widget_channel.out_of_hours_text = "We are closed; we answer from 9:00."
    widget_channel.save()

    config = visitor.config().json()
    assert config["open"] is False
    assert config["out_of_hours"] == "We are closed; we answer from 9:00."
    run_on_commit(visitor.send, "Anyone there?")
    texts = [m["text"] for m in visitor.get("messages").json()["messages"]]
    assert texts[-1] == "We are closed; we answer from 9:00."


def test_the_widget_strings_come_in_the_visitors_language(visitor):
    english = visitor.get("config", lang="en").json()
    polish = visitor.get("config", lang="pl").json()

    assert english["language"] == "en" and polish["language"] == "pl"
    assert english["strings"]["send"] == "Send"
    assert set(polish["strings"]) == set(english["strings"])


def test_the_search_finds_published_public_articles_only(visitor, agent):
    from knowledge.models import Visibility
    from knowledge.services import create_article

    create_article(
        author=agent,
        language="en",
        title="Tracking your parcel",
        body="Follow the parcel with the tracking code.",
        publish=True,
    )
    hidden = create_article(
        author=agent, language="en", title="Parcel internal", body="parcel tools", publish=True
    )
    hidden.visibility = Visibility.INTERNAL
    hidden.save()
    create_article(author=agent, language="en", title="Parcel draft", body="parcel draft")

    titles = [r["title"] for r in visitor.get("search", q="parcel").json()["results"]]

    assert titles == ["Tracking your parcel"]


def test_the_transcript_is_mailed_to_the_visitors_own_address_only(visitor, run_on_commit):
    run_on_commit(visitor.send, "Need help", email="maria@example.com")

    refused = visitor.post_json("transcript", {"email": "someone@else.example"})
    sent = run_on_commit(visitor.post_json, "transcript", {"email": "maria@example.com"})

    assert refused.status_code == 400
    assert sent.status_code == 200
    mail = OutgoingEmail.objects.get()
    assert mail.to == ["maria@example.com"]
    assert "Need help" in mail.body_text
