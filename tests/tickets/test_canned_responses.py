from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import _agent
from tickets.models import CannedResponse


def test_agent_creates_a_personal_canned_response_with_a_file(agent_client, agent):
    response = agent_client.post(
        reverse("tickets:canned_new"),
        {
            "title": "Refund steps",
            "body": "Hello {customer_name}",
            "urls": "https://help.example/refund\n",
            "attachments": [SimpleUploadedFile("../policy.pdf", b"%PDF")],
        },
    )
    assert response.status_code == 302
    canned = CannedResponse.objects.get(title="Refund steps")
    assert canned.owner == agent
    assert canned.url_list() == ["https://help.example/refund"]
    assert [f.filename for f in canned.files.all()] == ["policy.pdf"]


def test_links_must_be_web_addresses(agent_client):
    response = agent_client.post(
        reverse("tickets:canned_new"),
        {"title": "Bad", "body": "x", "urls": "javascript:alert(1)"},
    )
    assert response.status_code == 200
    assert "urls" in response.context["form"].errors
    assert not CannedResponse.objects.exists()


def test_agents_cannot_edit_or_delete_someone_elses_response(agent_client, pool):
    other = _agent("other", pools=[pool])
    theirs = CannedResponse.objects.create(title="Theirs", body="x", owner=other)
    shared = CannedResponse.objects.create(title="Shared", body="x", pool=pool)
    for canned in (theirs, shared):
        assert agent_client.get(reverse("tickets:canned_edit", args=[canned.pk])).status_code == 404
        url = reverse("tickets:canned_delete", args=[canned.pk])
        assert agent_client.post(url).status_code == 404
    assert CannedResponse.objects.count() == 2


def test_list_shows_mine_and_those_shared_with_my_pools(agent_client, agent, pool, other_pool):
    CannedResponse.objects.create(title="Mine", body="x", owner=agent)
    CannedResponse.objects.create(title="Pool", body="x", pool=pool)
    CannedResponse.objects.create(title="Everyone", body="x")
    CannedResponse.objects.create(title="Elsewhere", body="x", pool=other_pool)
    response = agent_client.get(reverse("tickets:canned_list"))
    assert [c.title for c in response.context["personal"]] == ["Mine"]
    assert sorted(c.title for c in response.context["shared"]) == ["Everyone", "Pool"]
