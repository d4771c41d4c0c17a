"""Who may do what, read from groups and permissions (never from ad-hoc flags)."""

from django.db.models import Q

from people.models import Role

SEE_ALL_POOLS = "people.see_all_pools"


def sees_all_pools_q() -> Q:
    """Users who hold ``SEE_ALL_POOLS``, through a group or their own (a filter on users)."""
    app_label, codename = SEE_ALL_POOLS.split(".")
    group = {"groups__permissions__codename": codename}
    own = {"user_permissions__codename": codename}
    return Q(**group, groups__permissions__content_type__app_label=app_label) | Q(
        **own, user_permissions__content_type__app_label=app_label
    )


APPROVE_REPLIES = "people.approve_reply"


def role_of(user) -> Role | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser or user.groups.filter(name="Administrators").exists():
        return Role.ADMIN
    if user.has_perm(SEE_ALL_POOLS):
        return Role.SUPERVISOR
    if user.is_staff or hasattr(user, "agent_profile"):
        return Role.AGENT
    return None


def is_agent(user) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or hasattr(user, "agent_profile"))
    )


def sees_all_pools(user) -> bool:
    return user.is_authenticated and user.has_perm(SEE_ALL_POOLS)


def is_junior(user) -> bool:
    profile = getattr(user, "agent_profile", None)
    return bool(profile and profile.is_junior)
