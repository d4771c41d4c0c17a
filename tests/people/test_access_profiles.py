"""Access profiles: the settings pages, what a profile grants, and pools that follow it."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from people.features import Feature
from people.models import AccessProfile
from people.profiles import has_feature
from people.services_profiles import (
    assign_access_profile,
    delete_access_profile,
    save_access_profile,
)
from tests.factories import PoolFactory
from tickets.models import PoolMembership

pytestmark = pytest.mark.django_db


def _pools_of(user):
    return set(PoolMembership.objects.filter(user=user).values_list("pool__name", flat=True))


def test_without_a_profile_the_role_decides(agent, supervisor, admin_user):
    assert has_feature(agent, Feature.REPORTS)
    assert has_feature(agent, Feature.MERGE)
    assert not has_feature(agent, Feature.OVERDUE_DASHBOARD)
    assert not has_feature(agent, Feature.APPROVALS)
    assert not has_feature(agent, Feature.ADMIN_SECTIONS)
    for user in (supervisor, admin_user):
        assert all(has_feature(user, feature) for feature in Feature)


def test_customers_have_no_feature(customer_user):
    assert not any(has_feature(customer_user, feature) for feature in Feature)


def test_a_profile_narrows_a_supervisor_and_widens_an_agent(agent, supervisor):
    narrow = save_access_profile(AccessProfile(name="N1"), pools=[], features=["merge"])
    wide = save_access_profile(
        AccessProfile(name="Lead"), pools=[], features=["overdue_dashboard", "approvals"]
    )
    assign_access_profile(narrow, agents=[supervisor])
    assign_access_profile(wide, agents=[agent])
    supervisor.refresh_from_db()
    agent.refresh_from_db()
    assert has_feature(supervisor, Feature.MERGE)
    assert not has_feature(supervisor, Feature.REPORTS)
    assert has_feature(agent, Feature.OVERDUE_DASHBOARD)
    assert has_feature(agent, Feature.APPROVALS)
    assert not has_feature(agent, Feature.REPORTS)


def test_an_admin_creates_a_profile_with_pools_features_and_agents(
    client, admin_user, agent, other_agent, pool, other_pool
):
    client.force_login(admin_user)
    assert client.get(reverse("profiles:new")).status_code == 200
    response = client.post(
        reverse("profiles:new"),
        {
            "name": "Atendente N1",
            "description": "First line",
            "pools": [other_pool.pk],
            "features": ["merge", "phone_desk", "not-a-feature"],
            "holders": [agent.pk],
        },
    )
    assert response.status_code == 400  # an unknown feature is refused, nothing saved
    assert not AccessProfile.objects.exists()
    response = client.post(
        reverse("profiles:new"),
        {
            "name": "Atendente N1",
            "pools": [other_pool.pk],
            "features": ["phone_desk", "merge"],
            "holders": [agent.pk],
        },
    )
    assert response["Location"] == reverse("profiles:list")
    profile = AccessProfile.objects.get()
    assert profile.features == ["merge", "phone_desk"]  # in the order of the list
    agent.agent_profile.refresh_from_db()
    assert agent.agent_profile.access_profile == profile
    # The agent now works in exactly the profile's pools.
    assert _pools_of(agent) == {"Hardware"}
    assert _pools_of(other_agent) == {"Hardware"}  # untouched: not a holder
    page = client.get(reverse("profiles:list"))
    assert "Atendente N1" in page.text
    assert "Hardware" in page.text


def test_changing_a_profiles_pools_moves_its_holders_and_keeps_priorities(agent, pool):
    third = PoolFactory(name="Network")
    PoolMembership.objects.filter(user=agent, pool=pool).update(pull_priority=3)
    profile = save_access_profile(AccessProfile(name="N1"), pools=[pool, third], features=[])
    assign_access_profile(profile, agents=[agent])
    assert _pools_of(agent) == {"Billing", "Network"}
    assert PoolMembership.objects.get(user=agent, pool=pool).pull_priority == 3
    save_access_profile(profile, pools=[third], features=[])
    assert _pools_of(agent) == {"Network"}


def test_a_profile_without_pools_leaves_memberships_alone(agent, other_pool):
    PoolMembership.objects.create(user=agent, pool=other_pool)
    profile = save_access_profile(AccessProfile(name="Any"), pools=[], features=["merge"])
    assign_access_profile(profile, agents=[agent])
    assert _pools_of(agent) == {"Billing", "Hardware"}


def test_unticking_an_agent_takes_the_profile_away(client, admin_user, agent):
    profile = save_access_profile(AccessProfile(name="N1"), pools=[], features=[], holders=[agent])
    client.force_login(admin_user)
    page = client.get(reverse("profiles:edit", args=[profile.pk]))
    assert f'id="holder-{agent.pk}" checked' in page.text
    client.post(reverse("profiles:edit", args=[profile.pk]), {"name": "N1", "features": []})
    agent.agent_profile.refresh_from_db()
    assert agent.agent_profile.access_profile is None


def test_ticking_a_holder_of_another_profile_moves_them(agent):
    first = save_access_profile(AccessProfile(name="A"), pools=[], features=[], holders=[agent])
    second = save_access_profile(AccessProfile(name="B"), pools=[], features=[], holders=[agent])
    agent.agent_profile.refresh_from_db()
    assert agent.agent_profile.access_profile == second
    assert not first.holders.exists()


def test_a_held_profile_is_deleted_only_after_choosing_where_its_agents_go(
    client, admin_user, agent
):
    held = save_access_profile(AccessProfile(name="Old"), pools=[], features=[], holders=[agent])
    other = save_access_profile(AccessProfile(name="New"), pools=[], features=["merge"])
    with pytest.raises(ValidationError):
        delete_access_profile(held)
    client.force_login(admin_user)
    url = reverse("profiles:delete", args=[held.pk])
    assert "1 agent holds this profile" in client.get(url).text
    assert client.post(url, {}).status_code == 400
    assert AccessProfile.objects.filter(pk=held.pk).exists()
    response = client.post(url, {"move_holders_to": other.pk})
    assert response["Location"] == reverse("profiles:list")
    assert not AccessProfile.objects.filter(pk=held.pk).exists()
    agent.agent_profile.refresh_from_db()
    assert agent.agent_profile.access_profile == other


def test_an_unheld_profile_is_deleted_at_once(client, admin_user):
    profile = save_access_profile(AccessProfile(name="Unused"), pools=[], features=[])
    client.force_login(admin_user)
    client.post(reverse("profiles:delete", args=[profile.pk]))
    assert not AccessProfile.objects.exists()


def test_the_settings_pages_run_a_fixed_number_of_queries(
    client, admin_user, agent, pool, django_assert_max_num_queries
):
    client.force_login(admin_user)
    for index in range(3):
        save_access_profile(
            AccessProfile(name=f"P{index}"), pools=[pool], features=["merge"], holders=[agent]
        )
    with django_assert_max_num_queries(8):
        page = client.get(reverse("profiles:list"))
    assert page.status_code == 200
    profile = AccessProfile.objects.first()
    with django_assert_max_num_queries(10):
        assert client.get(reverse("profiles:edit", args=[profile.pk])).status_code == 200
