import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), (255, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def test_agent_sets_language_time_zone_and_signature(agent_client, agent):
    response = agent_client.post(
        reverse("people:profile"),
        {
            "language": "pt-br",
            "time_zone": "America/Sao_Paulo",
            "signature_text": "Ana Souza\nSuporte",
            "signature_image": SimpleUploadedFile("sig.png", _png(), "image/png"),
        },
    )
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "pt-br"
    agent.agent_profile.refresh_from_db()
    profile = agent.agent_profile
    assert (profile.language, profile.time_zone) == ("pt-br", "America/Sao_Paulo")
    assert profile.signature_image.name.startswith("signatures/")


def test_profile_rejects_an_unknown_time_zone_and_a_non_image(agent_client, agent):
    response = agent_client.post(
        reverse("people:profile"),
        {
            "time_zone": "Mars/Olympus",
            "signature_image": SimpleUploadedFile("sig.png", b"not an image", "image/png"),
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"time_zone", "signature_image"}
    agent.agent_profile.refresh_from_db()
    assert agent.agent_profile.time_zone == ""


def test_profile_cannot_make_an_agent_senior(agent_client, junior):
    agent_client.force_login(junior)
    agent_client.post(reverse("people:profile"), {"is_junior": "", "time_zone": ""})
    junior.agent_profile.refresh_from_db()
    assert junior.agent_profile.is_junior
