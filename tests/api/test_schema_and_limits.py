"""The OpenAPI schema, the documentation pages (files, no CDN), the rate limit."""

import yaml
from django.core.cache import cache
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

EXPECTED_PATHS = {
    "/api/v1/tickets/": {"get", "post"},
    "/api/v1/tickets/{number}/": {"get", "patch"},
    "/api/v1/tickets/{number}/replies/": {"post"},
    "/api/v1/tickets/{number}/notes/": {"post"},
    "/api/v1/tickets/{number}/attachments/{attachment_id}/": {"get"},
    "/api/v1/contacts/": {"get", "post"},
    "/api/v1/contacts/{id}/": {"get", "patch"},
    "/api/v1/organizations/": {"get", "post"},
    "/api/v1/organizations/{id}/": {"get", "patch"},
    "/api/v1/pools/": {"get"},
    "/api/v1/topics/": {"get"},
    "/api/v1/products/": {"get"},
    "/api/v1/articles/": {"get"},
    "/api/v1/articles/{id}/": {"get"},
    "/api/v1/survey-responses/": {"get"},
    "/api/v1/reports/figures/": {"get"},
    "/api/v1/me/": {"get"},
}


def test_the_generated_schema_is_valid_and_has_every_endpoint(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)  # OpenAPI 3 JSON schema: raises on anything invalid
    paths = schema["paths"]
    for path, methods in EXPECTED_PATHS.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
    assert schema["components"]["securitySchemes"]["tokenAuth"]["scheme"] == "bearer"
    assert set(paths["/api/v1/tickets/{number}/"]["patch"]["responses"]) >= {"200", "400", "404"}
    ticket_list = paths["/api/v1/tickets/"]["get"]
    names = {parameter["name"] for parameter in ticket_list["parameters"]}
    assert {"status", "pool", "topic", "product", "priority", "assignee", "tag", "channel",
            "created_after", "created_before", "q", "cursor", "ordering"} <= names  # fmt: skip


def test_the_schema_is_served_without_a_token(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/tickets/" in schema["paths"]


def test_docs_are_for_agents_and_use_shipped_files_only(client, agent):
    assert client.get(reverse("api:docs")).status_code == 302  # to the sign-in page
    client.force_login(agent)
    for name in ("api:docs",):
        page = client.get(reverse(name))
        assert page.status_code == 200
        html = page.content.decode()
        assert "cdn" not in html.lower() and "//unpkg" not in html and "jsdelivr" not in html
        assert "/static/drf_spectacular_sidecar/" in html
    script = client.get(reverse("api:docs") + "?script=")
    assert script.status_code == 200


def test_rate_limit_answers_429_with_retry_after(settings, agent, make_token, api_client):
    cache.clear()
    settings.API_RATE_LIMIT = "3/minute"
    first, second = api_client(make_token(agent)), api_client(make_token(agent))
    assert [first.get("/api/v1/me/").status_code for _ in range(3)] == [200] * 3
    limited = first.get("/api/v1/me/")
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 60
    assert limited.json()["code"] == "throttled"
    assert second.get("/api/v1/me/").status_code == 200  # per token, not per user
    cache.clear()
