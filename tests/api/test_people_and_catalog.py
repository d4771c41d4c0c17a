"""Contacts, organizations, catalogues, articles, survey answers and report figures."""

from django.urls import reverse

from people.models import ContactPhone, Organization
from tests.factories import TopicFactory


def test_find_a_contact_by_email_or_phone(agent_api, customer):
    ContactPhone.objects.create(contact=customer, number="+55 (11) 98765-4321")
    address = customer.primary_email.upper()
    for params in ({"email": address}, {"phone": "5511987654321"}):
        body = agent_api.get("/api/v1/contacts/", params).json()
        assert [row["id"] for row in body["results"]] == [customer.pk], params
    assert agent_api.get("/api/v1/contacts/", {"email": "nobody@x.test"}).json()["results"] == []


def test_create_and_update_a_contact(agent_api):
    organization = Organization.objects.create(name="Acme")
    response = agent_api.post(
        "/api/v1/contacts/",
        {"name": "Ana", "emails": ["Ana@Acme.test", "ana2@acme.test"],
         "phones": [{"number": "+48 600 100 200", "kind": "work"}],
         "organization": organization.pk},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["emails"] == ["ana@acme.test", "ana2@acme.test"]
    assert body["phones"] == [{"number": "+48 600 100 200", "kind": "work"}]
    url = reverse("api:contact", args=[body["id"]])
    response = agent_api.patch(
        url, {"name": "Ana Lima", "emails": ["ana2@acme.test"]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Ana Lima"
    assert response.json()["emails"] == ["ana2@acme.test"]
    assert response.json()["organization"] == organization.pk


def test_an_address_of_another_contact_is_refused(agent_api, customer):
    response = agent_api.post(
        "/api/v1/contacts/", {"name": "Copycat", "emails": [customer.primary_email]}, format="json"
    )
    assert response.status_code == 400
    assert "another contact" in response.json()["detail"]


def test_organizations_read_create_update(agent_api):
    response = agent_api.post("/api/v1/organizations/", {"name": "Initech"}, format="json")
    assert response.status_code == 201
    pk = response.json()["id"]
    response = agent_api.patch(
        reverse("api:organization", args=[pk]), {"share_tickets": True}, format="json"
    )
    assert response.json()["share_tickets"] is True
    listed = agent_api.get("/api/v1/organizations/", {"q": "init"}).json()["results"]
    assert [row["name"] for row in listed] == ["Initech"]
    duplicate = agent_api.post("/api/v1/organizations/", {"name": "Initech"}, format="json")
    assert duplicate.status_code == 400


def test_topics_products_and_articles(agent_api, pool, agent):
    from knowledge.models import Visibility
    from knowledge.services import create_article

    topic = TopicFactory(name="Billing questions")
    assert topic.name in [row["name"] for row in agent_api.get("/api/v1/topics/").json()]
    assert agent_api.get("/api/v1/products/").status_code == 200

    def article(title, **options):
        return create_article(
            author=agent, language="en", title=title, body="Router *help*", **options
        )

    article("Reset your router", publish=True)
    draft = article("Router draft")
    internal = article("Router internals", publish=True, visibility=Visibility.INTERNAL)
    found = agent_api.get("/api/v1/articles/", {"q": "router"}).json()
    assert [row["title"] for row in found] == ["Reset your router"]
    assert found[0]["body"].strip() == "Router help" and "<em>help</em>" in found[0]["html"]
    for hidden in (draft, internal):
        assert agent_api.get(reverse("api:article", args=[hidden.pk])).status_code == 404


def test_report_figures_have_a_label_a_unit_and_two_periods(
    agent_api, supervisor, make_token, api_client
):
    client = api_client(make_token(supervisor, scope="read"))
    response = client.get("/api/v1/reports/figures/", {"period": "last30"})
    assert response.status_code == 200, response.content
    body = response.json()
    keys = {row["key"] for row in body["figures"]}
    assert {"open_now", "received", "solved", "csat"} <= keys
    assert body["period"]["start"] < body["period"]["end"]
    bad = client.get("/api/v1/reports/figures/", {"period": "custom", "start": "2026-02-01"})
    assert bad.status_code == 400
