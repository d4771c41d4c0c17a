"""Contact tokens are app sessions that end before their 30 days when asked: the app signs
out (its own, one other, or all), and a signed-out token gets a clear 401 at its very next
request; a merge signs the duplicate's sessions out, a deleted contact's tokens stop."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api.contact_access import MAX_AGE
from api.contact_sessions import LAST_USED_EVERY_SECONDS
from api.models import ContactToken
from people.models import Contact
from tickets.services.contact_merge import merge_contacts, merge_preview

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("database_live_backend")]


@pytest.fixture
def sign_in(agent_api, widget_channel):
    """``sign_in(email, device)`` -> (client with the contact token, the token's JSON)."""

    def make(email="maria@example.com", device="Pixel 8"):
        answer = agent_api.post(
            "/api/v1/contact-tokens/",
            {"channel": str(widget_channel.public_key), "email": email, "device": device},
            format="json",
        )
        assert answer.status_code == 201, answer.content
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Contact {answer.json()['token']}")
        return client, answer.json()

    return make


def _works(client) -> bool:
    return client.get("/api/v1/conversations/").status_code == 200


def test_a_new_token_is_a_stored_session_with_its_device_and_expiry(sign_in):
    _client, body = sign_in(device="  iPhone 15  ")

    session = ContactToken.objects.get()
    assert str(session.key) == body["session"]
    assert session.device == "iPhone 15"
    assert session.contact_id == body["contact"]
    expected = session.created_at + timedelta(seconds=MAX_AGE)
    assert abs((session.expires_at - expected).total_seconds()) < 5
    assert session.revoked_at is None and session.last_used_at is None


def test_the_app_signs_out_and_its_token_gets_401_at_once(sign_in):
    app, _body = sign_in()
    assert _works(app)

    answer = app.post("/api/v1/contact-tokens/sign-out/", {}, format="json")

    assert answer.status_code == 200 and answer.json() == {"revoked": 1}
    refused = app.get("/api/v1/conversations/")
    assert refused.status_code == 401
    assert refused.json()["code"] == "contact_token_revoked"
    assert "signed out" in refused.json()["detail"]
    assert refused["WWW-Authenticate"] == 'Contact realm="api"'
    session = ContactToken.objects.get()
    assert session.revoked_at is not None
    assert session.revoke_reason == ContactToken.Reason.SIGNED_OUT
    assert session.revoked_by is None


def test_signing_out_one_session_leaves_the_contacts_other_devices(sign_in):
    phone, _ = sign_in(device="phone")
    tablet, tablet_body = sign_in(device="tablet")

    answer = phone.post(
        "/api/v1/contact-tokens/sign-out/", {"session": tablet_body["session"]}, format="json"
    )

    assert answer.json() == {"revoked": 1}
    assert _works(phone)
    assert tablet.get("/api/v1/conversations/").status_code == 401


def test_signing_out_all_ends_every_session_of_the_contact(sign_in):
    phone, _ = sign_in(device="phone")
    tablet, _ = sign_in(device="tablet")
    other, _ = sign_in(email="someone.else@example.com")

    answer = phone.post("/api/v1/contact-tokens/sign-out/", {"all": True}, format="json")

    assert answer.json() == {"revoked": 2}
    assert not _works(phone) and not _works(tablet)
    assert _works(other)


def test_signing_out_twice_revokes_nothing_more(sign_in):
    _phone, body = sign_in()
    tablet, _ = sign_in()
    tablet.post("/api/v1/contact-tokens/sign-out/", {"session": body["session"]}, format="json")
    first = ContactToken.objects.get(key=body["session"]).revoked_at

    again = tablet.post(
        "/api/v1/contact-tokens/sign-out/", {"session": body["session"]}, format="json"
    )

    assert again.json() == {"revoked": 0}
    assert ContactToken.objects.get(key=body["session"]).revoked_at == first


def test_both_a_session_and_all_is_refused(sign_in):
    app, body = sign_in()

    answer = app.post(
        "/api/v1/contact-tokens/sign-out/", {"all": True, "session": body["session"]}, format="json"
    )

    assert answer.status_code == 400
    assert _works(app)


def test_the_app_lists_the_contacts_active_sessions(sign_in):
    phone, phone_body = sign_in(device="phone")
    _tablet, tablet_body = sign_in(device="tablet")
    _gone, gone_body = sign_in(device="old")
    ContactToken.objects.filter(key=gone_body["session"]).update(revoked_at=timezone.now())

    listed = phone.get("/api/v1/contact-tokens/sessions/").json()

    assert [(s["id"], s["device"], s["current"]) for s in listed] == [
        (tablet_body["session"], "tablet", False),
        (phone_body["session"], "phone", True),
    ]
    assert listed[1]["last_used_at"] is not None


def test_last_use_is_written_at_most_once_a_minute(sign_in):
    app, _ = sign_in()
    assert _works(app)
    first = ContactToken.objects.get().last_used_at
    assert first is not None

    assert _works(app)
    assert ContactToken.objects.get().last_used_at == first
    earlier = first - timedelta(seconds=LAST_USED_EVERY_SECONDS + 1)
    ContactToken.objects.update(last_used_at=earlier)
    assert _works(app)
    assert ContactToken.objects.get().last_used_at > earlier


def test_an_expired_session_gets_401_invalid(sign_in):
    app, _ = sign_in()
    ContactToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    refused = app.get("/api/v1/conversations/")

    assert refused.status_code == 401 and refused.json()["code"] == "contact_token_invalid"


def test_a_deleted_contacts_token_stops(sign_in):
    app, body = sign_in()
    Contact.objects.filter(pk=body["contact"]).delete()

    assert app.get("/api/v1/conversations/").status_code == 401
    assert not ContactToken.objects.exists()


def test_a_merge_signs_the_duplicates_sessions_out_and_keeps_the_survivors(sign_in, supervisor):
    duplicate_app, duplicate = sign_in(email="maria.old@example.com")
    survivor_app, survivor = sign_in(email="maria@example.com")
    source = Contact.objects.get(pk=duplicate["contact"])
    into = Contact.objects.get(pk=survivor["contact"])
    preview = {part.label: part.count for part in merge_preview(source, into=into)}
    assert preview["App sessions (signed out, not moved)"] == 1

    merge_contacts(source, into=into, actor=supervisor)

    refused = duplicate_app.get("/api/v1/conversations/")
    assert refused.status_code == 401 and refused.json()["code"] == "contact_token_revoked"
    assert _works(survivor_app)
    gone = ContactToken.objects.get(key=duplicate["session"])
    assert gone.contact_id == source.pk  # not handed to the survivor
    assert gone.revoke_reason == ContactToken.Reason.MERGED and gone.revoked_by == supervisor
    # The app's backend asks again by the old address: it now names the survivor.
    _again, renewed = sign_in(email="maria.old@example.com")
    assert renewed["contact"] == into.pk
