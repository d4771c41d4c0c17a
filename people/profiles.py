"""What an agent may do: the one place that answers it (``has_feature``).

An agent with an access profile has exactly the profile's features, whatever their role
(a profile narrows a supervisor and widens an agent). Without a profile, the role decides,
as it did before profiles existed: supervisors and administrators have every feature,
agents the everyday ones (below). Customers and visitors have none.

Refusals: a feature the agent's *profile* leaves out answers 403 (they know the page
exists, their profile says no); a feature their *role* lacks answers 404, as before.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.functional import SimpleLazyObject

from people.features import Feature
from people.models import AccessProfile, AgentProfile, Role
from people.roles import APPROVE_REPLIES, is_agent, role_of, sees_all_pools

WRITE_ARTICLES = "knowledge.write_articles"

# Without a profile: what each feature asks of the agent (already known to be an agent).
ROLE_DEFAULTS: dict[Feature, Callable[..., bool]] = {
    Feature.REPORTS: lambda user: True,  # an agent's reports are their own figures
    Feature.APPROVALS: lambda user: user.has_perm(APPROVE_REPLIES),
    Feature.OVERDUE_DASHBOARD: sees_all_pools,
    Feature.MERGE: lambda user: True,
    Feature.BULK_ACTIONS: lambda user: True,
    Feature.CANNED_RESPONSES: sees_all_pools,
    Feature.PHONE_DESK: lambda user: True,
    Feature.KNOWLEDGE_AUTHORING: lambda user: user.has_perm(WRITE_ARTICLES),
    Feature.API_TOKENS: lambda user: True,
    Feature.ADMIN_SECTIONS: sees_all_pools,
}


def is_admin(user) -> bool:
    """Administrators' role (asked once per user object: menus ask it on every page)."""
    if not hasattr(user, "_is_admin"):
        user._is_admin = user.is_active and role_of(user) == Role.ADMIN
    return user._is_admin


def access_profile_of(user) -> AccessProfile | None:
    """The agent's profile, read once per user object (the request's user: once a request)."""
    if hasattr(user, "_access_profile"):
        return user._access_profile
    profile = None
    if user.is_authenticated:
        descriptor = get_user_model().agent_profile
        if descriptor.related.is_cached(user):
            agent_profile = getattr(user, "agent_profile", None)
        else:
            # One query for both, and the agent profile cached for everyone else's checks.
            agent_profile = (
                AgentProfile.objects.select_related("access_profile").filter(user=user).first()
            )
            descriptor.related.set_cached_value(user, agent_profile)
        profile = agent_profile.access_profile if agent_profile is not None else None
    user._access_profile = profile
    return profile


def has_feature(user, feature: Feature, *, without_profile: Callable[..., bool] | None = None):
    """Whether ``user`` may use ``feature``.

    ``without_profile`` replaces the role default for one page that asked more of a role
    than the feature's default before profiles existed (webhooks: administrators only).
    """
    profile = access_profile_of(user) if user.is_authenticated else None
    if not is_agent(user):
        return False
    if profile is not None:
        return profile.grants(feature)
    return bool((without_profile or ROLE_DEFAULTS[feature])(user))


def check_feature(user, feature: Feature, *, without_profile=None) -> None:
    """Raise 403 if the agent's profile leaves ``feature`` out, 404 if their role lacks it."""
    if has_feature(user, feature, without_profile=without_profile):
        return
    if is_agent(user) and access_profile_of(user) is not None:
        raise PermissionDenied
    raise Http404


def feature_required(feature: Feature, *, without_profile=None):
    """View decorator: sign in first, then ``check_feature``."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            check_feature(request.user, feature, without_profile=without_profile)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _admin_in_menus(user) -> bool:
    # Administrators are staff (``create_agent``); asking the groups of every other
    # agent on every page would cost a query. The pages themselves ask ``is_admin``.
    return user.is_superuser or (user.is_staff and is_admin(user))


class FeatureSet:
    """The signed-in user's features for templates: ``{% if features.reports %}``."""

    def __init__(self, user):
        self.user = user
        self._known: dict[str, bool] = {}

    # Pages whose role default differs from their feature's (see ``has_feature``).
    PAGES = {
        "webhooks": (Feature.ADMIN_SECTIONS, _admin_in_menus),
        "mailboxes": (Feature.ADMIN_SECTIONS, _admin_in_menus),
    }

    def __getitem__(self, name: str) -> bool:
        if name not in self._known:
            if name in self.PAGES:
                feature, without_profile = self.PAGES[name]
            elif name in Feature.values:
                feature, without_profile = Feature(name), None
            else:
                raise KeyError(name)
            self._known[name] = has_feature(self.user, feature, without_profile=without_profile)
        return self._known[name]


def features(request) -> dict:
    """Template context processor: ``features`` and ``is_admin`` for menus and buttons."""
    user = request.user
    return {
        "features": FeatureSet(user),
        "edits_profiles": SimpleLazyObject(lambda: user.is_authenticated and _admin_in_menus(user)),
    }
