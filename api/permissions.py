"""What a token may do: read, or read and write; only as an agent whose pools it narrows."""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions

from api.models import ApiToken
from people.features import Feature
from people.profiles import has_feature
from people.roles import is_agent


class TokenScope(permissions.BasePermission):
    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, ApiToken):
            return False  # DRF answers 401 with the Bearer challenge
        if not is_agent(request.user):
            raise exceptions.PermissionDenied(_("The owner of this token is not an agent."))
        if not has_feature(request.user, Feature.API_TOKENS):
            raise exceptions.PermissionDenied(
                _("The access profile of this token's owner does not include the API.")
            )
        if request.method in permissions.SAFE_METHODS:
            return True
        if not token.can_write:
            raise exceptions.PermissionDenied(_("This token may only read."))
        return True


def feature_permission(feature: Feature) -> type[permissions.BasePermission]:
    """A DRF permission: the token's owner must have ``feature`` (``people.profiles``)."""

    class FeatureRequired(permissions.BasePermission):
        message = _("The access profile of this token's owner does not include this.")

        def has_permission(self, request, view):
            return has_feature(request.user, feature)

    FeatureRequired.__name__ = f"FeatureRequired_{feature.value}"
    return FeatureRequired
