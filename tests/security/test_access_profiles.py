"""An access profile is enforced on the server wherever its feature appears: every route
(found from the URL resolver, so a new route cannot slip past), its exports, the API, the
scheduled mail and the menus. Holders of a profile without a feature get 403."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from api.services import create_token
from people.features import Feature
from people.models import AccessProfile
from people.services_profiles import assign_access_profile, save_access_profile
from phone.models import Call
from reports.models import SavedReport
from reports.saved import readers
from tests.tickets.test_approval import _pending_reply
from tickets import services
from tickets.models import Approval, CannedResponse

pytestmark = pytest.mark.django_db

EXPORTS = ("csv", "xlsx", "pdf")


def _profile(name, *, without=(), only=None):
    features = only if only is not None else [f for f in Feature.values if f not in without]
    return save_access_profile(AccessProfile(name=name), pools=[], features=features)


def _holding(user, profile):
    assign_access_profile(profile, agents=[user])
    return user


def _routes(*, namespace=None, module=None):
    """(url name, pattern) of every route in ``namespace`` or whose view lives in
    ``module``, at any depth of the URL configuration."""
    found = []

    def walk(patterns, spaces):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, [*spaces, entry.namespace] if entry.namespace else spaces)
            elif isinstance(entry, URLPattern):
                view_module = getattr(entry.callback, "__module__", "")
                in_space = namespace is not None and spaces and spaces[-1] == namespace
                in_module = module is not None and view_module.startswith(module)
                if in_space or in_module:
                    assert entry.name, f"every {namespace or module} route needs a name"
                    found.append((":".join([*spaces, entry.name]), entry))

    walk(get_resolver().url_patterns, [])
    return found


def _url(name, pattern, value):
    return reverse(name, kwargs={key: value for key in pattern.pattern.converters})


def _refused(client, url, *, query=None):
    """GET and POST answer 403 (or 405: a method the route does not take), never content."""
    answers = [client.get(url, query or {}).status_code, client.post(url).status_code]
    assert set(answers) <= {403, 405}, (url, answers)
    assert 403 in answers, (url, answers)


@pytest.fixture
def saved_report(supervisor):
    return SavedReport.objects.create(
        owner=supervisor,
        name="Weekly",
        query={"measures": ["received"], "group_by": "pool", "period": "last30"},
    )


def test_the_reports_routes_are_found_from_the_resolver():
    names = {name for name, _pattern in _routes(namespace="reports", module="reports.")}
    assert {"reports:dashboard", "reports:breakdown", "reports:period", "reports:custom"} <= names
    assert {"reports:saved", "reports:save", "reports:share", "reports:delete"} <= names


@pytest.mark.parametrize("who", ["agent", "supervisor"])
def test_every_reports_route_and_export_refuses_a_profile_without_reports(
    request, client, who, saved_report
):
    user = _holding(request.getfixturevalue(who), _profile("No reports", without=["reports"]))
    if who == "supervisor":
        saved_report.owner = user
        saved_report.save()
    client.force_login(user)
    routes = _routes(namespace="reports", module="reports.")
    for name, pattern in routes:
        url = _url(name, pattern, saved_report.pk)
        _refused(client, url)
        for export in EXPORTS:
            _refused(client, url, query={"export": export, "period": "last30"})


def test_the_same_routes_open_with_the_reports_feature(client, supervisor, saved_report):
    client.force_login(_holding(supervisor, _profile("Reports", only=["reports"])))
    assert client.get(reverse("reports:dashboard")).status_code == 200
    assert client.get(reverse("reports:dashboard"), {"export": "csv"}).status_code == 200
    assert client.get(reverse("reports:saved", args=[saved_report.pk])).status_code == 200


def test_the_report_figures_api_refuses_a_profile_without_reports(agent):
    _holding(agent, _profile("No reports", without=["reports"]))
    _token, secret = create_token(owner=agent, name="t", scope="read", pools=[], actor=agent)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/reports/figures/", {"period": "last30"}).status_code == 403
    assert api.get("/api/v1/tickets/").status_code == 200


def test_a_token_of_an_owner_without_api_tokens_is_refused(agent):
    _token, secret = create_token(owner=agent, name="t", scope="read", pools=[], actor=agent)
    _holding(agent, _profile("No API", without=["api_tokens"]))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/tickets/").status_code == 403


def test_scheduled_reports_skip_readers_without_reports(supervisor, saved_report):
    assert readers(saved_report) == [supervisor]
    _holding(supervisor, _profile("No reports", without=["reports"]))
    saved_report.refresh_from_db()
    assert readers(saved_report) == []


def test_the_reports_menu_is_hidden_without_reports(client, agent):
    client.force_login(agent)
    assert 'id="nav-reports"' in client.get(reverse("tickets:queue")).text
    _holding(agent, _profile("No reports", without=["reports"]))
    assert 'id="nav-reports"' not in client.get(reverse("tickets:queue")).text


def test_approvals_need_the_feature_on_every_route_and_in_the_service(
    client, supervisor, junior, pool, customer
):
    reply = _pending_reply(junior, pool, customer)
    _holding(supervisor, _profile("No approvals", without=["approvals"]))
    client.force_login(supervisor)
    for name, pattern in _routes(module="tickets.views.approval"):
        _refused(client, _url(name, pattern, reply.pk))
    assert 'id="nav-approvals"' not in client.get(reverse("tickets:queue")).text
    with pytest.raises(PermissionDenied):
        services.approve_reply(reply, actor=supervisor)
    reply.refresh_from_db()
    assert reply.approval == Approval.PENDING


def test_a_profile_lets_an_agent_approve_the_replies_of_their_pools(
    client, agent, junior, pool, customer
):
    reply = _pending_reply(junior, pool, customer)
    client.force_login(_holding(agent, _profile("Reviewer", only=["approvals"])))
    page = client.get(reverse("tickets:approvals"))
    assert list(page.context["replies"]) == [reply]
    client.post(reverse("tickets:approve", args=[reply.pk]))
    reply.refresh_from_db()
    assert reply.approval == Approval.APPROVED


def test_the_overdue_dashboard_needs_the_feature(client, supervisor, agent):
    _holding(supervisor, _profile("No board", without=["overdue_dashboard"]))
    client.force_login(supervisor)
    for name, pattern in _routes(namespace="sla"):
        if name == "sla:overdue":
            _refused(client, _url(name, pattern, 1))
    assert 'id="nav-overdue"' not in client.get(reverse("tickets:queue")).text
    client.force_login(_holding(agent, _profile("Board", only=["overdue_dashboard"])))
    assert client.get(reverse("sla:overdue")).status_code == 200


def test_merging_needs_the_feature(client, agent, pool, customer):
    source = services.create_ticket(subject="One", pool=pool, requester=customer)
    target = services.create_ticket(subject="Two", pool=pool, requester=customer)
    client.force_login(_holding(agent, _profile("No merge", without=["merge"])))
    answer = client.post(
        reverse("tickets:merge", args=[source.number]), {"target": f"[#{target.number}]"}
    )
    assert answer.status_code == 403
    source.refresh_from_db()
    assert source.merged_into is None
    assert 'id="act-merge"' not in client.get(source.get_absolute_url()).text


def test_bulk_actions_need_the_feature(client, agent, pool, customer):
    ticket = services.create_ticket(subject="One", pool=pool, requester=customer)
    client.force_login(_holding(agent, _profile("No bulk", without=["bulk_actions"])))
    answer = client.post(
        reverse("tickets:bulk"), {"ticket": [ticket.pk], "action": "priority", "priority": 4}
    )
    assert answer.status_code == 403
    ticket.refresh_from_db()
    assert ticket.priority != 4
    assert 'id="bulk-form"' not in client.get(reverse("tickets:queue")).text


def test_every_phone_desk_route_needs_the_feature(client, agent):
    client.force_login(_holding(agent, _profile("No phone", without=["phone_desk"])))
    routes = [(n, p) for n, p in _routes(namespace="phone") if n != "phone:cti"]
    assert len(routes) >= 5
    for name, pattern in routes:
        _refused(client, _url(name, pattern, 1) if pattern.pattern.converters else reverse(name))
    assert 'id="nav-calls"' not in client.get(reverse("tickets:queue")).text


def test_the_calls_api_needs_the_phone_desk(agent, pool):
    """Every calls route of the API (list, read, log, CTI event), as on the pages."""
    call = Call.objects.create(pool=pool, direction="in", customer_number="+48221234567")
    _token, secret = create_token(owner=agent, name="t", scope="write", pools=[], actor=agent)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/calls/").status_code == 200  # the role default opens it
    _holding(agent, _profile("No phone", without=["phone_desk"]))
    answers = [
        api.get("/api/v1/calls/").status_code,
        api.get(f"/api/v1/calls/{call.pk}/").status_code,
        api.post("/api/v1/calls/", {"pool": pool.pk, "number": "+48221234567"}).status_code,
        api.post(
            "/api/v1/calls/events/", {"event": "new", "call_id": "x1", "pool": pool.pk}
        ).status_code,
    ]
    assert answers == [403, 403, 403, 403]
    assert Call.objects.count() == 1  # nothing logged
    assert api.get("/api/v1/tickets/").status_code == 200  # the rest of the API still opens


def test_the_contact_page_lists_calls_only_with_the_phone_desk(client, agent, pool, customer):
    Call.objects.create(pool=pool, direction="in", customer_number="+48221234567", contact=customer)
    client.force_login(agent)
    url = reverse("tickets:contact", args=[customer.pk])
    calls = [p for p in client.get(url).context["panels"] if p.key == "calls"]
    assert len(calls) == 1 and len(calls[0].rows) == 1
    _holding(agent, _profile("No phone", without=["phone_desk"]))
    assert "calls" not in [panel.key for panel in client.get(url).context["panels"]]


def test_every_settings_section_needs_the_feature(client, admin_user):
    _holding(admin_user, _profile("No settings", without=["admin_sections"]))
    client.force_login(admin_user)
    routes = [
        *_routes(namespace="webhooks"),
        *_routes(module="sla.views"),
        *_routes(namespace="mailbox_settings"),
    ]
    routes = [
        (n, p)
        for n, p in routes
        if "closing" in n or n.startswith(("webhooks:", "mailbox_settings:"))
    ]
    assert len(routes) >= 15
    for name, pattern in routes:
        _refused(client, _url(name, pattern, 1))
    assert 'id="nav-webhooks"' not in client.get(reverse("tickets:queue")).text


def test_a_profile_opens_the_settings_sections_to_an_agent(client, agent):
    client.force_login(_holding(agent, _profile("Settings", only=["admin_sections"])))
    assert client.get(reverse("webhooks:list")).status_code == 200
    assert client.get(reverse("sla:pool-closing")).status_code == 200
    # ...but never the access profiles themselves: no profile grants itself more.
    assert client.get(reverse("profiles:list")).status_code == 404


def test_api_token_pages_need_the_feature(client, agent):
    client.force_login(_holding(agent, _profile("No API", without=["api_tokens"])))
    for name, pattern in _routes(namespace="api_tokens"):
        _refused(client, _url(name, pattern, 1))
    assert 'id="my-api-tokens"' not in client.get(reverse("people:profile")).text


def test_knowledge_authoring_needs_the_feature(client, supervisor):
    client.force_login(_holding(supervisor, _profile("Reader", without=["knowledge_authoring"])))
    _refused(client, reverse("kb:create"))
    assert client.get(reverse("kb:list")).status_code == 200


@pytest.mark.parametrize("who", ["agent", "supervisor"])
def test_only_administrators_open_the_profile_settings(request, client, who):
    profile = _profile("Any")
    client.force_login(request.getfixturevalue(who))
    for name, pattern in _routes(namespace="profiles"):
        url = _url(name, pattern, profile.pk)
        assert client.get(url).status_code == 404
        taken = client.post(url, {"name": "Taken over", "features": Feature.values})
        assert taken.status_code == 404
    profile.refresh_from_db()
    assert profile.name == "Any"


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get(reverse("profiles:list")).status_code == 302
    assert client.get(reverse("reports:dashboard")).status_code == 302


def test_customers_never_reach_the_profile_settings(customer_client):
    _profile("Any")
    assert customer_client.get(reverse("profiles:list")).status_code == 404


def test_pool_canned_responses_are_managed_only_with_the_feature_in_own_pools(
    client, agent, pool, other_pool
):
    mine = CannedResponse.objects.create(title="Billing hello", body="Hi", pool=pool)
    theirs = CannedResponse.objects.create(title="Hardware hello", body="Hi", pool=other_pool)
    client.force_login(_holding(agent, _profile("No canned", without=["canned_responses"])))
    _refused(client, reverse("tickets:canned_shared_new"))
    assert client.get(reverse("tickets:canned_edit", args=[mine.pk])).status_code == 404

    _holding(agent, _profile("Canned", only=["canned_responses"]))
    new = reverse("tickets:canned_shared_new")
    refused = client.post(new, {"title": "X", "body": "Y", "urls": "", "pool": other_pool.pk})
    assert refused.status_code == 200  # the form says the pool is not a choice
    assert not CannedResponse.objects.filter(title="X").exists()
    client.post(new, {"title": "Refunds", "body": "Z", "urls": "", "pool": pool.pk})
    assert CannedResponse.objects.get(title="Refunds").owner is None
    edit = reverse("tickets:canned_edit", args=[mine.pk])
    client.post(edit, {"title": "Billing hi", "body": "Hi", "urls": "", "pool": pool.pk})
    mine.refresh_from_db()
    assert mine.title == "Billing hi"
    assert client.get(reverse("tickets:canned_edit", args=[theirs.pk])).status_code == 404
    client.post(reverse("tickets:canned_delete", args=[theirs.pk]))
    assert CannedResponse.objects.filter(pk=theirs.pk).exists()
