"""Saved views: personal and shared filter sets as tabs, with counts the queue agrees with."""

import re

import pytest
from django.urls import reverse

from tests.conftest import _agent
from tests.factories import TicketFactory
from tickets.models import SavedView
from tickets.states import Priority, Status

QUEUE = reverse("tickets:queue")


def _tabs(client, **params):
    """The saved-view tabs of the queue page: name -> count."""
    page = client.get(QUEUE, params).content.decode()
    found = re.findall(
        r'data-saved-view="\d+">(?:<i[^>]*></i> )?([^<]+?) <span class="badge[^"]*">([^<]+)<',
        page,
    )
    return {name: count for name, count in found}


def _listed(client, query):
    page = client.get(f"{QUEUE}?{query}").content.decode()
    return page.count('class="form-check-input bulk-check"')


def test_saving_the_current_filters_makes_a_personal_tab(agent_client, agent, pool):
    TicketFactory(pool=pool, priority=Priority.URGENT)
    TicketFactory(pool=pool)
    response = agent_client.post(
        reverse("tickets:save_view"),
        {"name": "Urgent waiting", "query": "tab=waiting&priority=40&page=3", "shared": "on"},
    )
    view = SavedView.objects.get()
    assert view.owner == agent
    assert view.query == "priority=40&tab=waiting"  # the page is not kept
    assert not view.shared  # only supervisors share
    assert response.status_code == 302
    assert f"view={view.pk}" in response["Location"]
    assert _tabs(agent_client) == {"Urgent waiting": "1"}


@pytest.mark.parametrize(
    "query",
    ["tab=waiting", "tab=waiting&priority=40", "tab=mine", "tab=watched", "status=new&tab=all"],
)
def test_a_tabs_count_is_what_its_queue_lists(agent_client, agent, pool, other_pool, query):
    for priority in (Priority.URGENT, Priority.NORMAL, Priority.URGENT):
        TicketFactory(pool=pool, priority=priority)
    TicketFactory(pool=pool, assignee=agent, status=Status.TAKEN)
    # Not the agent's pool: counted nowhere.
    TicketFactory(pool=other_pool, priority=Priority.URGENT)
    SavedView.objects.create(name="V", owner=agent, query=query)
    assert _tabs(agent_client) == {"V": str(_listed(agent_client, query))}


def test_a_shared_view_counts_each_agents_own_pools(client, supervisor, agent, pool, other_pool):
    TicketFactory(pool=pool)
    TicketFactory(pool=other_pool)
    client.force_login(supervisor)
    client.post(
        reverse("tickets:save_view"),
        {"name": "Everything new", "query": "tab=all&status=new", "shared": "on"},
    )
    assert SavedView.objects.get().shared
    assert _tabs(client) == {"Everything new": "2"}
    client.force_login(agent)
    # The agent has no "all" tab: the view falls back to their own, and their pools only.
    assert _tabs(client) == {"Everything new": "0"}
    TicketFactory(pool=pool, assignee=agent, status=Status.NEW)
    assert _tabs(client) == {"Everything new": "1"}


def test_personal_views_are_only_their_owners(client, agent, pool):
    colleague = _agent("colleague", pools=[pool])
    view = SavedView.objects.create(name="Mine only", owner=agent, query="tab=waiting")
    client.force_login(colleague)
    assert _tabs(client) == {}
    rename = client.post(reverse("tickets:update_view", args=[view.pk]), {"name": "Stolen"})
    delete = client.post(reverse("tickets:delete_view", args=[view.pk]))
    assert rename.status_code == delete.status_code == 404
    view.refresh_from_db()
    assert view.name == "Mine only"


def test_a_shared_view_cannot_be_changed_by_the_agents_it_is_shared_with(client, supervisor, agent):
    view = SavedView.objects.create(name="Team", owner=supervisor, shared=True)
    client.force_login(agent)
    assert client.post(reverse("tickets:delete_view", args=[view.pk])).status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()


def test_the_owner_renames_updates_and_deletes(agent_client, agent):
    view = SavedView.objects.create(name="Old", owner=agent, query="tab=mine")
    agent_client.post(
        reverse("tickets:update_view", args=[view.pk]),
        {"name": "New", "query": "tab=waiting&priority=40", "shared": "on"},
    )
    view.refresh_from_db()
    assert (view.name, view.query, view.shared) == ("New", "priority=40&tab=waiting", False)
    agent_client.post(reverse("tickets:update_view", args=[view.pk]), {"name": "Renamed"})
    view.refresh_from_db()
    assert (view.name, view.query) == ("Renamed", "priority=40&tab=waiting")
    agent_client.post(reverse("tickets:delete_view", args=[view.pk]))
    assert not SavedView.objects.exists()


def test_a_supervisor_shares_and_unshares(client, supervisor):
    client.force_login(supervisor)
    view = SavedView.objects.create(name="S", owner=supervisor)
    client.post(reverse("tickets:update_view", args=[view.pk]), {"name": "S", "shared": "on"})
    view.refresh_from_db()
    assert view.shared
    client.post(reverse("tickets:update_view", args=[view.pk]), {"name": "S"})
    view.refresh_from_db()
    assert not view.shared


def test_a_saved_view_cannot_widen_access_with_a_foreign_pool(agent_client, agent, other_pool):
    TicketFactory(pool=other_pool)
    SavedView.objects.create(name="X", owner=agent, query=f"tab=all&pool={other_pool.pk}")
    assert _tabs(agent_client) == {"X": "0"}
