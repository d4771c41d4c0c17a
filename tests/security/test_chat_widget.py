"""The website widget: only the channel's allowed origins may use it, a visitor reaches
only their own conversation (endpoints, files and live stream), robots and floods are
refused."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chat.models import ChatChannel
from tests.chat.widget_fixtures import Visitor
from tickets.models import Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("database_live_backend")]


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://shop.example", "https://shop.example.evil", ""]
)
def test_a_page_of_another_origin_is_refused_without_cors_headers(client, widget_channel, origin):
    stranger = Visitor(client, widget_channel, origin=origin)

    for response in (stranger.config(), stranger.send("hi", stamp="x")):
        assert response.status_code == 403
        assert "Access-Control-Allow-Origin" not in response
    assert not Ticket.objects.exists()


def test_the_allowed_origin_gets_cors_headers_for_itself_only(visitor):
    response = visitor.config()
    preflight = visitor.client.options(
        visitor.url("messages"), HTTP_ORIGIN=visitor.origin, REMOTE_ADDR="198.51.100.7"
    )

    assert response["Access-Control-Allow-Origin"] == "https://shop.example"
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "X-Chat-Visitor" in preflight["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response


def test_another_channels_or_kinds_key_finds_nothing(client, widget_channel, pool):
    telegram = ChatChannel.objects.create(
        name="Bot", kind="telegram", pool=pool, allowed_origins="https://shop.example"
    )
    inactive = ChatChannel.objects.create(
        name="Old", kind="widget", pool=pool, allowed_origins="https://shop.example", active=False
    )

    for channel in (telegram, inactive):
        assert Visitor(client, channel).config().status_code == 404


def test_visitor_a_cannot_read_or_write_visitor_bs_conversation(
    client, visitor, widget_channel, run_on_commit
):
    run_on_commit(
        visitor.send,
        "B's secret order",
        files=[SimpleUploadedFile("b.pdf", b"%PDF b", content_type="application/pdf")],
    )
    b_file = visitor.get("messages").json()["messages"][0]["files"][0]
    a = Visitor(client, widget_channel)
    run_on_commit(a.send, "A says hi")

    a_messages = a.get("messages").json()["messages"]
    assert a_messages[0]["text"] == "A says hi"
    assert "secret" not in str(a.config().json())
    assert client.get(b_file["url"], **a._headers()).status_code == 404
    # A forged or tampered token opens nothing.
    a.token = visitor.token + "x"
    assert a.get("messages").status_code == 403
    assert a.send("inject").status_code == 403
    assert Ticket.objects.count() == 2


def test_a_token_of_one_channel_opens_nothing_on_another(client, visitor, pool, run_on_commit):
    run_on_commit(visitor.send, "hello")
    other = ChatChannel.objects.create(
        name="Other site", kind="widget", pool=pool, allowed_origins="https://shop.example"
    )
    elsewhere = Visitor(client, other)
    elsewhere.token = visitor.token

    assert elsewhere.get("messages").status_code == 403


def test_the_honeypot_and_a_too_quick_first_message_are_refused(client, widget_channel, settings):
    settings.CHAT_WIDGET_MIN_SECONDS = 60
    robot = Visitor(client, widget_channel)

    assert robot.send("buy now").status_code == 400  # faster than anyone types
    assert robot.send("buy now", stamp="forged").status_code == 400
    settings.CHAT_WIDGET_MIN_SECONDS = 0
    assert robot.send("buy now", website="http://spam.example").status_code == 400
    assert not Ticket.objects.exists()


def test_too_many_messages_from_a_visitor_or_an_address_get_429(
    client, visitor, widget_channel, settings, run_on_commit
):
    settings.CHAT_WIDGET_VISITOR_PER_MINUTE = 3
    settings.CHAT_WIDGET_IP_PER_MINUTE = 5
    statuses = [run_on_commit(visitor.send, f"message {n}").status_code for n in range(5)]
    assert statuses[:4] == [201, 201, 201, 201]  # the first opened it: not yet this visitor's
    assert statuses[4] == 429

    fresh = Visitor(client, widget_channel)  # same address, new visitor
    assert fresh.send("hello").status_code == 429
    elsewhere = Visitor(client, widget_channel, address="203.0.113.9")
    assert run_on_commit(elsewhere.send, "hello").status_code == 201


def test_the_live_stream_opens_only_the_visitors_own_topic(
    client, visitor, widget_channel, run_on_commit
):
    from django.test import RequestFactory

    from chat.views_widget import _stream_access

    run_on_commit(visitor.send, "hello")
    url = visitor.url("stream")

    def access(origin, token):
        request = RequestFactory().get(url, {"visitor": token}, HTTP_ORIGIN=origin)
        return _stream_access(request, widget_channel.public_key)

    status, _origin, key = access(visitor.origin, visitor.token)
    assert status == 200 and key == str(widget_channel.conversations.get().public_key)
    assert access(visitor.origin, visitor.token + "x")[0] == 403
    assert access("https://evil.example", visitor.token)[0] == 403
    assert access(visitor.origin, "")[0] == 403
