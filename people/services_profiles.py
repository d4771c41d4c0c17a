"""Access profiles: save one, hand it to agents, delete it (moving its holders first)."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from people.features import Feature
from people.models import AccessProfile, AgentProfile
from people.signals import access_profiles_applied


def _forget(users) -> None:
    # The caller's user objects read their profile afresh (``people.profiles`` caches it).
    for user in users:
        user.__dict__.pop("_access_profile", None)
        user.__dict__.pop("_is_admin", None)
        user._state.fields_cache.pop("agent_profile", None)


def _apply(user_ids: Iterable[int]) -> None:
    ids = sorted(set(user_ids))
    if ids:
        access_profiles_applied.send(sender=AccessProfile, users=ids)


@transaction.atomic
def save_access_profile(profile: AccessProfile, *, pools, features: Iterable[str], holders=None):
    """Save ``profile`` with its pools and features; with ``holders`` (users), make them
    exactly its holders (agents taken off it keep their pools, now set by hand). Holders'
    pool memberships follow the profile's pools. Safe to re-run."""
    profile.features = [feature for feature in Feature.values if feature in set(features)]
    profile.save()
    profile.pools.set(pools)
    before = set(profile.holders.values_list("user_id", flat=True)) if profile.pk else set()
    if holders is not None:
        wanted = {user.pk for user in holders}
        AgentProfile.objects.filter(access_profile=profile).exclude(user_id__in=wanted).update(
            access_profile=None
        )
        AgentProfile.objects.filter(user_id__in=wanted).update(access_profile=profile)
        _forget(holders)
        before = wanted
    _apply(before)
    return profile


@transaction.atomic
def assign_access_profile(profile: AccessProfile | None, *, agents) -> int:
    """Give ``profile`` (None: back to their role's defaults) to ``agents`` (users); their
    pools follow a profile that has pools. Returns how many agents changed."""
    ids = [user.pk for user in agents]
    changed = (
        AgentProfile.objects.filter(user_id__in=ids)
        .exclude(access_profile=profile)
        .update(access_profile=profile)
    )
    _forget(agents)
    _apply(ids)
    return changed


@transaction.atomic
def delete_access_profile(profile: AccessProfile, *, move_holders_to=None) -> None:
    """Delete ``profile``; its holders move to ``move_holders_to`` (None: refused while
    anyone holds it, so no agent silently falls back to their role's defaults)."""
    holders = list(profile.holders.values_list("user_id", flat=True))
    if holders:
        if move_holders_to is None or move_holders_to.pk == profile.pk:
            raise ValidationError(
                _("Agents hold this profile: choose the profile they move to first.")
            )
        AgentProfile.objects.filter(user_id__in=holders).update(access_profile=move_holders_to)
        _apply(holders)
    profile.delete()
