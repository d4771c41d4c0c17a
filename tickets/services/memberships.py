"""Pool memberships that follow access profiles (``people.AccessProfile.pools``)."""

from django.db import transaction

from people.models import AccessProfile, AgentProfile
from tickets.models import PoolMembership


@transaction.atomic
def follow_access_profiles(user_ids) -> None:
    """Make each of these agents a member of exactly their profile's pools.

    Agents without a profile, or whose profile lists no pools, keep the memberships set
    for them one by one. A kept membership keeps its pull priority. Safe to re-run.
    """
    holders = dict(
        AgentProfile.objects.filter(user_id__in=user_ids, access_profile__isnull=False).values_list(
            "user_id", "access_profile_id"
        )
    )
    pools_of: dict[int, set[int]] = {}
    through = AccessProfile.pools.through
    for profile_id, pool_id in through.objects.filter(
        accessprofile_id__in=set(holders.values())
    ).values_list("accessprofile_id", "pool_id"):
        pools_of.setdefault(profile_id, set()).add(pool_id)
    wanted = {
        user_id: pools_of[profile_id]
        for user_id, profile_id in holders.items()
        if pools_of.get(profile_id)
    }
    if not wanted:
        return
    have: dict[int, set[int]] = {user_id: set() for user_id in wanted}
    stale = []
    for pk, user_id, pool_id in PoolMembership.objects.filter(user_id__in=wanted).values_list(
        "pk", "user_id", "pool_id"
    ):
        have[user_id].add(pool_id)
        if pool_id not in wanted[user_id]:
            stale.append(pk)
    PoolMembership.objects.filter(pk__in=stale).delete()
    PoolMembership.objects.bulk_create(
        PoolMembership(user_id=user_id, pool_id=pool_id)
        for user_id, pools in wanted.items()
        for pool_id in sorted(pools - have[user_id])
    )
